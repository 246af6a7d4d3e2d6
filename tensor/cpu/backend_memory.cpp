// CPU backend: identity, support table, and the memory kernels (fill, strided copy with dtype
// conversion, strided accumulate). One thread walks each copy in row-major order.
#include "tensor/cpu/backend.h"
#include "tensor/cpu/strided.h"
#include "tensor/dispatch.h"

namespace gb {
Backend& cpu_backend() {
  static cpu::CpuBackend b;
  return b;
}
}  // namespace gb

namespace gb::cpu {

const char* CpuBackend::name() const { return "cpu"; }
Device CpuBackend::device() const { return Device::CPU; }

bool CpuBackend::supports(Kernel k, DType dt) const {
  // Memory kernels move any dtype; arithmetic runs in f32 and f64.
  if (k == Kernel::fill || k == Kernel::copy) return true;
  return dt == DType::F32 || dt == DType::F64;
}

void CpuBackend::fill(Tensor& y, double v) {
  GB_DISPATCH_ALL(y.dtype(), "fill", {
    T* p = y.data<T>();
    const int64_t s = y.dim() ? y.strides().back() : 1;
    for_each_run<1>(y.shape(), {y.strides().data()}, [&](const int64_t* off, int64_t len) {
      for (int64_t i = 0; i < len; ++i) p[off[0] + i * s] = (T)v;
    });
  });
}

template <class D, class S>
static void copy_strided(const Shape& shape, D* dst, const Shape& dst_st, const S* src, const Shape& src_st) {
  for_each_run<2>(shape, {dst_st.data(), src_st.data()}, [&](const int64_t* off, int64_t len) {
    const int64_t ds = shape.empty() ? 1 : dst_st.back(), ss = shape.empty() ? 1 : src_st.back();
    D* d = dst + off[0];
    const S* s = src + off[1];
    for (int64_t i = 0; i < len; ++i) d[i * ds] = (D)s[i * ss];
  });
}

void CpuBackend::copy(Tensor& y, const Tensor& x) {
  GB_DISPATCH_ALL(y.dtype(), "copy", {
    using DT = T;
    DT* d = y.data<DT>();
    GB_DISPATCH_ALL(x.dtype(), "copy", { copy_strided<DT, T>(y.shape(), d, y.strides(), x.data<T>(), x.strides()); });
  });
}

void CpuBackend::accumulate(Tensor& y, const Tensor& x) {
  check_same_dtype(y, x, "accumulate");
  GB_DISPATCH_FLOAT(y.dtype(), "accumulate", {
    T* d = y.data<T>();
    const T* s = x.data<T>();
    const Shape& dst_st = y.strides();
    const Shape& gst = x.strides();
    const int64_t a = y.dim() ? dst_st.back() : 1, b = x.dim() ? gst.back() : 1;
    for_each_run<2>(y.shape(), {dst_st.data(), gst.data()}, [&](const int64_t* off, int64_t len) {
      for (int64_t i = 0; i < len; ++i) d[off[0] + i * a] += s[off[1] + i * b];
    });
  });
}

}  // namespace gb::cpu

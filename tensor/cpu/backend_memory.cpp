// CPU backend: identity, support table, and the memory kernels (fill, strided copy with dtype
// conversion, strided accumulate). Contiguous operands run as flat loops (memset / memcpy where the
// bytes allow) split across threads; strided ones split their leading dimensions across threads
// (parallel_runs). Every destination element is written by one thread, so the results do not depend
// on the thread count; a destination that aliases itself (stride 0) is walked by one thread.
#include <cstring>
#include <type_traits>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/parallel.h"
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

namespace {
constexpr int64_t kGrain = int64_t(1) << 15;  // elements per thread below which threading costs more

// Walks the runs of an operand pair (or one operand) on one thread or several, as the destination allows.
template <int NOPS, class Fn>
void runs(const Shape& shape, const Shape& dst_st, const std::array<const int64_t*, NOPS>& st, Fn&& fn) {
  if (writes_disjoint(shape, dst_st))
    parallel_runs<NOPS>(shape, st, fn);
  else
    for_each_run<NOPS>(shape, st, fn);
}
}  // namespace

void CpuBackend::fill(Tensor& y, double v) {
  GB_DISPATCH_ALL(y.dtype(), "fill", {
    T* p = y.data<T>();
    if (y.is_contiguous()) {
      const int64_t n = y.numel();
      const T tv = (T)v;
      // Zero of an arithmetic type is all-zero bytes except -0.0, which (T)v == 0 also matches: test the bits.
      T zero{};
      const bool bytes_zero = std::memcmp(&tv, &zero, sizeof(T)) == 0;
      parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
        if (bytes_zero)
          std::memset(p + b, 0, sizeof(T) * (size_t)(e - b));
        else
          std::fill(p + b, p + e, tv);
      });
      return;
    }
    const int64_t s = y.dim() ? y.strides().back() : 1;
    runs<1>(y.shape(), y.strides(), {y.strides().data()}, [&](const int64_t* off, int64_t len) {
      for (int64_t i = 0; i < len; ++i) p[off[0] + i * s] = (T)v;
    });
  });
}

template <class D, class S>
static void copy_strided(const Shape& shape, D* dst, const Shape& dst_st, const S* src, const Shape& src_st) {
  const int64_t ds = shape.empty() ? 1 : dst_st.back(), ss = shape.empty() ? 1 : src_st.back();
  const Shape c = contiguous_strides(shape);
  if (dst_st == c && src_st == c) {  // both dense in the same order: one flat loop
    const int64_t n = numel(shape);
    parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
      if constexpr (std::is_same_v<D, S>)
        std::memcpy(dst + b, src + b, sizeof(D) * (size_t)(e - b));
      else
        for (int64_t i = b; i < e; ++i) dst[i] = (D)src[i];
    });
    return;
  }
  runs<2>(shape, dst_st, {dst_st.data(), src_st.data()}, [&](const int64_t* off, int64_t len) {
    D* d = dst + off[0];
    const S* s = src + off[1];
    if (ds == 1 && ss == 1) {
      for (int64_t i = 0; i < len; ++i) d[i] = (D)s[i];
    } else {
      for (int64_t i = 0; i < len; ++i) d[i * ds] = (D)s[i * ss];
    }
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
    const Shape c = contiguous_strides(y.shape());
    if (dst_st == c && gst == c) {
      parallel_for(y.numel(), kGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) d[i] += s[i];
      });
      return;
    }
    runs<2>(y.shape(), dst_st, {dst_st.data(), gst.data()}, [&](const int64_t* off, int64_t len) {
      T* dd = d + off[0];
      const T* ss = s + off[1];
      if (a == 1 && b == 1) {
        for (int64_t i = 0; i < len; ++i) dd[i] += ss[i];
      } else {
        for (int64_t i = 0; i < len; ++i) dd[i * a] += ss[i * b];
      }
    });
  });
}

}  // namespace gb::cpu

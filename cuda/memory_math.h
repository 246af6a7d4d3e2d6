// The arithmetic of the CUDA memory kernels (fill, strided copy with dtype conversion, strided accumulate), plain C++ shared
// by the GPU (cuda/memory.cu) and its CPU emulation (tests/harness/cuda_emu.h); see
// cuda/kernel_common.h. One item per element of y; offsets from gb::strided_offset.
#pragma once
#include <cstdint>

#include "cuda/kernel_common.h"
#include "tensor/backend.h"

namespace gb::cuda {

template <class T>
struct FillItem {
  T* y;
  Strided dy;
  T v;
  GB_HD void operator()(int64_t i) const { y[offset_of(dy, i)] = v; }
};

// y = x converted to y's type (a plain C++ conversion, as the CPU's copy: float -> int truncates).
template <class TY, class TX>
struct CopyItem {
  TY* y;
  Strided dy;
  const TX* x;
  Strided dx;
  GB_HD void operator()(int64_t i) const { y[offset_of(dy, i)] = (TY)x[offset_of(dx, i)]; }
};

// y (strided) += x (strided, same shape). Distinct flat indices of y never alias in a gradient
// buffer (views of a contiguous buffer without stride 0), so items never collide.
template <class T>
struct AccumulateItem {
  T* y;
  Strided dy;
  const T* x;
  Strided dx;
  GB_HD void operator()(int64_t i) const { y[offset_of(dy, i)] += x[offset_of(dx, i)]; }
};

// Runs body(T{}) for f32, f64, i32 and u8 (8-bit images).
template <class F>
void dispatch_mem(DType dt, const char* what, F&& body) {
  if (dt == DType::I32)
    body(int32_t{});
  else if (dt == DType::U8)
    body(uint8_t{});
  else
    dispatch_float(dt, what, body);
}

template <class Launch>
void fill_impl(const Launch& launch, Tensor& y, double v) {
  dispatch_mem(y.dtype(), "fill", [&](auto t) {
    using T = decltype(t);
    launch(y.numel(), FillItem<T>{y.data<T>(), strided(y), (T)v});
  });
}

template <class Launch>
void copy_impl(const Launch& launch, Tensor& y, const Tensor& x) {
  dispatch_mem(y.dtype(), "copy", [&](auto ty) {
    dispatch_mem(x.dtype(), "copy", [&](auto tx) {
      using TY = decltype(ty);
      using TX = decltype(tx);
      launch(y.numel(), CopyItem<TY, TX>{y.data<TY>(), strided(y), x.data<TX>(), strided(x)});
    });
  });
}

template <class Launch>
void accumulate_impl(const Launch& launch, Tensor& y, const Tensor& x) {
  dispatch_float(y.dtype(), "accumulate", [&](auto t) {
    using T = decltype(t);
    launch(y.numel(), AccumulateItem<T>{y.data<T>(), strided(y), x.data<T>(), strided(x)});
  });
}

}  // namespace gb::cuda

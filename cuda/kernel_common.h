// What every CUDA kernel of the backend shares, in plain C++ (no CUDA headers), so the CPU can run it:
//
//   Each kernel family's arithmetic lives in cuda/<family>_math.h as *item functors* (a struct of
//   pointers and sizes with a GB_HD `operator()(int64_t i)` that computes item i: one output element,
//   one row, one channel) and one host-side *impl* template per backend method, written against a
//   launcher: `launch(n, functor)` runs items 0..n-1. Launches are ordered (one stream), so an impl
//   may launch several passes. cuda/<family>.cu instantiates the impl with DeviceLaunch (cuda/launch.h:
//   one GPU thread per item); the op harness instantiates the very same impl with a serial host loop
//   (tests/harness/cuda_emu.h, column "cuda-emu"), so every line of arithmetic a GPU would run is
//   checked against the CPU reference on machines without a GPU. What only a GPU can check: the
//   launcher, device memory and the compiled device code (scripts/gpu-check.sh).
//
// Determinism: items never write the same element (no atomics); a reduction is one item walking its
// elements in a fixed order, or fixed partial sums combined in a fixed order.
#pragma once
#include <math.h>

#include <cstdint>

#include "tensor/error.h"
#include "tensor/geometry.h"
#include "tensor/tensor.h"

namespace gb::cuda {

// A strided view passed by value: shape and element strides, up to kMaxDims dims.
struct Strided {
  int nd = 0;
  int64_t shape[kMaxDims] = {0};
  int64_t st[kMaxDims] = {0};
};
inline Strided strided(const Tensor& t) {
  Strided s;
  s.nd = (int)t.dim();
  for (int d = 0; d < s.nd; ++d) {
    s.shape[d] = t.shape()[d];
    s.st[d] = t.strides()[d];
  }
  return s;
}
// Element offset of flat (row-major) index i of the view `s` describes.
GB_HD inline int64_t offset_of(const Strided& s, int64_t i) { return strided_offset(i, s.nd, s.shape, s.st); }

// Math on f32 and f64 that means the same function on the host and on the device: the C library's
// names (expf / exp, ...), which CUDA provides for device code and the CPU reference's std:: calls
// resolve to. Use m::exp(v) etc. in item functors, never std:: (not device functions) or bare names.
namespace m {
GB_HD inline float exp(float v) { return ::expf(v); }
GB_HD inline double exp(double v) { return ::exp(v); }
GB_HD inline float log(float v) { return ::logf(v); }
GB_HD inline double log(double v) { return ::log(v); }
GB_HD inline float sqrt(float v) { return ::sqrtf(v); }
GB_HD inline double sqrt(double v) { return ::sqrt(v); }
GB_HD inline float tanh(float v) { return ::tanhf(v); }
GB_HD inline double tanh(double v) { return ::tanh(v); }
GB_HD inline double erf(double v) { return ::erf(v); }
GB_HD inline double pow(double a, double b) { return ::pow(a, b); }
}  // namespace m

// Every tensor a kernel touches must live on the backend's device: a host pointer handed to a GPU
// kernel is an illegal access reported late and far from its cause. Each backend method checks its
// tensor arguments (undefined ones are skipped; the few the contract keeps on the host, such as
// dice_sums' I, Z, Y, are not passed). Non-tensor arguments are ignored.
inline void check_device_arg(const char* kernel, Device d, const Tensor& t) {
  if (t.defined() && t.device() != d)
    fail("cuda kernel '", kernel, "': an argument ", t.desc(), " is on ", device_name(t.device()), ", the kernel runs on ",
         device_name(d), " (an op mixed devices: inputs must be on one device)");
}
template <class A>
void check_device_arg(const char*, Device, const A&) {}
template <class... A>
void check_devices(const char* kernel, Device d, const A&... a) {
  (check_device_arg(kernel, d, a), ...);
}

// Runs body(T{}) for the float dtype dt (f32 or f64); other dtypes fail naming the kernel.
template <class F>
void dispatch_float(DType dt, const char* what, F&& body) {
  if (dt == DType::F32)
    body(float{});
  else if (dt == DType::F64)
    body(double{});
  else
    fail("cuda ", what, ": unsupported dtype ", dtype_name(dt));
}

}  // namespace gb::cuda

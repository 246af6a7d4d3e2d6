// Launch helpers shared by the CUDA kernels: a 1-D grid over n items, and a strided-tensor
// descriptor passed by value (shape and element strides, up to kMaxDims dims).
#pragma once
#include <cstdint>

#include "cuda/check.h"
#include "tensor/geometry.h"
#include "tensor/tensor.h"

namespace gb::cuda {

constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n) { return (unsigned)((n + kThreads - 1) / kThreads); }

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

// Runs body.template operator()<T>() for the float dtype of t (f32 or f64).
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

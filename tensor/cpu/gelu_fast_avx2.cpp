// The f32 GELU loops of tensor/cpu/gelu_fast.h compiled for AVX2 (CMake gives *_avx2.cpp the flags).
#include "tensor/cpu/gelu_fast.h"

namespace gb::cpu {
void gelu_f32_forward_avx2(const float* x, float* y, int64_t n) { gelu_f32_forward_loop(x, y, n); }
void gelu_f32_backward_add_avx2(const float* x, const float* gy, float* gx, int64_t n) {
  gelu_f32_backward_loop(x, gy, gx, n);
}
}  // namespace gb::cpu

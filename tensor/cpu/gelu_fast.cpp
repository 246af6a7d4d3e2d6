// Dispatch of the f32 GELU loops (tensor/cpu/gelu_fast.h) to the widest instruction set present, and
// the baseline (SSE2) build. Results differ across instruction sets by rounding (FMA contraction),
// never across thread counts: each element is computed alone.
#include "tensor/cpu/gelu_fast.h"

#include "tensor/cpu/gemm_kernels.h"

namespace gb::cpu {

void gelu_f32_forward(const float* x, float* y, int64_t n) {
  if (cpu_has_avx512())
    gelu_f32_forward_avx512(x, y, n);
  else if (cpu_has_avx2_fma())
    gelu_f32_forward_avx2(x, y, n);
  else
    gelu_f32_forward_loop(x, y, n);
}

void gelu_f32_backward_add(const float* x, const float* gy, float* gx, int64_t n) {
  if (cpu_has_avx512())
    gelu_f32_backward_add_avx512(x, gy, gx, n);
  else if (cpu_has_avx2_fma())
    gelu_f32_backward_add_avx2(x, gy, gx, n);
  else
    gelu_f32_backward_loop(x, gy, gx, n);
}

}  // namespace gb::cpu

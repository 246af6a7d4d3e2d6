// Dispatch of the f32 row softmax loops (tensor/cpu/softmax_fast.h) to the widest instruction set
// present, and the baseline (SSE2) build.
#include "tensor/cpu/softmax_fast.h"

#include "tensor/cpu/gemm_kernels.h"

namespace gb::cpu {

void softmax_f32_rows(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  if (cpu_has_avx512())
    softmax_f32_rows_avx512(x, y, rows, n, log);
  else if (cpu_has_avx2_fma())
    softmax_f32_rows_avx2(x, y, rows, n, log);
  else
    softmax_f32_rows_loop(x, y, rows, n, log);
}

void softmax_f32_rows_backward_add(const float* gy, const float* y, float* gx, int64_t rows, int64_t n, bool log) {
  if (cpu_has_avx512())
    softmax_f32_rows_backward_add_avx512(gy, y, gx, rows, n, log);
  else if (cpu_has_avx2_fma())
    softmax_f32_rows_backward_add_avx2(gy, y, gx, rows, n, log);
  else
    softmax_f32_rows_backward_loop(gy, y, gx, rows, n, log);
}

}  // namespace gb::cpu

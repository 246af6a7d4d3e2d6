// The f32 row softmax loops of tensor/cpu/softmax_fast.h compiled for AVX512 (CMake gives *_avx512.cpp the flags).
#include "tensor/cpu/softmax_fast.h"

namespace gb::cpu {
void softmax_f32_rows_avx512(const float* x, float* y, int64_t rows, int64_t n, bool log) {
  softmax_f32_rows_loop(x, y, rows, n, log);
}
void softmax_f32_rows_backward_add_avx512(const float* gy, const float* y, float* gx, int64_t rows, int64_t n,
                                        bool log) {
  softmax_f32_rows_backward_loop(gy, y, gx, rows, n, log);
}
}  // namespace gb::cpu

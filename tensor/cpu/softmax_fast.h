// Softmax and log-softmax over contiguous f32 rows for the optimised CPU kernels (inner = 1: the
// attention softmax of every ViT block, [heads * tokens] rows of `tokens` scores). The reference
// (tensor/cpu/softmax.cpp) calls glibc's scalar expf per element and sums in one double chain: 2.1 ms
// per R50-ViT-B_16 block at 2 threads, about 4 % of the whole forward. Here the row max, the
// exponentials (exp_f32 of gelu_fast.h, relative error about 1e-7) and the sum vectorise:
//   max   kRowLanes lanewise maxima, then their max (max is exact: the order cannot change it);
//   sum   kRowLanes double accumulators, lane k taking elements k, k + kRowLanes, ..., combined in a
//         fixed tree: the order depends only on n, never on threads (each row is one thread's).
// The op harness compares these with the reference on every softmax case (cpu-opt vs cpu-ref).
// Results differ across instruction sets by rounding (FMA contraction), never across thread counts.
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/cpu/gelu_fast.h"

namespace gb::cpu {

// rows x n, row r at x + r * n; y may not alias x. log: y = (x - max) - log(sum exp(x - max)).
void softmax_f32_rows(const float* x, float* y, int64_t rows, int64_t n, bool log);
// gx += y * (gy - sum(gy * y)) per row (softmax), gx += gy - exp(y) * sum(gy) (log-softmax).
void softmax_f32_rows_backward_add(const float* gy, const float* y, float* gx, int64_t rows, int64_t n, bool log);
// Each instruction set's build (call only what the CPU has: cpu_has_avx2_fma / cpu_has_avx512).
void softmax_f32_rows_avx2(const float* x, float* y, int64_t rows, int64_t n, bool log);
void softmax_f32_rows_backward_add_avx2(const float* gy, const float* y, float* gx, int64_t rows, int64_t n,
                                        bool log);
void softmax_f32_rows_avx512(const float* x, float* y, int64_t rows, int64_t n, bool log);
void softmax_f32_rows_backward_add_avx512(const float* gy, const float* y, float* gx, int64_t rows, int64_t n,
                                          bool log);

constexpr int kRowLanes = 16;

static inline double row_lanes_combine(const double* a) {
  double b[8];
  for (int k = 0; k < 8; ++k) b[k] = a[k] + a[k + 8];
  return ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]));
}

// The loop bodies each instruction-set file compiles (restrict: the buffers never alias). static:
// each file keeps its own copy, compiled with its own flags (an inline copy shared at link time could
// hand AVX-512 code to the baseline path).
static inline void softmax_f32_rows_loop(const float* __restrict x, float* __restrict y, int64_t rows, int64_t n,
                                  bool log) {
  for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
    float m[kRowLanes];
    for (int k = 0; k < kRowLanes; ++k) m[k] = x[0];
    int64_t i = 0;
    for (; i + kRowLanes <= n; i += kRowLanes)
      for (int k = 0; k < kRowLanes; ++k) m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
    for (; i < n; ++i) m[0] = x[i] > m[0] ? x[i] : m[0];
    float mx = m[0];
    for (int k = 1; k < kRowLanes; ++k) mx = m[k] > mx ? m[k] : mx;
    // e = exp(x - max) goes to y (softmax: scaled below; log-softmax: overwritten below).
    double s[kRowLanes] = {0};
    i = 0;
    for (; i + kRowLanes <= n; i += kRowLanes)
      for (int k = 0; k < kRowLanes; ++k) {
        const float e = exp_f32(x[i + k] - mx);
        y[i + k] = e;
        s[k] += (double)e;
      }
    for (; i < n; ++i) {
      const float e = exp_f32(x[i] - mx);
      y[i] = e;
      s[i % kRowLanes] += (double)e;
    }
    const double sum = row_lanes_combine(s);
    if (log) {
      const double ls = std::log(sum);
      for (int64_t j = 0; j < n; ++j) y[j] = (float)((double)(x[j] - mx) - ls);
    } else {
      const float inv = (float)(1.0 / sum);
      for (int64_t j = 0; j < n; ++j) y[j] *= inv;
    }
  }
}

static inline void softmax_f32_rows_backward_loop(const float* __restrict gy, const float* __restrict y,
                                           float* __restrict gx, int64_t rows, int64_t n, bool log) {
  for (int64_t r = 0; r < rows; ++r, gy += n, y += n, gx += n) {
    double s[kRowLanes] = {0};
    int64_t i = 0;
    if (log) {
      for (; i + kRowLanes <= n; i += kRowLanes)
        for (int k = 0; k < kRowLanes; ++k) s[k] += (double)gy[i + k];
      for (; i < n; ++i) s[i % kRowLanes] += (double)gy[i];
      const float st = (float)row_lanes_combine(s);
      for (int64_t j = 0; j < n; ++j) gx[j] += gy[j] - exp_f32(y[j]) * st;
    } else {
      for (; i + kRowLanes <= n; i += kRowLanes)
        for (int k = 0; k < kRowLanes; ++k) s[k] += (double)gy[i + k] * (double)y[i + k];
      for (; i < n; ++i) s[i % kRowLanes] += (double)gy[i] * (double)y[i];
      const float st = (float)row_lanes_combine(s);
      for (int64_t j = 0; j < n; ++j) gx[j] += y[j] * (gy[j] - st);
    }
  }
}

}  // namespace gb::cpu

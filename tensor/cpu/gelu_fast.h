// GELU in f32 for the optimised CPU kernels: exp and erf as branch-free polynomials the compiler
// vectorises (glibc's erf/exp are scalar calls, and the reference computes GELU in double: 10x the
// time of a ReLU in the tiny model's step). The reference kernels (tensor/cpu/kernel_mode.h) keep the
// double formula; the op harness compares the two on every GELU case.
//   exp: Cody-Waite range reduction x = n ln2 + r, a degree-6 polynomial for e^r (Cephes expf), then
//        2^n from the exponent bits; relative error about 1e-7 on [-87.3, 88.7], 0 below, clamped above.
//   erf: Numerical Recipes' erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2) (fractional error
//        < 1.2e-7), erf = sign(x) (1 - erfc(|x|)): absolute error about 1e-7, which GELU scales by x/2.
#pragma once
#include <cstdint>
#include <cstring>

namespace gb::cpu {

inline float exp_f32(float x_in) {
  float x = x_in > -87.3f ? x_in : -87.3f;  // selects of computed values: max / min, no branch
  x = x < 88.7f ? x : 88.7f;
  // Round to nearest by adding and subtracting 1.5 * 2^23 (roundf is a library call on baseline
  // x86-64, which would stop the loop from vectorising). |x log2 e| < 2^22, so this is exact.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = ((int32_t)n + 127) << 23;
  float s;
  std::memcpy(&s, &e, sizeof s);
  return x_in < -87.3f ? 0.0f : p * s;  // below, e^x is under f32's normal range: flush to 0
}

inline float erf_f32(float x) {
  const float z = __builtin_fabsf(x);
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float erfc = t * exp_f32(-z * z + p);
  return __builtin_copysignf(1.0f - erfc, x);
}

// x Phi(x) and its derivative Phi(x) + x phi(x).
inline float gelu_f32(float x) { return 0.5f * x * (1.0f + erf_f32(x * 0.70710678118654752f)); }
inline float gelu_grad_f32(float x) {
  return 0.5f * (1.0f + erf_f32(x * 0.70710678118654752f)) + x * exp_f32(-0.5f * x * x) * 0.3989422804014327f;
}

// The loops over contiguous buffers, vectorised for the widest instruction set the CPU has
// (tensor/cpu/gelu_fast_avx512.cpp, _avx2.cpp, and the baseline SSE2 build in gelu_fast.cpp; those
// files need -fno-trapping-math to vectorise the selects, CMakeLists.txt says why).
// y = gelu(x); gx += gy * gelu'(x). y may not alias x, nor gx alias x or gy.
void gelu_f32_forward(const float* x, float* y, int64_t n);
void gelu_f32_backward_add(const float* x, const float* gy, float* gx, int64_t n);
// Each instruction set's build, for tests (call only what the CPU has: cpu_has_avx2_fma / _avx512).
void gelu_f32_forward_avx2(const float* x, float* y, int64_t n);
void gelu_f32_backward_add_avx2(const float* x, const float* gy, float* gx, int64_t n);
void gelu_f32_forward_avx512(const float* x, float* y, int64_t n);
void gelu_f32_backward_add_avx512(const float* x, const float* gy, float* gx, int64_t n);

// The loop bodies each instruction-set file compiles (restrict: the buffers never alias).
inline void gelu_f32_forward_loop(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_f32(x[i]);
}
inline void gelu_f32_backward_loop(const float* __restrict x, const float* __restrict gy, float* __restrict gx,
                                   int64_t n) {
  for (int64_t i = 0; i < n; ++i) gx[i] += gy[i] * gelu_grad_f32(x[i]);
}

}  // namespace gb::cpu

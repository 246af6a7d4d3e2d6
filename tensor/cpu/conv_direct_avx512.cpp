// AVX-512 kernels of the direct convolution (conv_direct.h): 16 floats (or 8 doubles) per vector, 32
// registers, so a forward tile is up to 8 output channels x 3 vectors (24 accumulators) and a
// weight-gradient group 8 channels x 3 taps; tails use masked loads and stores. The f64 set is the
// same templates over 8-lane double vectors (gradient checks and audits run f64).
#include <immintrin.h>

#include "tensor/cpu/conv_direct_kernels.h"

namespace gb::cpu {
namespace {

struct Avx512 {
  using T = float;
  using V = __m512;
  static constexpr int L = 16, kRegs = 32;
  static __mmask16 mask(int n) { return (__mmask16)((1u << n) - 1u); }
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V loadu(const float* p) { return _mm512_loadu_ps(p); }
  static V load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void store_n(float* p, V v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static void pin(V& v) { asm("" : "+v"(v)); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
};

struct Avx512d {
  using T = double;
  using V = __m512d;
  static constexpr int L = 8, kRegs = 32;
  static __mmask8 mask(int n) { return (__mmask8)((1u << n) - 1u); }
  static V zero() { return _mm512_setzero_pd(); }
  static V set1(double v) { return _mm512_set1_pd(v); }
  static V loadu(const double* p) { return _mm512_loadu_pd(p); }
  static V load_n(const double* p, int n) { return _mm512_maskz_loadu_pd(mask(n), p); }
  static void storeu(double* p, V v) { _mm512_storeu_pd(p, v); }
  static void store_n(double* p, V v, int n) { _mm512_mask_storeu_pd(p, mask(n), v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static void pin(V& v) { asm("" : "+v"(v)); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
};

}  // namespace

const DirectKernels<double>& direct_kernels_avx512_f64() {
  static const DirectKernels<double> k = conv_direct_detail::Direct<Avx512d>::kernels("avx512", 8);
  return k;
}

const DirectKernels<float>& direct_kernels_avx512() {
  static const DirectKernels<float> k = conv_direct_detail::Direct<Avx512>::kernels("avx512", 8);
  return k;
}

}  // namespace gb::cpu

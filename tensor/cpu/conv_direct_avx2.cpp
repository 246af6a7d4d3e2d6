// AVX2 + FMA kernels of the direct convolution (conv_direct.h): 8 floats (or 4 doubles) per vector, 16 registers,
// so blocks of at most 6 output channels (forward tile 6 x 2 vectors, weight-gradient group 6 x 1
// tap; 4 channels: 4 x 2 and 4 x 2); tails use maskload / maskstore.
#include <immintrin.h>

#include "tensor/cpu/conv_direct_kernels.h"

namespace gb::cpu {
namespace {

struct Avx2 {
  using T = float;
  using V = __m256;
  static constexpr int L = 8, kRegs = 16;
  static __m256i mask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static V loadu(const float* p) { return _mm256_loadu_ps(p); }
  static V load_n(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void store_n(float* p, V v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static void pin(V& v) { asm("" : "+x"(v)); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
};

struct Avx2d {
  using T = double;
  using V = __m256d;
  static constexpr int L = 4, kRegs = 16;
  static __m256i mask(int n) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)); }
  static V zero() { return _mm256_setzero_pd(); }
  static V set1(double v) { return _mm256_set1_pd(v); }
  static V loadu(const double* p) { return _mm256_loadu_pd(p); }
  static V load_n(const double* p, int n) { return _mm256_maskload_pd(p, mask(n)); }
  static void storeu(double* p, V v) { _mm256_storeu_pd(p, v); }
  static void store_n(double* p, V v, int n) { _mm256_maskstore_pd(p, mask(n), v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static void pin(V& v) { asm("" : "+x"(v)); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
};

}  // namespace

const DirectKernels<double>& direct_kernels_avx2_f64() {
  static const DirectKernels<double> k = conv_direct_detail::Direct<Avx2d>::kernels("avx2", 6);
  return k;
}

const DirectKernels<float>& direct_kernels_avx2() {
  static const DirectKernels<float> k = conv_direct_detail::Direct<Avx2>::kernels("avx2", 6);
  return k;
}

}  // namespace gb::cpu

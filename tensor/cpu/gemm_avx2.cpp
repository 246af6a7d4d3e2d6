// AVX2+FMA SGEMM and DGEMM. SGEMM micro-tile 6 x 16 (12 ymm accumulators, two B vectors, one A
// broadcast). Blocking: KC 256 keeps an A micro-panel (6 x 256 floats, 6 KiB) in L1 while packed B
// (KC x NC) sits in L2. DGEMM: 4 x 12, see Avx2DKernel. Driver and determinism argument:
// gemm_driver.h.
#include <immintrin.h>

#include "tensor/cpu/gemm_driver.h"
#include "tensor/cpu/gemm_kernels.h"

namespace gb::cpu {
namespace {

// One vector of a C tile row: p = overwrite ? alpha*acc : fma(alpha, acc, beta*p). Full tiles use
// plain loads and stores, edge tiles the lane mask m: vmaskmovps/pd stores are microcoded and slow on
// AMD cores, so the masked forms are kept for the N edge only.
inline __attribute__((always_inline)) void update(float* p, __m256i m, __m256 acc, __m256 va, __m256 vb,
                                                  bool overwrite, bool full) {
  __m256 r = _mm256_mul_ps(va, acc);
  if (!overwrite)
    r = _mm256_fmadd_ps(va, acc, _mm256_mul_ps(vb, full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m)));
  if (full)
    _mm256_storeu_ps(p, r);
  else
    _mm256_maskstore_ps(p, m, r);
}
inline __attribute__((always_inline)) void update(double* p, __m256i m, __m256d acc, __m256d va, __m256d vb,
                                                  bool overwrite, bool full) {
  __m256d r = _mm256_mul_pd(va, acc);
  if (!overwrite)
    r = _mm256_fmadd_pd(va, acc, _mm256_mul_pd(vb, full ? _mm256_loadu_pd(p) : _mm256_maskload_pd(p, m)));
  if (full)
    _mm256_storeu_pd(p, r);
  else
    _mm256_maskstore_pd(p, m, r);
}

struct Avx2Kernel {
  using T = float;
  static constexpr int MR = 6, NR = 16;
  static constexpr int64_t KC = 256, MC = 6 * 24, NC = 512;

  static void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr,
                    float alpha, float beta, bool overwrite) {
    __m256 acc[MR][2];
    for (int r = 0; r < mr; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
      for (int r = 0; r < MR; ++r) {
        const __m256 av = _mm256_broadcast_ss(a + r);
        acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
      }
      a += MR;
      b += NR;
    }
    // Lane masks for the N edge (all ones on full tiles): lane i is live when i < nr (resp. nr - 8).
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const bool full = nr == NR;
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) break;
      float* cr = c + r * ldc;
      update(cr, m0, acc[r][0], va, vb, overwrite, full);
      update(cr + 8, m1, acc[r][1], va, vb, overwrite, full);
    }
  }
};

// DGEMM: 4 x 12 doubles (12 ymm accumulators, three B vectors, one A broadcast: all 16 registers).
// Four rows divide the small models' channel counts (M of the conv GEMMs, multiples of 8); measured
// on Zen 4 it matched or beat 6 x 8 (by up to 50% at M = 16, 32). KC 256: an A micro-panel is
// 4 x 256 doubles (8 KiB, L1), a B micro-panel 24 KiB; packed B 256 x 504 doubles (1 MiB, L2).
struct Avx2DKernel {
  using T = double;
  static constexpr int MR = 4, NR = 12;
  static constexpr int64_t KC = 256, MC = 4 * 36, NC = 12 * 42;

  static void micro(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int mr, int nr,
                    double alpha, double beta, bool overwrite) {
    __m256d acc[MR][3];
    // A C row of the tile is 12 doubles: two cache lines, three when it is not line aligned.
    for (int r = 0; r < mr; ++r) {
      const char* cr = reinterpret_cast<const char*>(c + r * ldc);
      _mm_prefetch(cr, _MM_HINT_T0);
      _mm_prefetch(cr + 64, _MM_HINT_T0);
      _mm_prefetch(cr + 95, _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = acc[r][2] = _mm256_setzero_pd();
    for (int64_t k = 0; k < kc; ++k) {
      const __m256d b0 = _mm256_load_pd(b), b1 = _mm256_load_pd(b + 4), b2 = _mm256_load_pd(b + 8);
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) {
        const __m256d av = _mm256_broadcast_sd(a + r);
        acc[r][0] = _mm256_fmadd_pd(av, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_pd(av, b1, acc[r][1]);
        acc[r][2] = _mm256_fmadd_pd(av, b2, acc[r][2]);
      }
      a += MR;
      b += NR;
    }
    // 64-bit lane masks for the N edge (all ones on full tiles): lane i of vector v is live when
    // 4v + i < nr.
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
    __m256i m[3];
    for (int v = 0; v < 3; ++v) m[v] = _mm256_cmpgt_epi64(_mm256_set1_epi64x(nr - 4 * v), lane);
    const __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
    const bool full = nr == NR;
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) break;
      double* cr = c + r * ldc;
      for (int v = 0; v < 3; ++v) update(cr + 4 * v, m[v], acc[r][v], va, vb, overwrite, full);
    }
  }
};

}  // namespace

void sgemm_avx2(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_detail::blocked_gemm<Avx2Kernel>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void dgemm_avx2(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
                const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_detail::blocked_gemm<Avx2DKernel>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace gb::cpu

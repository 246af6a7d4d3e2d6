// AVX-512 SGEMM and DGEMM. SGEMM micro-tile 14 x 32 (28 zmm accumulators, two B vectors, one
// broadcast of A per row and k). Blocking: KC 256 keeps an A micro-panel (14 x 256 floats, 14 KiB)
// in L1 while packed B (KC x NC, up to 1 MiB) sits in L2. DGEMM: 8 x 24, see Avx512DKernel. Driver
// and determinism argument: gemm_driver.h.
#include <immintrin.h>

#include "tensor/cpu/gemm_driver.h"
#include "tensor/cpu/gemm_kernels.h"

namespace gb::cpu {
namespace {

struct Avx512Kernel {
  using T = float;
  static constexpr int MR = 14, NR = 32;
  static constexpr int64_t KC = 256, MC = 14 * 12, NC = 1024;

  static void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr,
                    float alpha, float beta, bool overwrite) {
    __m512 acc[MR][2];
    // Start pulling the C tile in now so the update after the k loop does not wait on memory.
    for (int r = 0; r < mr; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        const __m512 av = _mm512_set1_ps(a[r]);
        acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
      }
      a += MR;
      b += NR;
    }
    // Column masks for the N edge; the same masked path serves full tiles (mask all ones).
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1u);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1u) : (__mmask16)0;
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) break;
      float* cr = c + r * ldc;
      if (overwrite) {
        _mm512_mask_storeu_ps(cr, m0, _mm512_mul_ps(va, acc[r][0]));
        _mm512_mask_storeu_ps(cr + 16, m1, _mm512_mul_ps(va, acc[r][1]));
      } else {
        const __m512 c0 = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, cr));
        const __m512 c1 = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16));
        _mm512_mask_storeu_ps(cr, m0, _mm512_fmadd_ps(va, acc[r][0], c0));
        _mm512_mask_storeu_ps(cr + 16, m1, _mm512_fmadd_ps(va, acc[r][1], c1));
      }
    }
  }
};

// DGEMM: 8 x 24 doubles (24 zmm accumulators, three B vectors, one A broadcast: 28 registers).
// Not the SGEMM's 14-row shape: the f64 runs are gradient checks of small models whose channel
// counts (M of the conv GEMMs) are multiples of 8, where 14-row tiles waste up to 40% (M = 16 fills
// 16 of 28 rows); measured on Zen 4, 8 x 24 beat 14 x 16 by 0-25% (most on M = 16, 32) and tied on
// large squares. KC 192: an A micro-panel is 8 x 192 doubles (12 KiB, L1), a B micro-panel 36 KiB
// streams from L2; packed B is 192 x 1008 doubles (1.5 MiB, L2 + L3, as measured best).
struct Avx512DKernel {
  using T = double;
  static constexpr int MR = 8, NR = 24;
  static constexpr int64_t KC = 192, MC = 8 * 20, NC = 24 * 42;

  static void micro(int64_t kc, const double* a, const double* b, double* c, int64_t ldc, int mr, int nr,
                    double alpha, double beta, bool overwrite) {
    __m512d acc[MR][3];
    // A C row of the tile is 24 doubles: three cache lines, four when it is not line aligned.
    for (int r = 0; r < mr; ++r) {
      const char* cr = reinterpret_cast<const char*>(c + r * ldc);
      _mm_prefetch(cr, _MM_HINT_T0);
      _mm_prefetch(cr + 64, _MM_HINT_T0);
      _mm_prefetch(cr + 128, _MM_HINT_T0);
      _mm_prefetch(cr + 191, _MM_HINT_T0);
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = acc[r][2] = _mm512_setzero_pd();
    for (int64_t k = 0; k < kc; ++k) {
      const __m512d b0 = _mm512_load_pd(b), b1 = _mm512_load_pd(b + 8), b2 = _mm512_load_pd(b + 16);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const __m512d av = _mm512_set1_pd(a[r]);
        acc[r][0] = _mm512_fmadd_pd(av, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_pd(av, b1, acc[r][1]);
        acc[r][2] = _mm512_fmadd_pd(av, b2, acc[r][2]);
      }
      a += MR;
      b += NR;
    }
    // Column masks for the N edge (all ones on full tiles): vector v holds columns 8v .. 8v + 7.
    __mmask8 m[3];
    for (int v = 0; v < 3; ++v) {
      const int live = nr - 8 * v;
      m[v] = live >= 8 ? (__mmask8)0xFF : live > 0 ? (__mmask8)((1u << live) - 1u) : (__mmask8)0;
    }
    const __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) break;
      double* cr = c + r * ldc;
      for (int v = 0; v < 3; ++v) {
        if (overwrite) {
          _mm512_mask_storeu_pd(cr + 8 * v, m[v], _mm512_mul_pd(va, acc[r][v]));
        } else {
          const __m512d cv = _mm512_mul_pd(vb, _mm512_maskz_loadu_pd(m[v], cr + 8 * v));
          _mm512_mask_storeu_pd(cr + 8 * v, m[v], _mm512_fmadd_pd(va, acc[r][v], cv));
        }
      }
    }
  }
};

}  // namespace

void sgemm_avx512(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_detail::blocked_gemm<Avx512Kernel>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void dgemm_avx512(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
                  const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_detail::blocked_gemm<Avx512DKernel>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace gb::cpu

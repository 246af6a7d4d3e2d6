// AVX-512 SGEMM: micro-tile 14 x 32 (28 zmm accumulators, two B vectors, one broadcast of A per
// row and k). Blocking: KC 256 keeps an A micro-panel (14 x 256 floats, 14 KiB) in L1 while packed B
// (KC x NC, up to 1 MiB) sits in L2. Driver and determinism argument: gemm_driver.h.
#include <immintrin.h>

#include "tensor/cpu/gemm_driver.h"
#include "tensor/cpu/gemm_kernels.h"

namespace gb::cpu {
namespace {

struct Avx512Kernel {
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

}  // namespace

void sgemm_avx512(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_detail::sgemm<Avx512Kernel>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace gb::cpu

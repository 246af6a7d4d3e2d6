// The cache-blocked SGEMM driver shared by the ISA files (GotoBLAS/BLIS scheme). Include it only
// from a file compiled for one ISA, with a Kernel type local to that file (an anonymous namespace),
// so every instantiation here is private to that file and carries that file's instruction set (only
// internal-linkage code comes from here: a shared inline copy could hand AVX-512 code to the AVX2 path).
//
// Kernel provides: MR, NR (micro-tile, NR along the contiguous C rows), KC, MC, NC (blocking), and
//   static void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
//                     int mr, int nr, float alpha, float beta, bool overwrite);
// computing acc[MR,NR] = a_panel^T b_panel over kc (k ascending), then for the valid mr x nr corner
//   c = overwrite ? alpha*acc : fma(alpha, acc, beta*c)     (overwrite: C is never read).
//
// Determinism: the tile grid is fixed by (MR, NR, KC) from the matrix origin; threads own disjoint
// column (or row) ranges aligned to that grid, and the K blocks are visited in ascending order with
// one accumulation per block, so every C element sees the same operations for any thread count.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <immintrin.h>

#include "tensor/cpu/parallel.h"
#include "tensor/cpu/gemm_kernels.h"

namespace gb::cpu::gemm_detail {

// Grow-only 64-byte aligned scratch, one per thread and kernel.
template <class Kern, int Which>
float* scratch(size_t n) {
  struct Buf {
    float* p = nullptr;
    size_t n = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf b;
  if (b.n < n) {
    std::free(b.p);
    size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
    b.p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!b.p) sgemm_alloc_failed(bytes);
    b.n = n;
  }
  return b.p;
}

// dst[j * lds + i] = src[i * ls + j] for an 8 x 8 block (AVX: both ISA files have it). static: each
// ISA file keeps its own copy, compiled with its own flags.
static inline __attribute__((always_inline)) void transpose8x8(const float* src, int64_t ls, float* dst, int64_t lds) {
  __m256 r0 = _mm256_loadu_ps(src + 0 * ls), r1 = _mm256_loadu_ps(src + 1 * ls);
  __m256 r2 = _mm256_loadu_ps(src + 2 * ls), r3 = _mm256_loadu_ps(src + 3 * ls);
  __m256 r4 = _mm256_loadu_ps(src + 4 * ls), r5 = _mm256_loadu_ps(src + 5 * ls);
  __m256 r6 = _mm256_loadu_ps(src + 6 * ls), r7 = _mm256_loadu_ps(src + 7 * ls);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst + 0 * lds, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + 1 * lds, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * lds, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * lds, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * lds, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * lds, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * lds, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * lds, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// The same for a block of n < 8 source rows (the rest read as zero): dst gets n lanes per row,
// written with masked stores so nothing past lane n is touched.
static inline __attribute__((always_inline)) void transpose_nx8(const float* src, int64_t ls, int64_t n, float* dst,
                                                               int64_t lds) {
  __m256 r[8];
  for (int64_t i = 0; i < 8; ++i) r[i] = i < n ? _mm256_loadu_ps(src + i * ls) : _mm256_setzero_ps();
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  _mm256_maskstore_ps(dst + 0 * lds, mask, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_maskstore_ps(dst + 1 * lds, mask, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_maskstore_ps(dst + 2 * lds, mask, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_maskstore_ps(dst + 3 * lds, mask, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_maskstore_ps(dst + 4 * lds, mask, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_maskstore_ps(dst + 5 * lds, mask, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_maskstore_ps(dst + 6 * lds, mask, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_maskstore_ps(dst + 7 * lds, mask, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// Packs `count` (<= width) streams of kc contiguous floats (stream i starts at src + i * ld) into a
// panel d [kc][width]: d[k * width + i] = src[i * ld + k], 8 x 8 register transposes where they fit,
// streams count..width-1 zero. Shared by pack_a (A stored [M, K]) and pack_b (B stored [N, K]).
// static: this header is compiled once per ISA file, and each copy must keep its own instructions.
static inline void pack_streams_transposed(const float* src, int64_t ld, int64_t count, int64_t kc, float* d,
                                           int64_t width) {
  int64_t r = 0;
  for (; r + 8 <= count; r += 8) {
    const float* s = src + r * ld;
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) transpose8x8(s + k, ld, d + k * width + r, width);
    for (; k < kc; ++k)
      for (int64_t i = 0; i < 8; ++i) d[k * width + r + i] = s[i * ld + k];
  }
  if (r < count) {  // the last count - r (< 8) streams
    const int64_t n = count - r;
    const float* s = src + r * ld;
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) transpose_nx8(s + k, ld, n, d + k * width + r, width);
    for (; k < kc; ++k)
      for (int64_t i = 0; i < n; ++i) d[k * width + r + i] = s[i * ld + k];
  }
  for (int64_t c = count; c < width; ++c)
    for (int64_t k = 0; k < kc; ++k) d[k * width + c] = 0.f;
}

// Packs op(A)[i0:i0+mc, p0:p0+kc] into micro-panels [ceil(mc/MR)][kc][MR], zero-padding rows >= mc.
template <class Kern>
void pack_a(bool ta, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) {
  constexpr int MR = Kern::MR;
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int64_t mr = std::min<int64_t>(MR, mc - ir);
    float* d = dst + ir * kc;
    if (ta) {  // A stored [K, M]: row k of the panel is contiguous in A
      for (int64_t k = 0; k < kc; ++k) {
        const float* s = A + (p0 + k) * lda + i0 + ir;
        float* dk = d + k * MR;
        for (int64_t r = 0; r < mr; ++r) dk[r] = s[r];
        for (int64_t r = mr; r < MR; ++r) dk[r] = 0.f;
      }
    } else {  // A stored [M, K]: MR row streams, 8 x 8 register transposes where they fit
      pack_streams_transposed(A + (i0 + ir) * lda + p0, lda, mr, kc, d, MR);
    }
  }
}

// Packs op(B)[p0:p0+kc, j0:j0+nc] into micro-panels [ceil(nc/NR)][kc][NR], zero-padding cols >= nc.
template <class Kern>
void pack_b(bool tb, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  constexpr int NR = Kern::NR;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = std::min<int64_t>(NR, nc - jr);
    float* d = dst + jr * kc;
    if (!tb) {  // B stored [K, N]: contiguous rows
      for (int64_t k = 0; k < kc; ++k) {
        const float* s = B + (p0 + k) * ldb + j0 + jr;
        float* dk = d + k * NR;
        if (nr == NR) {
          std::memcpy(dk, s, sizeof(float) * NR);
        } else {
          for (int64_t c = 0; c < nr; ++c) dk[c] = s[c];
          for (int64_t c = nr; c < NR; ++c) dk[c] = 0.f;
        }
      }
    } else {  // B stored [N, K]: NR column streams, transposed 8 x 8 at a time in registers
      pack_streams_transposed(B + (j0 + jr) * ldb + p0, ldb, nr, kc, d, NR);
    }
  }
}

// Serial blocked GEMM on the C block [m0, m1) x [n0, n1) (m0 a multiple of MR, n0 of NR).
template <class Kern>
void gemm_block(bool ta, bool tb, int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  constexpr int64_t MR = Kern::MR, NR = Kern::NR, KC = Kern::KC, MC = Kern::MC, NC = Kern::NC;
  static_assert(MC % MR == 0 && NC % NR == 0, "blocks must hold whole micro-tiles (fixed tile grid)");
  const int64_t mb = std::min<int64_t>(MC, ((m1 - m0 + MR - 1) / MR) * MR);
  const int64_t nb = std::min<int64_t>(NC, ((n1 - n0 + NR - 1) / NR) * NR);
  const int64_t kb = std::min<int64_t>(KC, K);
  float* bp = scratch<Kern, 0>((size_t)(nb * kb));  // packed B block [nb/NR][kc][NR]
  float* ap = scratch<Kern, 1>((size_t)(mb * kb));  // packed A block [mb/MR][kc][MR]
  for (int64_t jc = n0; jc < n1; jc += NC) {
    const int64_t nc = std::min(NC, n1 - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool first = pc == 0;
      const bool overwrite = first && beta == 0.f;
      const float beta_k = first ? beta : 1.f;
      pack_b<Kern>(tb, B, ldb, pc, kc, jc, nc, bp);
      for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = std::min(MC, m1 - ic);
        pack_a<Kern>(ta, A, lda, ic, mc, pc, kc, ap);
        // A micro-panel (MR x kc) stays in L1 while the B micro-panels stream from L2.
        for (int64_t ir = 0; ir < mc; ir += MR) {
          const int mr = (int)std::min(MR, mc - ir);
          for (int64_t jr = 0; jr < nc; jr += NR) {
            const int nr = (int)std::min(NR, nc - jr);
            Kern::micro(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, alpha,
                        beta_k, overwrite);
          }
        }
      }
    }
  }
}

// Entry point: handles the degenerate shapes, then splits C over threads along N (or M when N is
// narrow) in whole micro-tiles. Never splits K.
template <class Kern>
void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // C = beta * C (alpha * empty sum = 0); beta == 0 does not read C
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        float& c = C[m * ldc + n];
        c = beta == 0.f ? 0.f : beta * c;
      }
    return;
  }
  constexpr int64_t MR = Kern::MR, NR = Kern::NR;
  const int64_t npan = (N + NR - 1) / NR, mpan = (M + MR - 1) / MR;
  const double work = (double)M * (double)N * (double)K;
  if (work < 65536.0 * 4) {  // too small to be worth waking the pool
    gemm_block<Kern>(ta, tb, 0, M, 0, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const int64_t nt = std::max(1, num_threads());
  if (npan >= 4 * nt || npan >= mpan) {
    parallel_for(npan, 1, [&](int64_t b, int64_t e) {
      gemm_block<Kern>(ta, tb, 0, M, b * NR, std::min(N, e * NR), K, alpha, A, lda, B, ldb, beta, C, ldc);
    });
  } else {
    parallel_for(mpan, 1, [&](int64_t b, int64_t e) {
      gemm_block<Kern>(ta, tb, b * MR, std::min(M, e * MR), 0, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    });
  }
}

}  // namespace gb::cpu::gemm_detail

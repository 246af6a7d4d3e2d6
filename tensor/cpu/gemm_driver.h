// The cache-blocked GEMM driver shared by the ISA files (GotoBLAS/BLIS scheme), generic over the
// element type (float for the SGEMM kernels, double for the DGEMM ones). Include it only from a file
// compiled for one ISA, with Kernel types local to that file (an anonymous namespace), so every
// instantiation here is private to that file and carries that file's instruction set (only
// internal-linkage code comes from here: a shared inline copy could hand AVX-512 code to the AVX2 path).
//
// Kernel provides: T (float or double), MR, NR (micro-tile, NR along the contiguous C rows), KC, MC,
// NC (blocking), and
//   static void micro(int64_t kc, const T* a, const T* b, T* c, int64_t ldc,
//                     int mr, int nr, T alpha, T beta, bool overwrite);
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
#include <type_traits>

#include <immintrin.h>

#include "tensor/cpu/parallel.h"
#include "tensor/cpu/gemm_kernels.h"

namespace gb::cpu::gemm_detail {

// Grow-only 64-byte aligned scratch of n elements of Kern::T, one per thread and kernel.
template <class Kern, int Which>
typename Kern::T* scratch(size_t n) {
  using T = typename Kern::T;
  struct Buf {
    T* p = nullptr;
    size_t n = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf b;
  if (b.n < n) {
    std::free(b.p);
    size_t bytes = ((n * sizeof(T) + 63) / 64) * 64;
    b.p = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (!b.p) gemm_alloc_failed(bytes);
    b.n = n;
  }
  return b.p;
}

// Register transposes for the packing of row streams, one ymm register per source row: 8 x 8 for
// float, 4 x 4 for double (kTile<T> is the edge). AVX only, so both ISA files have them. static: each
// ISA file keeps its own copy, compiled with its own flags.
template <class T>
constexpr int64_t kTile = 32 / (int64_t)sizeof(T);

// dst[j * lds + i] = src[i * ls + j] for an 8 x 8 float block.
static inline __attribute__((always_inline)) void transpose_tile(const float* src, int64_t ls, float* dst,
                                                                int64_t lds) {
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
static inline __attribute__((always_inline)) void transpose_tile_n(const float* src, int64_t ls, int64_t n,
                                                                  float* dst, int64_t lds) {
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

// dst[j * lds + i] = src[i * ls + j] for a 4 x 4 double block.
static inline __attribute__((always_inline)) void transpose_tile(const double* src, int64_t ls, double* dst,
                                                                int64_t lds) {
  const __m256d r0 = _mm256_loadu_pd(src + 0 * ls), r1 = _mm256_loadu_pd(src + 1 * ls);
  const __m256d r2 = _mm256_loadu_pd(src + 2 * ls), r3 = _mm256_loadu_pd(src + 3 * ls);
  // t0 = [r0_0 r1_0 r0_2 r1_2], t1 = [r0_1 r1_1 r0_3 r1_3] (and the same for rows 2, 3); the 128-bit
  // lane permutes then pair the low (columns 0, 1) and high (columns 2, 3) halves.
  const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
  const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
  _mm256_storeu_pd(dst + 0 * lds, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_storeu_pd(dst + 1 * lds, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_storeu_pd(dst + 2 * lds, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_storeu_pd(dst + 3 * lds, _mm256_permute2f128_pd(t1, t3, 0x31));
}

// The same for n < 4 source rows (the rest read as zero), masked stores of n lanes per row.
static inline __attribute__((always_inline)) void transpose_tile_n(const double* src, int64_t ls, int64_t n,
                                                                  double* dst, int64_t lds) {
  __m256d r[4];
  for (int64_t i = 0; i < 4; ++i) r[i] = i < n ? _mm256_loadu_pd(src + i * ls) : _mm256_setzero_pd();
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  const __m256i mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  _mm256_maskstore_pd(dst + 0 * lds, mask, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_maskstore_pd(dst + 1 * lds, mask, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_maskstore_pd(dst + 2 * lds, mask, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_maskstore_pd(dst + 3 * lds, mask, _mm256_permute2f128_pd(t1, t3, 0x31));
}

// Packs `count` (<= width) streams of kc contiguous elements (stream i starts at src + i * ld) into a
// panel d [kc][width]: d[k * width + i] = src[i * ld + k], L x L register transposes where they fit
// (L = kTile<T>: 8 floats, 4 doubles), streams count..width-1 zero. Shared by pack_a (A stored
// [M, K]) and pack_b (B stored [N, K]). static: this header is compiled once per ISA file, and each
// copy must keep its own instructions.
template <class T>
static inline void pack_streams_transposed(const T* src, int64_t ld, int64_t count, int64_t kc, T* d,
                                           int64_t width) {
  constexpr int64_t L = kTile<T>;
  int64_t r = 0;
  for (; r + L <= count; r += L) {
    const T* s = src + r * ld;
    int64_t k = 0;
    for (; k + L <= kc; k += L) transpose_tile(s + k, ld, d + k * width + r, width);
    for (; k < kc; ++k)
      for (int64_t i = 0; i < L; ++i) d[k * width + r + i] = s[i * ld + k];
  }
  if (r < count) {  // the last count - r (< L) streams
    const int64_t n = count - r;
    const T* s = src + r * ld;
    int64_t k = 0;
    for (; k + L <= kc; k += L) transpose_tile_n(s + k, ld, n, d + k * width + r, width);
    for (; k < kc; ++k)
      for (int64_t i = 0; i < n; ++i) d[k * width + r + i] = s[i * ld + k];
  }
  for (int64_t c = count; c < width; ++c)
    for (int64_t k = 0; k < kc; ++k) d[k * width + c] = T(0);
}

// Packs kc contiguous rows of `count` elements (row k starts at src + k * ld) into panels
// [ceil(count/width)][kc][width], zero-padding columns >= count. Shared by pack_a (A stored [K, M])
// and pack_b (B stored [K, N]). Each row is read whole, one sequential run, and dealt out to the
// panels; walking panel by panel instead reads `width` elements per row at a stride of ld, which
// defeats the prefetchers: for a weight of 3072 columns that is one 128-byte piece per 12 KiB, and
// with M ~ 200 (ViT tokens) 196 x 3072 x 768 ran 7-11 % slower on the AVX-512 Xeon.
template <class T>
static inline void pack_rows_dealt(const T* src, int64_t ld, int64_t count, int64_t kc, T* dst, int64_t width) {
  const int64_t full = (count / width) * width;
  for (int64_t k = 0; k < kc; ++k) {
    const T* s = src + k * ld;
    for (int64_t j = 0; j < full; j += width) std::memcpy(dst + j * kc + k * width, s + j, sizeof(T) * width);
    if (full < count) {
      T* dk = dst + full * kc + k * width;
      for (int64_t c = 0; c < count - full; ++c) dk[c] = s[full + c];
      for (int64_t c = count - full; c < width; ++c) dk[c] = T(0);
    }
  }
}

// Packs op(A)[i0:i0+mc, p0:p0+kc] into micro-panels [ceil(mc/MR)][kc][MR], zero-padding rows >= mc.
template <class Kern, class T = typename Kern::T>
void pack_a(bool ta, const T* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, T* dst) {
  constexpr int MR = Kern::MR;
  if (ta) {  // A stored [K, M]: row k of the block is contiguous in A
    pack_rows_dealt(A + p0 * lda + i0, lda, mc, kc, dst, MR);
    return;
  }
  for (int64_t ir = 0; ir < mc; ir += MR) {  // A stored [M, K]: MR row streams, register transposes
    const int64_t mr = std::min<int64_t>(MR, mc - ir);
    pack_streams_transposed(A + (i0 + ir) * lda + p0, lda, mr, kc, dst + ir * kc, MR);
  }
}

// Packs op(B)[p0:p0+kc, j0:j0+nc] into micro-panels [ceil(nc/NR)][kc][NR], zero-padding cols >= nc.
template <class Kern, class T = typename Kern::T>
void pack_b(bool tb, const T* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, T* dst) {
  constexpr int NR = Kern::NR;
  if (!tb) {  // B stored [K, N]: contiguous rows
    pack_rows_dealt(B + p0 * ldb + j0, ldb, nc, kc, dst, NR);
    return;
  }
  for (int64_t jr = 0; jr < nc; jr += NR) {  // B stored [N, K]: NR column streams, register transposes
    const int64_t nr = std::min<int64_t>(NR, nc - jr);
    pack_streams_transposed(B + (j0 + jr) * ldb + p0, ldb, nr, kc, dst + jr * kc, NR);
  }
}

// Serial blocked GEMM on the C block [m0, m1) x [n0, n1) (m0 a multiple of MR, n0 of NR).
template <class Kern, class T = typename Kern::T>
void gemm_block(bool ta, bool tb, int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t K, T alpha, const T* A,
                int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  constexpr int64_t MR = Kern::MR, NR = Kern::NR, KC = Kern::KC, MC = Kern::MC, NC = Kern::NC;
  static_assert(MC % MR == 0 && NC % NR == 0, "blocks must hold whole micro-tiles (fixed tile grid)");
  const int64_t mb = std::min<int64_t>(MC, ((m1 - m0 + MR - 1) / MR) * MR);
  const int64_t nb = std::min<int64_t>(NC, ((n1 - n0 + NR - 1) / NR) * NR);
  const int64_t kb = std::min<int64_t>(KC, K);
  T* bp = scratch<Kern, 0>((size_t)(nb * kb));  // packed B block [nb/NR][kc][NR]
  T* ap = scratch<Kern, 1>((size_t)(mb * kb));  // packed A block [mb/MR][kc][MR]
  for (int64_t jc = n0; jc < n1; jc += NC) {
    const int64_t nc = std::min(NC, n1 - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool first = pc == 0;
      const bool overwrite = first && beta == T(0);
      const T beta_k = first ? beta : T(1);
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
template <class Kern, class T = typename Kern::T>
void blocked_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                  const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  static_assert(std::is_same_v<T, typename Kern::T>, "operands must have the kernel's element type");
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {  // C = beta * C (alpha * empty sum = 0); beta == 0 does not read C
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        T& c = C[m * ldc + n];
        c = beta == T(0) ? T(0) : beta * c;
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

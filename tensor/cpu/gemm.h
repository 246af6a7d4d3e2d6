// General matrix multiply on row-major buffers:
//   C[M,N] = alpha * op(A) op(B) + beta * C,  op(A) = A [M,K] (lda) or A^T where A is [K,M] (lda)
//                                             op(B) = B [K,N] (ldb) or B^T where B is [N,K] (ldb)
// beta == 0 means C is not read (may hold garbage/NaN). Deterministic: every C element is computed
// by one thread with a fixed summation order, independent of the thread count.
// gemm() picks the optimised kernel for f32 and f64 (AVX-512 / AVX2+FMA, chosen at run time; see
// gemm_kernels.h) unless the reference-kernel switch is on; gemm_ref() is the plain triple loop (the
// spec). The optimised kernels use FMA and K blocking, so they agree with gemm_ref to rounding, not
// bitwise.
#pragma once
#include <cstdint>

namespace gb::cpu {

template <class T>
void gemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
              const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace gb::cpu

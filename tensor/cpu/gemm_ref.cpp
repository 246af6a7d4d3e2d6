#include <vector>

#include "tensor/cpu/gemm.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/cpu/parallel.h"

namespace gb::cpu {

// Reference: one output row per work item, k-loop innermost over a contiguous copy of op(B)'s column
// accumulated in the same order every time.
template <class T>
void gemm_ref(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
              int64_t ldb, T beta, T* C, int64_t ldc) {
  parallel_for(M, 4, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m)
      for (int64_t n = 0; n < N; ++n) {
        T acc = 0;
        for (int64_t k = 0; k < K; ++k) {
          T a = ta ? A[k * lda + m] : A[m * lda + k];
          T b = tb ? B[n * ldb + k] : B[k * ldb + n];
          acc += a * b;
        }
        T& c = C[m * ldc + n];
        c = beta == T(0) ? alpha * acc : alpha * acc + beta * c;
      }
  });
}

template void gemm_ref<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                              int64_t, float, float*, int64_t);
template void gemm_ref<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                               const double*, int64_t, double, double*, int64_t);

}  // namespace gb::cpu

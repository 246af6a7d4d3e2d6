// CPU backend: GEMM (tensor/cpu/gemm.h, reference or blocked by the kernel-mode switch inside
// cpu::gemm) over batches of matrices, and the bias broadcast of linear layers.
#include <algorithm>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/gemm.h"
#include "tensor/cpu/parallel.h"
#include "tensor/dispatch.h"

namespace gb::cpu {

// Batches run in parallel only when the matrices are small and every batch writes its own C.
void CpuBackend::gemm(const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c) {
  GB_DISPATCH_FLOAT(c.dtype(), "gemm", {
    const T* A = a.data<T>();
    const T* B = b.data<T>();
    T* C = c.data<T>();
    const int64_t nb = (int64_t)g.oc.size();
    const T beta = g.accumulate ? T(1) : T(0);
    auto one = [&](int64_t i) {
      cpu::gemm<T>(g.ta, g.tb, g.M, g.N, g.K, T(1), A + g.oa[(size_t)i], g.lda, B + g.ob[(size_t)i], g.ldb, beta,
                   C + g.oc[(size_t)i], g.ldc);
    };
    const double work = (double)g.M * (double)g.N * (double)g.K;
    // Many mid-sized products (attention: 12 heads of 196 x 196 x 64) also run one per thread: the
    // blocked GEMM threads poorly at that size (packing and a barrier per block for a 5 MFLOP job).
    const bool many = nb >= 2 * (int64_t)num_threads() && work < 16.0 * 1024 * 1024;
    if (nb > 1 && !g.c_shared && (work < 262144.0 || many)) {
      parallel_for(nb, std::max<int64_t>(1, (int64_t)(65536.0 / std::max(work, 1.0))), [&](int64_t b0, int64_t b1) {
        for (int64_t i = b0; i < b1; ++i) one(i);
      });
    } else {
      for (int64_t i = 0; i < nb; ++i) one(i);
    }
  });
}

void CpuBackend::bias_rows(const Tensor& bias, Tensor& y) {
  const int64_t O = bias.numel(), R = O ? y.numel() / O : 0;
  GB_DISPATCH_FLOAT(y.dtype(), "bias_rows", {
    const T* bp = bias.data<T>();
    T* yp = y.data<T>();
    parallel_for(R, std::max<int64_t>(1, 16384 / std::max<int64_t>(O, 1)), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) std::copy(bp, bp + O, yp + r * O);
    });
  });
}

}  // namespace gb::cpu

#include "tensor/cpu/weight_std.h"

#include <algorithm>
#include <cmath>

#include "tensor/cpu/lane_sums.h"
#include "tensor/cpu/parallel.h"

namespace gb::cpu {
namespace {

// Mean and rstd = 1 / sqrt(biased var + eps) of one row of K, two passes (centred variance).
template <class T>
void row_stats(const T* r, int64_t K, double eps, double& mean, double& rstd) {
  mean = lane_sum(r, K) / (double)K;
  rstd = 1.0 / std::sqrt(lane_centred_sq(r, K, mean) / (double)K + eps);
}

int64_t grain(int64_t K) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(K, 1)); }

}  // namespace

template <class T>
void weight_standardize_forward_fast(int64_t O, int64_t K, const T* w, double eps, T* y) {
  parallel_for(O, grain(K), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const T* __restrict r = w + o * K;
      T* __restrict out = y + o * K;
      double mean, rstd;
      row_stats(r, K, eps, mean, rstd);
      for (int64_t k = 0; k < K; ++k) out[k] = (T)(((double)r[k] - mean) * rstd);
    }
  });
}

template <class T>
void weight_standardize_backward_fast(int64_t O, int64_t K, const T* w, double eps, const T* gy, T* gw) {
  parallel_for(O, grain(K), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const T* __restrict r = w + o * K;
      const T* __restrict g = gy + o * K;
      T* __restrict out = gw + o * K;
      double mean, rstd;
      row_stats(r, K, eps, mean, rstd);
      double sg = 0, sgc = 0;  // sum(gy), sum(gy * (w - mean)); sum(gy * xhat) = rstd * sgc
      lane_grad_sums(g, r, K, mean, sg, sgc);
      const double mg = sg / (double)K, mgx = sgc * rstd / (double)K;
      for (int64_t k = 0; k < K; ++k) {
        const double xhat = ((double)r[k] - mean) * rstd;
        out[k] += (T)(rstd * ((double)g[k] - mg - xhat * mgx));
      }
    }
  });
}

template void weight_standardize_forward_fast<float>(int64_t, int64_t, const float*, double, float*);
template void weight_standardize_forward_fast<double>(int64_t, int64_t, const double*, double, double*);
template void weight_standardize_backward_fast<float>(int64_t, int64_t, const float*, double, const float*, float*);
template void weight_standardize_backward_fast<double>(int64_t, int64_t, const double*, double, const double*,
                                                       double*);

}  // namespace gb::cpu

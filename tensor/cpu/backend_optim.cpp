// CPU backend: optimiser updates, in place over contiguous parameter, gradient and state buffers.
// Each element's update depends on that element alone, so threads split the flat range.
#include <cmath>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/parallel.h"
#include "tensor/dispatch.h"

namespace gb::cpu {

void CpuBackend::sgd_update(Tensor& w, const Tensor& g, Tensor& buf, double lr, double momentum, double wd,
                            bool first) {
  GB_DISPATCH_FLOAT(w.dtype(), "sgd_update", {
    T* wp = w.data<T>();
    const T* gr = g.data<T>();
    T* b = buf.data<T>();
    const T tlr = (T)lr, mom = (T)momentum, twd = (T)wd;
    parallel_for(w.numel(), 1 << 15, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        T d = gr[k] + twd * wp[k];
        b[k] = first ? d : mom * b[k] + d;
        wp[k] -= tlr * b[k];
      }
    });
  });
}

void CpuBackend::adamw_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                              double eps, double wd, int64_t t) {
  GB_DISPATCH_FLOAT(w.dtype(), "adamw_update", {
    T* wp = w.data<T>();
    const T* gr = g.data<T>();
    T* mp = m.data<T>();
    T* vp = v.data<T>();
    const T tlr = (T)lr, b1 = (T)beta1, b2 = (T)beta2, teps = (T)eps, twd = (T)wd;
    const T c1 = (T)(1.0 - std::pow(beta1, (double)t)), c2 = (T)(1.0 - std::pow(beta2, (double)t));
    const T sc2 = std::sqrt(c2);
    parallel_for(w.numel(), 1 << 15, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        wp[k] -= tlr * twd * wp[k];
        mp[k] = b1 * mp[k] + (1 - b1) * gr[k];
        vp[k] = b2 * vp[k] + (1 - b2) * gr[k] * gr[k];
        // torch: denom = sqrt(v) / sqrt(c2) + eps; p -= (lr / c1) * m / denom
        wp[k] -= (tlr / c1) * mp[k] / (std::sqrt(vp[k]) / sc2 + teps);
      }
    });
  });
}

}  // namespace gb::cpu

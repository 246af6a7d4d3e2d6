// The arithmetic of the CUDA optim kernels (SGD with momentum, AdamW), plain C++ shared by the GPU
// (cuda/optim.cu) and its CPU emulation (tests/harness/cuda_emu.h); see cuda/kernel_common.h.
// One item per element, in place on contiguous buffers of one shape; the formulas, their operation
// order and the T rounding of the hyper-parameters are the CPU's (tensor/cpu/backend_optim.cpp).
#pragma once
#include <cmath>
#include <cstdint>

#include "cuda/kernel_common.h"
#include "tensor/backend.h"

namespace gb::cuda {

// d = g + wd w; buf = first ? d : mom buf + d; w -= lr buf.
template <class T>
struct SgdItem {
  T *w, *buf;
  const T* g;
  T lr, mom, wd;
  bool first;
  GB_HD void operator()(int64_t k) const {
    const T d = g[k] + wd * w[k];
    buf[k] = first ? d : mom * buf[k] + d;
    w[k] -= lr * buf[k];
  }
};

// torch's AdamW: w -= lr wd w; m, v moments; w -= (lr / c1) m / (sqrt(v) / sqrt(c2) + eps), with the
// bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t computed once on the host (in double, then T).
template <class T>
struct AdamwItem {
  T *w, *mom1, *mom2;  // w, m, v
  const T* g;
  T lr, b1, b2, eps, wd, c1, sc2;
  GB_HD void operator()(int64_t k) const {
    w[k] -= lr * wd * w[k];
    mom1[k] = b1 * mom1[k] + (1 - b1) * g[k];
    mom2[k] = b2 * mom2[k] + (1 - b2) * g[k] * g[k];
    w[k] -= (lr / c1) * mom1[k] / (m::sqrt(mom2[k]) / sc2 + eps);
  }
};

template <class Launch>
void sgd_update_impl(const Launch& launch, Tensor& w, const Tensor& g, Tensor& buf, double lr, double momentum,
                     double wd, bool first) {
  dispatch_float(w.dtype(), "sgd_update", [&](auto t) {
    using T = decltype(t);
    launch(w.numel(), SgdItem<T>{w.data<T>(), buf.data<T>(), g.data<T>(), (T)lr, (T)momentum, (T)wd, first});
  });
}

template <class Launch>
void adamw_update_impl(const Launch& launch, Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1,
                       double beta2, double eps, double wd, int64_t t) {
  dispatch_float(w.dtype(), "adamw_update", [&](auto tag) {
    using T = decltype(tag);
    const T c1 = (T)(1.0 - std::pow(beta1, (double)t)), c2 = (T)(1.0 - std::pow(beta2, (double)t));
    const T sc2 = std::sqrt(c2);
    launch(w.numel(), AdamwItem<T>{w.data<T>(), m.data<T>(), v.data<T>(), g.data<T>(), (T)lr, (T)beta1, (T)beta2,
                                   (T)eps, (T)wd, c1, sc2});
  });
}

}  // namespace gb::cuda

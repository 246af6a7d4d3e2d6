// The arithmetic of the CUDA norm kernels (group norm, batch norm, layer norm), plain C++ shared by the GPU
// (cuda/norm.cu) and its CPU emulation (tests/harness/cuda_emu.h); see cuda/kernel_common.h.
#pragma once
#include <cmath>
#include <cstdint>

#include "cuda/kernel_common.h"
#include "tensor/backend.h"

namespace gb::cuda {

// Spatial size S of x [N, C, S...] (1 when there are no spatial dims).
inline int64_t norm_spatial(const Tensor& x) {
  int64_t s = 1;
  for (int64_t d = 2; d < x.dim(); ++d) s *= x.size(d);
  return s;
}

// ---- group norm over x [N, C, S] (contiguous) with G groups of Cg = C/G channels: block (n, g) is
// x[n, g*Cg:(g+1)*Cg, :], contiguous, M = Cg*S elements. One item per (n, g) for the statistics, y and
// the input gradient; one item per channel for the gamma / beta gradients (n walked in order).
// Statistics in double, two passes, as the CPU reference (tensor/cpu/norm.cpp).
template <class T>
struct GroupNormBlockItem {
  const T *x, *gamma, *beta;
  T *y, *mean, *rstd;  // mean, rstd [N*G]
  int64_t C, S, G;
  double eps;
  GB_HD void operator()(int64_t ng) const {
    const int64_t g = ng % G, Cg = C / G, M = Cg * S;
    const T* xb = x + ng * M;
    T* yb = y + ng * M;
    double mu = 0;
    for (int64_t i = 0; i < M; ++i) mu += (double)xb[i];
    mu /= (double)M;
    double v = 0;
    for (int64_t i = 0; i < M; ++i) v += ((double)xb[i] - mu) * ((double)xb[i] - mu);
    v /= (double)M;
    const T mt = (T)mu, rt = (T)(1.0 / m::sqrt(v + eps));
    mean[ng] = mt;
    rstd[ng] = rt;
    for (int64_t cc = 0; cc < Cg; ++cc) {
      const int64_t c = g * Cg + cc;
      // centring first keeps f32 accurate when |mean| >> std (the CPU's order of operations)
      const T scale = rt * (gamma ? gamma[c] : T(1)), shift = beta ? beta[c] : T(0);
      for (int64_t s = 0; s < S; ++s) yb[cc * S + s] = (xb[cc * S + s] - mt) * scale + shift;
    }
  }
};

// gx += rstd * (dxhat - sd/M - xhat * sdx/M) over block (n, g), dxhat = gy * gamma, written as
// gy * A_c + (x - mean) * B + K; sd, sdx are per-channel sums (sum gy, sum gy * xhat) weighted by gamma.
template <class T>
struct GroupNormBackwardBlockItem {
  const T *gy, *x, *gamma, *mean, *rstd;
  T* gx;
  int64_t C, S, G;
  GB_HD void operator()(int64_t ng) const {
    const int64_t n = ng / G, g = ng % G, Cg = C / G, M = Cg * S;
    const double mu = (double)mean[ng], r = (double)rstd[ng];
    double sd = 0, sdx = 0;
    for (int64_t cc = 0; cc < Cg; ++cc) {
      const int64_t c = g * Cg + cc, off = (n * C + c) * S;
      double a = 0, ax = 0;
      for (int64_t s = 0; s < S; ++s) {
        const double gv = (double)gy[off + s];
        a += gv;
        ax += gv * ((double)x[off + s] - mu);
      }
      ax *= r;
      const double gm = gamma ? (double)gamma[c] : 1.0;
      sd += gm * a;
      sdx += gm * ax;
    }
    const T Bt = (T)(-r * r * sdx / (double)M), Kt = (T)(-r * sd / (double)M), mt = mean[ng];
    for (int64_t cc = 0; cc < Cg; ++cc) {
      const int64_t c = g * Cg + cc, off = (n * C + c) * S;
      const T A = (T)(r * (gamma ? (double)gamma[c] : 1.0));
      for (int64_t s = 0; s < S; ++s) gx[off + s] += gy[off + s] * A + (x[off + s] - mt) * Bt + Kt;
    }
  }
};

// ggamma[c] += sum_n (sum_s gy * (x - mean[n,g])) * rstd[n,g], gbeta[c] += sum_n sum_s gy (each may be
// null): the per-(n, c) sums of the CPU, added over n in order.
template <class T>
struct GroupNormAffineItem {
  const T *gy, *x, *mean, *rstd;
  T *ggamma, *gbeta;
  int64_t N, C, S, G;
  GB_HD void operator()(int64_t c) const {
    const int64_t g = c / (C / G);
    double sa = 0, sax = 0;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t off = (n * C + c) * S;
      const double mu = (double)mean[n * G + g];
      double a = 0, ax = 0;
      for (int64_t s = 0; s < S; ++s) {
        const double gv = (double)gy[off + s];
        a += gv;
        ax += gv * ((double)x[off + s] - mu);
      }
      sa += a;
      sax += ax * (double)rstd[n * G + g];
    }
    if (ggamma) ggamma[c] += (T)sax;
    if (gbeta) gbeta[c] += (T)sa;
  }
};

template <class Launch>
void group_norm_forward_impl(const Launch& launch, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                             int64_t groups, double eps, Tensor& y, Tensor& mean, Tensor& rstd) {
  const int64_t N = x.size(0), C = x.size(1), S = norm_spatial(x);
  dispatch_float(y.dtype(), "group_norm_forward", [&](auto t) {
    using T = decltype(t);
    launch(N * groups, GroupNormBlockItem<T>{x.data<T>(), data_or_null<T>(gamma), data_or_null<T>(beta), y.data<T>(),
                                             mean.data<T>(), rstd.data<T>(), C, S, groups, eps});
  });
}

template <class Launch>
void group_norm_backward_impl(const Launch& launch, const Tensor& gy, const Tensor& x, const Tensor& gamma,
                              const Tensor& mean, const Tensor& rstd, int64_t groups, Tensor& gx, Tensor& ggamma,
                              Tensor& gbeta) {
  const int64_t N = x.size(0), C = x.size(1), S = norm_spatial(x);
  dispatch_float(gy.dtype(), "group_norm_backward", [&](auto t) {
    using T = decltype(t);
    if (gx.defined())
      launch(N * groups, GroupNormBackwardBlockItem<T>{gy.data<T>(), x.data<T>(), data_or_null<T>(gamma),
                                                       mean.data<T>(), rstd.data<T>(), gx.data<T>(), C, S, groups});
    if (ggamma.defined() || gbeta.defined())
      launch(C, GroupNormAffineItem<T>{gy.data<T>(), x.data<T>(), mean.data<T>(), rstd.data<T>(),
                                       data_or_null<T>(ggamma), data_or_null<T>(gbeta), N, C, S, groups});
  });
}

// ---- batch norm over x [N, C, S] (contiguous): channel c is N blocks of S elements, block stride C*S.
// One item per channel for the statistics (n, then s, in order; double, two passes), the running
// update and the per-channel gradient sums; one item per element to apply them.

// mean[c], rstd[c] = 1/sqrt(biased var + eps); when rm / rv (strides sm / sv) are non-null they are
// updated in place: r = (1 - momentum) r + momentum * batch value, the variance unbiased (M / (M - 1)).
template <class T>
struct BatchNormStatsItem {
  const T* x;
  T *mean, *rstd, *rm, *rv;
  int64_t N, C, S, sm, sv;
  double eps, momentum;
  GB_HD void operator()(int64_t c) const {
    const double M = (double)(N * S);
    double mu = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) mu += (double)x[(n * C + c) * S + s];
    mu /= M;
    double v = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const double d = (double)x[(n * C + c) * S + s] - mu;
        v += d * d;
      }
    v /= M;
    mean[c] = (T)mu;
    rstd[c] = (T)(1.0 / m::sqrt(v + eps));
    if (rm) {
      rm[c * sm] = (T)((1.0 - momentum) * (double)rm[c * sm] + momentum * mu);
      rv[c * sv] = (T)((1.0 - momentum) * (double)rv[c * sv] + momentum * v * M / (M - 1.0));
    }
  }
};

// Eval statistics: mean[c] = rm[c], rstd[c] = 1/sqrt(rv[c] + eps); rm / rv strided (sm / sv).
template <class T>
struct BatchNormRunningStatsItem {
  const T *rm, *rv;
  T *mean, *rstd;
  int64_t sm, sv;
  double eps;
  GB_HD void operator()(int64_t c) const {
    mean[c] = rm[c * sm];
    rstd[c] = (T)(1.0 / m::sqrt((double)rv[c * sv] + eps));
  }
};

// y = (x - mean[c]) * (rstd[c] * gamma[c]) + beta[c], one item per element of x [N, C, S].
template <class T>
struct BatchNormApplyItem {
  const T *x, *gamma, *beta, *mean, *rstd;
  T* y;
  int64_t C, S;
  GB_HD void operator()(int64_t i) const {
    const int64_t c = (i / S) % C;
    const T scale = rstd[c] * (gamma ? gamma[c] : T(1)), shift = beta ? beta[c] : T(0);
    y[i] = (x[i] - mean[c]) * scale + shift;
  }
};

// Per channel: a = sum gy, ax = sum gy * xhat over (N, S); ggamma[c] += ax, gbeta[c] += a (each may be
// null). When coef is non-null (training, gx wanted) it receives the coefficients of the input gradient,
// coef [C, 3] = (A, B, K): gx = gy * A + (x - mean) * B + K with A = gamma * rstd, B = -A rstd ax / M,
// K = -A a / M, rounded to T as the CPU does.
template <class T>
struct BatchNormBackwardChannelItem {
  const T *gy, *x, *gamma, *mean, *rstd;
  T *ggamma, *gbeta, *coef;
  int64_t N, C, S;
  GB_HD void operator()(int64_t c) const {
    const double M = (double)(N * S);
    const double mu = (double)mean[c], r = (double)rstd[c], gm = gamma ? (double)gamma[c] : 1.0;
    double a = 0, ax = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t i = (n * C + c) * S + s;
        const double gv = (double)gy[i];
        a += gv;
        ax += gv * ((double)x[i] - mu);
      }
    ax *= r;
    if (ggamma) ggamma[c] += (T)ax;
    if (gbeta) gbeta[c] += (T)a;
    if (coef) {
      const double A = gm * r;
      coef[3 * c] = (T)A;
      coef[3 * c + 1] = (T)(-A * r * ax / M);
      coef[3 * c + 2] = (T)(-A * a / M);
    }
  }
};

// gx[i] += gy * A + (x - mean) * B + K with the channel's coef (training), or gx[i] += gy * A with
// A = gamma * rstd (eval: mean and rstd are constants, so no sums are needed), one item per element.
template <class T>
struct BatchNormBackwardElemItem {
  const T *gy, *x, *gamma, *mean, *rstd, *coef;  // coef [C, 3], null in eval
  T* gx;
  int64_t C, S;
  GB_HD void operator()(int64_t i) const {
    const int64_t c = (i / S) % C;
    if (!coef) {
      gx[i] += gy[i] * (T)((gamma ? (double)gamma[c] : 1.0) * (double)rstd[c]);
      return;
    }
    gx[i] += gy[i] * coef[3 * c] + (x[i] - mean[c]) * coef[3 * c + 1] + coef[3 * c + 2];
  }
};

template <class Launch>
void batch_norm_stats_impl(const Launch& launch, const Tensor& x, double eps, double momentum, Tensor& mean,
                           Tensor& rstd, Tensor& running_mean, Tensor& running_var) {
  const int64_t N = x.size(0), C = x.size(1), S = norm_spatial(x);
  const bool run = running_mean.defined();
  dispatch_float(mean.dtype(), "batch_norm_stats", [&](auto t) {
    using T = decltype(t);
    launch(C, BatchNormStatsItem<T>{x.data<T>(), mean.data<T>(), rstd.data<T>(), run ? running_mean.data<T>() : nullptr,
                                    run ? running_var.data<T>() : nullptr, N, C, S,
                                    run ? running_mean.strides()[0] : 0, run ? running_var.strides()[0] : 0, eps,
                                    momentum});
  });
}

template <class Launch>
void batch_norm_running_stats_impl(const Launch& launch, const Tensor& running_mean, const Tensor& running_var,
                                   double eps, Tensor& mean, Tensor& rstd) {
  const int64_t C = mean.numel();
  dispatch_float(mean.dtype(), "batch_norm_running_stats", [&](auto t) {
    using T = decltype(t);
    launch(C, BatchNormRunningStatsItem<T>{running_mean.data<T>(), running_var.data<T>(), mean.data<T>(),
                                           rstd.data<T>(), running_mean.strides()[0], running_var.strides()[0], eps});
  });
}

template <class Launch>
void batch_norm_apply_impl(const Launch& launch, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                           const Tensor& mean, const Tensor& rstd, Tensor& y) {
  const int64_t C = x.size(1), S = norm_spatial(x);
  dispatch_float(y.dtype(), "batch_norm_apply", [&](auto t) {
    using T = decltype(t);
    launch(x.numel(), BatchNormApplyItem<T>{x.data<T>(), data_or_null<T>(gamma), data_or_null<T>(beta), mean.data<T>(),
                                            rstd.data<T>(), y.data<T>(), C, S});
  });
}

template <class Launch>
void batch_norm_backward_impl(const Launch& launch, const Tensor& gy, const Tensor& x, const Tensor& gamma,
                              const Tensor& mean, const Tensor& rstd, bool training, Tensor& gx, Tensor& ggamma,
                              Tensor& gbeta) {
  const int64_t N = x.size(0), C = x.size(1), S = norm_spatial(x);
  dispatch_float(gy.dtype(), "batch_norm_backward", [&](auto t) {
    using T = decltype(t);
    // Training input gradient: its per-channel coefficients [C, 3] (A, B, K), on gx's device.
    Tensor coef = gx.defined() && training ? Tensor::empty({C, 3}, gy.dtype(), gx.device()) : Tensor();
    if (coef.defined() || ggamma.defined() || gbeta.defined())
      launch(C, BatchNormBackwardChannelItem<T>{gy.data<T>(), x.data<T>(), data_or_null<T>(gamma), mean.data<T>(),
                                                rstd.data<T>(), data_or_null<T>(ggamma), data_or_null<T>(gbeta),
                                                coef.defined() ? coef.data<T>() : nullptr, N, C, S});
    if (gx.defined())
      launch(x.numel(), BatchNormBackwardElemItem<T>{gy.data<T>(), x.data<T>(), data_or_null<T>(gamma), mean.data<T>(),
                                                     rstd.data<T>(), data_or_null<T>(coef), gx.data<T>(), C, S});
  });
}

// ---- layer norm over rows of x [R, D]: one item per row for the statistics and the input
// gradient, one item per column for the gamma / beta gradients (rows walked in order). Statistics in
// double, two passes, as the CPU reference (tensor/cpu/norm.cpp).
template <class T>
struct LayerNormRowItem {
  const T *x, *gamma, *beta;
  T *y, *mean, *rstd;
  int64_t D;
  double eps;
  GB_HD void operator()(int64_t r) const {
    const T* xr = x + r * D;
    double mu = 0;
    for (int64_t d = 0; d < D; ++d) mu += (double)xr[d];
    mu /= (double)D;
    double v = 0;
    for (int64_t d = 0; d < D; ++d) v += ((double)xr[d] - mu) * ((double)xr[d] - mu);
    v /= (double)D;
    const T mt = (T)mu, rt = (T)(1.0 / m::sqrt(v + eps));
    mean[r] = mt;
    rstd[r] = rt;
    for (int64_t d = 0; d < D; ++d) y[r * D + d] = (xr[d] - mt) * rt * (gamma ? gamma[d] : T(1)) + (beta ? beta[d] : T(0));
  }
};

// gx += rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = gy * gamma.
template <class T>
struct LayerNormBackwardRowItem {
  const T *gy, *x, *gamma, *mean, *rstd;
  T* gx;
  int64_t D;
  GB_HD void operator()(int64_t r) const {
    const T* gr = gy + r * D;
    const T* xr = x + r * D;
    const double mu = (double)mean[r], rs = (double)rstd[r];
    double sd = 0, sdx = 0;
    for (int64_t d = 0; d < D; ++d) {
      const double dxh = (double)(gamma ? gr[d] * gamma[d] : gr[d]);
      sd += dxh;
      sdx += dxh * ((double)xr[d] - mu);
    }
    sdx *= rs;
    const T c1 = (T)(rs * sd / (double)D), c2 = (T)(rs * sdx / (double)D);
    const T mt = mean[r], rt = rstd[r];
    for (int64_t d = 0; d < D; ++d) {
      const T dxh = gamma ? gr[d] * gamma[d] : gr[d];
      gx[r * D + d] += rt * dxh - c1 - (xr[d] - mt) * rt * c2;
    }
  }
};

// ggamma[d] += sum_r gy * xhat, gbeta[d] += sum_r gy (each may be null).
template <class T>
struct LayerNormAffineItem {
  const T *gy, *x, *mean, *rstd;
  T *ggamma, *gbeta;
  int64_t R, D;
  GB_HD void operator()(int64_t d) const {
    double ag = 0, ab = 0;
    for (int64_t r = 0; r < R; ++r) {
      const double g = (double)gy[r * D + d];
      ag += g * ((double)x[r * D + d] - (double)mean[r]) * (double)rstd[r];
      ab += g;
    }
    if (ggamma) ggamma[d] += (T)ag;
    if (gbeta) gbeta[d] += (T)ab;
  }
};

template <class Launch>
void layer_norm_forward_impl(const Launch& launch, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                             Tensor& y, Tensor& mean, Tensor& rstd) {
  const int64_t D = x.size(x.dim() - 1), R = D ? x.numel() / D : 0;
  dispatch_float(y.dtype(), "layer_norm_forward", [&](auto t) {
    using T = decltype(t);
    launch(R, LayerNormRowItem<T>{x.data<T>(), data_or_null<T>(gamma), data_or_null<T>(beta), y.data<T>(),
                                  mean.data<T>(), rstd.data<T>(), D, eps});
  });
}

template <class Launch>
void layer_norm_backward_impl(const Launch& launch, const Tensor& gy, const Tensor& x, const Tensor& gamma,
                              const Tensor& mean, const Tensor& rstd, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  const int64_t D = x.size(x.dim() - 1), R = D ? x.numel() / D : 0;
  dispatch_float(gy.dtype(), "layer_norm_backward", [&](auto t) {
    using T = decltype(t);
    if (gx.defined())
      launch(R, LayerNormBackwardRowItem<T>{gy.data<T>(), x.data<T>(), data_or_null<T>(gamma), mean.data<T>(),
                                            rstd.data<T>(), gx.data<T>(), D});
    if (ggamma.defined() || gbeta.defined())
      launch(D, LayerNormAffineItem<T>{gy.data<T>(), x.data<T>(), mean.data<T>(), rstd.data<T>(),
                                       data_or_null<T>(ggamma), data_or_null<T>(gbeta), R, D});
  });
}

}  // namespace gb::cuda

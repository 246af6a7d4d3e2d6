// CPU backend: group, batch and layer normalisation over tensor/cpu/norm.h. Shapes: x [N, C, S]
// (S = product of spatial dims) for group / batch norm, [R, D] for layer norm.
#include <cmath>
#include <vector>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/norm.h"
#include "tensor/dispatch.h"

namespace gb::cpu {
namespace {
int64_t spatial(const Tensor& x) {
  int64_t s = 1;
  for (int64_t d = 2; d < x.dim(); ++d) s *= x.size(d);
  return s;
}
}  // namespace

void CpuBackend::group_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups,
                                    double eps, Tensor& y, Tensor& mean, Tensor& rstd) {
  GB_DISPATCH_FLOAT(y.dtype(), "group_norm_forward", {
    cpu::group_norm_forward<T>(x.data<T>(), data_or_null<T>(gamma), data_or_null<T>(beta), y.data<T>(), mean.data<T>(), rstd.data<T>(),
                               x.size(0), x.size(1), spatial(x), groups, eps);
  });
}

void CpuBackend::group_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                     const Tensor& rstd, int64_t groups, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  GB_DISPATCH_FLOAT(gy.dtype(), "group_norm_backward", {
    cpu::group_norm_backward<T>(gy.data<T>(), x.data<T>(), data_or_null<T>(gamma), mean.data<T>(), rstd.data<T>(), data_or_null<T>(gx),
                                data_or_null<T>(ggamma), data_or_null<T>(gbeta), x.size(0), x.size(1), spatial(x), groups);
  });
}

void CpuBackend::batch_norm_stats(const Tensor& x, double eps, double momentum, Tensor& mean, Tensor& rstd,
                                  Tensor& running_mean, Tensor& running_var) {
  const int64_t N = x.size(0), C = x.size(1), S = spatial(x);
  GB_DISPATCH_FLOAT(mean.dtype(), "batch_norm_stats", {
    T* m = mean.data<T>();
    T* r = rstd.data<T>();
    std::vector<double> bm(C), bv(C);
    cpu::batch_norm_stats<T>(x.data<T>(), bm.data(), bv.data(), N, C, S);
    const double M = (double)(N * S);
    for (int64_t c = 0; c < C; ++c) {
      m[c] = (T)bm[c];
      r[c] = (T)(1.0 / std::sqrt(bv[c] + eps));
    }
    if (running_mean.defined()) {
      // In place, torch's convention; the running variance is the unbiased one (M / (M - 1)).
      T* rm = running_mean.data<T>();
      T* rv = running_var.data<T>();
      const int64_t sm = running_mean.strides()[0], sv = running_var.strides()[0];
      for (int64_t c = 0; c < C; ++c) {
        rm[c * sm] = (T)((1.0 - momentum) * (double)rm[c * sm] + momentum * bm[c]);
        rv[c * sv] = (T)((1.0 - momentum) * (double)rv[c * sv] + momentum * bv[c] * M / (M - 1.0));
      }
    }
  });
}

void CpuBackend::batch_norm_running_stats(const Tensor& running_mean, const Tensor& running_var, double eps,
                                          Tensor& mean, Tensor& rstd) {
  const int64_t C = mean.numel();
  GB_DISPATCH_FLOAT(mean.dtype(), "batch_norm_running_stats", {
    T* m = mean.data<T>();
    T* r = rstd.data<T>();
    const T* rm = running_mean.data<T>();
    const T* rv = running_var.data<T>();
    const int64_t sm = running_mean.strides()[0], sv = running_var.strides()[0];
    for (int64_t c = 0; c < C; ++c) {
      m[c] = rm[c * sm];
      r[c] = (T)(1.0 / std::sqrt((double)rv[c * sv] + eps));
    }
  });
}

void CpuBackend::batch_norm_apply(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                  const Tensor& rstd, Tensor& y) {
  GB_DISPATCH_FLOAT(y.dtype(), "batch_norm_apply", {
    cpu::batch_norm_apply<T>(x.data<T>(), data_or_null<T>(gamma), data_or_null<T>(beta), mean.data<T>(), rstd.data<T>(), y.data<T>(),
                             x.size(0), x.size(1), spatial(x));
  });
}

void CpuBackend::batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                     const Tensor& rstd, bool training, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  GB_DISPATCH_FLOAT(gy.dtype(), "batch_norm_backward", {
    cpu::batch_norm_backward<T>(gy.data<T>(), x.data<T>(), data_or_null<T>(gamma), mean.data<T>(), rstd.data<T>(), training,
                                data_or_null<T>(gx), data_or_null<T>(ggamma), data_or_null<T>(gbeta), x.size(0), x.size(1), spatial(x));
  });
}

void CpuBackend::layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y,
                                    Tensor& mean, Tensor& rstd) {
  const int64_t D = x.size(x.dim() - 1), R = x.numel() / D;
  GB_DISPATCH_FLOAT(y.dtype(), "layer_norm_forward", {
    cpu::layer_norm_forward<T>(x.data<T>(), data_or_null<T>(gamma), data_or_null<T>(beta), y.data<T>(), mean.data<T>(), rstd.data<T>(),
                               R, D, eps);
  });
}

void CpuBackend::layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                     const Tensor& rstd, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  const int64_t D = x.size(x.dim() - 1), R = x.numel() / D;
  GB_DISPATCH_FLOAT(gy.dtype(), "layer_norm_backward", {
    cpu::layer_norm_backward<T>(gy.data<T>(), x.data<T>(), data_or_null<T>(gamma), mean.data<T>(), rstd.data<T>(), data_or_null<T>(gx),
                                data_or_null<T>(ggamma), data_or_null<T>(gbeta), R, D);
  });
}

}  // namespace gb::cpu

// Normalisation ops: group_norm, batch_norm, layer_norm. Each forward makes x contiguous, views it as
// [N, C, S] (or [R, D] for layer_norm), runs the tensor/cpu/norm.h kernels and records an analytic
// backward that adds into the gradients of x, gamma and beta (running buffers never get gradients).
#include <cmath>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/cpu/norm.h"
#include "tensor/dispatch.h"

namespace gb {
namespace {

// gamma / beta: undefined, or a [len] tensor of x's dtype on the CPU.
void check_affine(const Tensor& p, int64_t len, const Tensor& x, const char* op, const char* what) {
  if (!p.defined()) return;
  check_cpu(p, op);
  GB_CHECK(p.dtype() == x.dtype(), op, ": ", what, " dtype ", dtype_name(p.dtype()), " differs from input ",
           x.desc());
  GB_CHECK(p.dim() == 1 && p.size(0) == len, op, ": ", what, " must have shape [", len, "], got ", str(p.shape()),
           " (input ", str(x.shape()), ")");
}

template <class T> const T* ptr(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }
template <class T> T* mptr(Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

int64_t spatial(const Tensor& x) {
  int64_t s = 1;
  for (int64_t d = 2; d < x.dim(); ++d) s *= x.size(d);
  return s;
}

}  // namespace

// ---------------------------------------------------------------- group norm
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps) {
  const char* op = "group_norm";
  check_float(x, op);
  check_cpu(x, op);
  GB_CHECK(x.dim() >= 2, op, ": expected input [N, C, *], got ", str(x.shape()));
  const int64_t N = x.size(0), C = x.size(1), S = spatial(x);
  GB_CHECK(groups > 0 && C % groups == 0, op, ": ", C, " channels are not divisible into ", groups,
           " groups (input ", str(x.shape()), ")");
  check_affine(gamma, C, x, op, "gamma");
  check_affine(beta, C, x, op, "beta");
  trace::Span sp(op, {x, gamma, beta});
  Tensor xc = x.contiguous(), g = gamma.defined() ? gamma.contiguous() : Tensor(),
         b = beta.defined() ? beta.contiguous() : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({N * groups}, x.dtype()), rstd = Tensor::empty({N * groups}, x.dtype());
  GB_DISPATCH_FLOAT(x.dtype(), op, {
    cpu::group_norm_forward<T>(xc.data<T>(), ptr<T>(g), ptr<T>(b), y.data<T>(), mean.data<T>(), rstd.data<T>(), N, C,
                               S, groups, eps);
  });
  const double flops = 7.0 * (double)x.numel();
  Tensor xs = xc.detach(), gs = g.defined() ? g.detach() : Tensor();
  record(op, y, {x, gamma, beta}, [xs, gs, mean, rstd, N, C, S, groups](const Tensor& gy_in, std::vector<Tensor>& gx) {
    Tensor gy = gy_in.contiguous();
    GB_DISPATCH_FLOAT(gy.dtype(), "group_norm backward", {
      cpu::group_norm_backward<T>(gy.data<T>(), xs.data<T>(), ptr<T>(gs), mean.data<T>(), rstd.data<T>(),
                                  mptr<T>(gx[0]), mptr<T>(gx[1]), mptr<T>(gx[2]), N, C, S, groups);
    });
  }, flops);
  sp.finish(y, flops);
  return y;
}

// ---------------------------------------------------------------- batch norm
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean, Tensor& running_var,
                  bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  check_float(x, op);
  check_cpu(x, op);
  GB_CHECK(x.dim() >= 2, op, ": expected input [N, C, *], got ", str(x.shape()));
  const int64_t N = x.size(0), C = x.size(1), S = spatial(x);
  check_affine(gamma, C, x, op, "gamma");
  check_affine(beta, C, x, op, "beta");
  check_affine(running_mean, C, x, op, "running_mean");
  check_affine(running_var, C, x, op, "running_var");
  GB_CHECK(running_mean.defined() == running_var.defined(), op,
           ": running_mean and running_var must both be given or both be undefined");
  GB_CHECK(!needs_grad(running_mean) && !needs_grad(running_var), op,
           ": running statistics are buffers and must not require a gradient");
  GB_CHECK(training || running_mean.defined(), op, ": eval mode needs running_mean and running_var (input ",
           str(x.shape()), ")");
  GB_CHECK(!training || N * S > 1, op, ": training needs more than one value per channel, got input ",
           str(x.shape()));
  trace::Span sp(op, {x, gamma, beta});
  Tensor xc = x.contiguous(), g = gamma.defined() ? gamma.contiguous() : Tensor(),
         b = beta.defined() ? beta.contiguous() : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({C}, x.dtype()), rstd = Tensor::empty({C}, x.dtype());
  GB_DISPATCH_FLOAT(x.dtype(), op, {
    T* m = mean.data<T>();
    T* r = rstd.data<T>();
    if (training) {
      std::vector<double> bm(C), bv(C);
      cpu::batch_norm_stats<T>(xc.data<T>(), bm.data(), bv.data(), N, C, S);
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
    } else {
      const T* rm = running_mean.data<T>();
      const T* rv = running_var.data<T>();
      const int64_t sm = running_mean.strides()[0], sv = running_var.strides()[0];
      for (int64_t c = 0; c < C; ++c) {
        m[c] = rm[c * sm];
        r[c] = (T)(1.0 / std::sqrt((double)rv[c * sv] + eps));
      }
    }
    cpu::batch_norm_apply<T>(xc.data<T>(), ptr<T>(g), ptr<T>(b), m, r, y.data<T>(), N, C, S);
  });
  const double flops = (training ? 7.0 : 2.0) * (double)x.numel();
  Tensor xs = xc.detach(), gs = g.defined() ? g.detach() : Tensor();
  record(op, y, {x, gamma, beta}, [xs, gs, mean, rstd, training, N, C, S](const Tensor& gy_in, std::vector<Tensor>& gx) {
    Tensor gy = gy_in.contiguous();
    GB_DISPATCH_FLOAT(gy.dtype(), "batch_norm backward", {
      cpu::batch_norm_backward<T>(gy.data<T>(), xs.data<T>(), ptr<T>(gs), mean.data<T>(), rstd.data<T>(), training,
                                  mptr<T>(gx[0]), mptr<T>(gx[1]), mptr<T>(gx[2]), N, C, S);
    });
  }, flops);
  sp.finish(y, flops);
  return y;
}

// ---------------------------------------------------------------- layer norm
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  const char* op = "layer_norm";
  check_float(x, op);
  check_cpu(x, op);
  GB_CHECK(x.dim() >= 1 && x.size(x.dim() - 1) > 0, op, ": expected input [..., D] with D > 0, got ",
           str(x.shape()));
  const int64_t D = x.size(x.dim() - 1), R = x.numel() / D;
  check_affine(gamma, D, x, op, "gamma");
  check_affine(beta, D, x, op, "beta");
  trace::Span sp(op, {x, gamma, beta});
  Tensor xc = x.contiguous(), g = gamma.defined() ? gamma.contiguous() : Tensor(),
         b = beta.defined() ? beta.contiguous() : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({R}, x.dtype()), rstd = Tensor::empty({R}, x.dtype());
  GB_DISPATCH_FLOAT(x.dtype(), op, {
    cpu::layer_norm_forward<T>(xc.data<T>(), ptr<T>(g), ptr<T>(b), y.data<T>(), mean.data<T>(), rstd.data<T>(), R, D,
                               eps);
  });
  const double flops = 7.0 * (double)x.numel();
  Tensor xs = xc.detach(), gs = g.defined() ? g.detach() : Tensor();
  record(op, y, {x, gamma, beta}, [xs, gs, mean, rstd, R, D](const Tensor& gy_in, std::vector<Tensor>& gx) {
    Tensor gy = gy_in.contiguous();
    GB_DISPATCH_FLOAT(gy.dtype(), "layer_norm backward", {
      cpu::layer_norm_backward<T>(gy.data<T>(), xs.data<T>(), ptr<T>(gs), mean.data<T>(), rstd.data<T>(),
                                  mptr<T>(gx[0]), mptr<T>(gx[1]), mptr<T>(gx[2]), R, D);
    });
  }, flops);
  sp.finish(y, flops);
  return y;
}

}  // namespace gb

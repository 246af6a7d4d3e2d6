// Normalisation ops: group_norm, batch_norm, layer_norm. Each forward makes x contiguous, views it as
// [N, C, S] (or [R, D] for layer_norm), runs the tensor/cpu/norm.h kernels and records an analytic
// backward that adds into the gradients of x, gamma and beta (running buffers never get gradients).
#include <cmath>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/kernels.h"

namespace gb {
namespace {

// gamma / beta: undefined, or a [len] tensor of x's dtype on the CPU.
void check_affine(const Tensor& p, int64_t len, const Tensor& x, const char* op, const char* what) {
  if (!p.defined()) return;
  check_same_device(p, x, op);
  GB_CHECK(p.dtype() == x.dtype(), op, ": ", what, " dtype ", dtype_name(p.dtype()), " differs from input ",
           x.desc());
  GB_CHECK(p.dim() == 1 && p.size(0) == len, op, ": ", what, " must have shape [", len, "], got ", str(p.shape()),
           " (input ", str(x.shape()), ")");
}

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
  GB_CHECK(x.dim() >= 2, op, ": expected input [N, C, *], got ", str(x.shape()));
  const int64_t N = x.size(0), C = x.size(1);
  GB_CHECK(groups > 0 && C % groups == 0, op, ": ", C, " channels are not divisible into ", groups,
           " groups (input ", str(x.shape()), ")");
  check_affine(gamma, C, x, op, "gamma");
  check_affine(beta, C, x, op, "beta");
  trace::Span sp(op, {x, gamma, beta});
  Tensor xc = x.contiguous(), g = gamma.defined() ? gamma.contiguous() : Tensor(),
         b = beta.defined() ? beta.contiguous() : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({N * groups}, x.dtype(), x.device()), rstd = Tensor::empty({N * groups}, x.dtype(), x.device());
  kern::group_norm_forward(xc, g, b, groups, eps, y, mean, rstd);
  const double flops = 7.0 * (double)x.numel();
  Tensor xs = xc.detach(), gs = g.defined() ? g.detach() : Tensor();
  record(op, y, {x, gamma, beta}, [xs, gs, mean, rstd, groups](const Tensor& gy_in, std::vector<Tensor>& gx) {
    Tensor gy = gy_in.contiguous();
    kern::group_norm_backward(gy, xs, gs, mean, rstd, groups, gx[0], gx[1], gx[2]);
  }, flops);
  sp.finish(y, flops);
  return y;
}

// ---------------------------------------------------------------- batch norm
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean, Tensor& running_var,
                  bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  check_float(x, op);
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
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({C}, x.dtype(), x.device()), rstd = Tensor::empty({C}, x.dtype(), x.device());
  if (training)
    kern::batch_norm_stats(xc, eps, momentum, mean, rstd, running_mean, running_var);  // and the running update
  else
    kern::batch_norm_running_stats(running_mean, running_var, eps, mean, rstd);
  kern::batch_norm_apply(xc, g, b, mean, rstd, y);
  const double flops = (training ? 7.0 : 2.0) * (double)x.numel();
  Tensor xs = xc.detach(), gs = g.defined() ? g.detach() : Tensor();
  record(op, y, {x, gamma, beta}, [xs, gs, mean, rstd, training](const Tensor& gy_in, std::vector<Tensor>& gx) {
    Tensor gy = gy_in.contiguous();
    kern::batch_norm_backward(gy, xs, gs, mean, rstd, training, gx[0], gx[1], gx[2]);
  }, flops);
  sp.finish(y, flops);
  return y;
}

// ---------------------------------------------------------------- layer norm
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  const char* op = "layer_norm";
  check_float(x, op);
  GB_CHECK(x.dim() >= 1 && x.size(x.dim() - 1) > 0, op, ": expected input [..., D] with D > 0, got ",
           str(x.shape()));
  const int64_t D = x.size(x.dim() - 1), R = x.numel() / D;
  check_affine(gamma, D, x, op, "gamma");
  check_affine(beta, D, x, op, "beta");
  trace::Span sp(op, {x, gamma, beta});
  Tensor xc = x.contiguous(), g = gamma.defined() ? gamma.contiguous() : Tensor(),
         b = beta.defined() ? beta.contiguous() : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({R}, x.dtype(), x.device()), rstd = Tensor::empty({R}, x.dtype(), x.device());
  kern::layer_norm_forward(xc, g, b, eps, y, mean, rstd);
  const double flops = 7.0 * (double)x.numel();
  Tensor xs = xc.detach(), gs = g.defined() ? g.detach() : Tensor();
  record(op, y, {x, gamma, beta}, [xs, gs, mean, rstd](const Tensor& gy_in, std::vector<Tensor>& gx) {
    Tensor gy = gy_in.contiguous();
    kern::layer_norm_backward(gy, xs, gs, mean, rstd, gx[0], gx[1], gx[2]);
  }, flops);
  sp.finish(y, flops);
  return y;
}

}  // namespace gb

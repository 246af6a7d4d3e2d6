// softmax / log_softmax over any dimension. x is made contiguous and viewed as [outer, n, inner]
// around the softmax dimension; the backward uses the saved output only.
#include <algorithm>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/kernels.h"

namespace gb {
namespace {

Tensor softmax_impl(const Tensor& x, int64_t dim, bool log, const char* op) {
  check_float(x, op);
  const int64_t nd = x.dim();
  const int64_t d = wrap_dim(dim, std::max<int64_t>(nd, 1), op);
  int64_t outer = 1, n = 1, inner = 1;  // [outer, n, inner] around dimension d (a 0-d tensor is [1])
  for (int64_t i = 0; i < nd; ++i) (i < d ? outer : i == d ? n : inner) *= x.size(i);
  trace::Span sp(op, {x});
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (x.numel() > 0) kern::softmax_forward(xc, outer, n, inner, log, y);
  const double flops = 5.0 * (double)x.numel();
  Tensor ys = y.detach();
  record(op, y, {x}, [ys, outer, n, inner, log](const Tensor& gy_in, std::vector<Tensor>& gx) {
    if (ys.numel() == 0) return;
    Tensor gy = gy_in.contiguous();
    kern::softmax_backward(gy, ys, outer, n, inner, log, gx[0]);
  }, flops);
  sp.finish(y, flops);
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, true, "log_softmax"); }

}  // namespace gb

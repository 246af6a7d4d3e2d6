// max_pool2d / max_pool3d: shape checks, the kernel (tensor/cpu/pool.h), and the backward, which
// routes each output gradient to the first maximal element of its window (saved argmax indices).
// max_pool2d runs as a 3-D pool with depth 1.
#include <climits>
#include <sstream>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/kernels.h"

namespace gb {
namespace {

template <size_t S>
Tensor max_pool_nd(const char* op, const Tensor& x, const std::array<int64_t, S>& kernel,
                   const std::array<int64_t, S>& stride, const std::array<int64_t, S>& padding) {
  GB_CHECK(x.defined(), op, ": input must be defined");
  check_float(x, op);
  const int64_t nd = (int64_t)S + 2;
  const std::string desc = std::string(" (input ") + str(x.shape()) + ", kernel " + str(kernel) + ", stride " +
                           str(stride) + ", padding " + str(padding) + ")";
  GB_CHECK(x.dim() == nd, op, ": input must have ", nd, " dims ", S == 2 ? "[N,C,H,W]" : "[N,C,D,H,W]", ", got ",
           str(x.shape()));
  trace::Span sp(op, {x});
  PoolGeom g;
  g.planes = x.size(0) * x.size(1);
  Shape ys = {x.size(0), x.size(1)};
  for (size_t i = 0; i < S; ++i) {
    const int d = 3 - (int)S + (int)i;
    GB_CHECK(kernel[i] >= 1 && stride[i] >= 1 && padding[i] >= 0, op,
             ": need kernel >= 1, stride >= 1, padding >= 0", desc);
    GB_CHECK(2 * padding[i] <= kernel[i], op, ": padding must be at most half the kernel", desc);
    GB_CHECK(x.size(2 + i) + 2 * padding[i] >= kernel[i], op, ": kernel is larger than the padded input", desc);
    g.in[d] = x.size(2 + i);
    g.k[d] = kernel[i];
    g.stride[d] = stride[i];
    g.pad[d] = padding[i];
    g.out[d] = (g.in[d] + 2 * g.pad[d] - g.k[d]) / g.stride[d] + 1;
    ys.push_back(g.out[d]);
  }
  GB_CHECK(g.in_size() <= INT_MAX, op, ": spatial size too large for 32-bit argmax indices", desc);
  Tensor xc = x.detach().contiguous();
  Tensor y = Tensor::empty(ys, x.dtype(), x.device());
  Tensor idx = Tensor::empty(ys, DType::I32, x.device());  // argmax within each (n, c) plane
  if (y.numel() > 0) kern::max_pool_forward(g, xc, y, idx);
  const double flops = (double)y.numel() * (double)(g.k[0] * g.k[1] * g.k[2]);
  record(op, y, {x}, [g, idx](const Tensor& gy, std::vector<Tensor>& gx) {
    if (gy.numel() == 0) return;
    kern::max_pool_backward(g, gy, idx, gx[0]);
  }, flops);
  sp.finish(y, flops);
  return y;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding) {
  return max_pool_nd<2>("max_pool2d", x, kernel, stride, padding);
}

Tensor max_pool3d(const Tensor& x, std::array<int64_t, 3> kernel, std::array<int64_t, 3> stride,
                  std::array<int64_t, 3> padding) {
  return max_pool_nd<3>("max_pool3d", x, kernel, stride, padding);
}

}  // namespace gb

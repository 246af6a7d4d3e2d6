// upsample_bilinear2d / upsample_trilinear3d with torch's coordinate rules for both corner modes
// (tensor/cpu/upsample.h). The backward scatters each output gradient to its source taps.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/kernels.h"

namespace gb {
namespace {

template <size_t S>
Tensor upsample_nd(const char* op, const Tensor& x, const std::array<int64_t, S>& out, bool align_corners) {
  GB_CHECK(x.defined(), op, ": input must be defined");
  check_float(x, op);
  const int64_t nd = (int64_t)S + 2;
  GB_CHECK(x.dim() == nd, op, ": input must have ", nd, " dims ", S == 2 ? "[N,C,H,W]" : "[N,C,D,H,W]", ", got ",
           str(x.shape()));
  trace::Span sp(op, {x});
  UpsampleGeom g;
  g.planes = x.size(0) * x.size(1);
  g.align_corners = align_corners;
  Shape ys = {x.size(0), x.size(1)};
  for (size_t i = 0; i < S; ++i) {
    const int d = 3 - (int)S + (int)i;
    GB_CHECK(x.size(2 + i) >= 1 && out[i] >= 1, op, ": input and output sizes must be >= 1 (input ",
             str(x.shape()), ", output size ", out[i], " along spatial dim ", i, ")");
    g.in[d] = x.size(2 + i);
    g.out[d] = out[i];
    ys.push_back(out[i]);
  }
  Tensor xc = x.detach().contiguous();
  Tensor y = Tensor::empty(ys, x.dtype(), x.device());
  if (y.numel() > 0) kern::upsample_forward(g, xc, y);
  const double flops = (double)y.numel() * (S == 2 ? 7.0 : 15.0);
  record(op, y, {x}, [g](const Tensor& gy, std::vector<Tensor>& gx) {
    if (gy.numel() == 0) return;
    kern::upsample_backward(g, gy, gx[0]);
  }, flops);
  sp.finish(y, flops);
  return y;
}

}  // namespace

Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  return upsample_nd<2>("upsample_bilinear2d", x, {out_h, out_w}, align_corners);
}

Tensor upsample_trilinear3d(const Tensor& x, int64_t out_d, int64_t out_h, int64_t out_w, bool align_corners) {
  return upsample_nd<3>("upsample_trilinear3d", x, {out_d, out_h, out_w}, align_corners);
}

}  // namespace gb

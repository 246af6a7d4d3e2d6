// conv2d, conv3d and weight_standardize: shape checks, dispatch to the CPU kernels (reference loops,
// or the optimised path: vol2col + gemm or direct kernels, tensor/cpu/conv.h), and the backward
// beside the forward.
// conv2d runs as a 3-D convolution with depth 1 (tensor/cpu/conv.h).
#include <sstream>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/kernels.h"

namespace gb {
namespace {

// Validates the arguments of an S-spatial-dim convolution and builds its geometry.
template <size_t S>
ConvGeom conv_geom(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias,
                        const std::array<int64_t, S>& stride, const std::array<int64_t, S>& padding,
                        const std::array<int64_t, S>& dilation, int64_t groups) {
  const int64_t nd = (int64_t)S + 2;
  GB_CHECK(x.defined() && w.defined(), op, ": input and weight must be defined");
  check_float(x, op, "input");
  check_float(w, op, "weight");
  check_same_dtype(x, w, op);
  check_same_device(x, w, op);
  const std::string shapes = " (input " + str(x.shape()) + ", weight " + str(w.shape()) + ")";
  GB_CHECK(x.dim() == nd, op, ": input must have ", nd, " dims ", S == 2 ? "[N,C,H,W]" : "[N,C,D,H,W]",
           ", got ", str(x.shape()));
  GB_CHECK(w.dim() == nd, op, ": weight must have ", nd, " dims [O,C/groups,", S == 2 ? "KH,KW" : "KD,KH,KW",
           "], got ", str(w.shape()));
  GB_CHECK(groups >= 1, op, ": groups must be >= 1, got ", groups, shapes);
  const int64_t C = x.size(1), O = w.size(0);
  GB_CHECK(C % groups == 0, op, ": groups ", groups, " does not divide the ", C, " input channels", shapes);
  GB_CHECK(O % groups == 0, op, ": groups ", groups, " does not divide the ", O, " output channels", shapes);
  GB_CHECK(w.size(1) * groups == C, op, ": input has ", C, " channels but weight expects ", w.size(1) * groups,
           " (", w.size(1), " per group x ", groups, " groups)", shapes);
  if (bias.defined()) {
    check_same_dtype(x, bias, op);
    check_same_device(x, bias, op);
    GB_CHECK(bias.dim() == 1 && bias.size(0) == O, op, ": bias must be [", O, "], got ", str(bias.shape()), shapes);
  }
  ConvGeom g;
  g.N = x.size(0);
  g.C = C;
  g.O = O;
  g.groups = groups;
  for (size_t i = 0; i < S; ++i) {
    const int d = 3 - (int)S + (int)i;  // conv2d fills H, W; D stays 1
    GB_CHECK(stride[i] >= 1 && dilation[i] >= 1 && padding[i] >= 0, op, ": need stride >= 1, dilation >= 1, ",
             "padding >= 0; got stride ", str(stride), " padding ", str(padding), " dilation ", str(dilation));
    g.in[d] = x.size(2 + i);
    g.k[d] = w.size(2 + i);
    g.stride[d] = stride[i];
    g.pad[d] = padding[i];
    g.dil[d] = dilation[i];
    const int64_t span = dilation[i] * (g.k[d] - 1) + 1;
    GB_CHECK(g.k[d] >= 1 && span <= g.in[d] + 2 * padding[i], op, ": kernel ", w.size(2 + i), " (dilation ",
             dilation[i], ", span ", span, ") is larger than the padded input ", g.in[d] + 2 * padding[i],
             " along spatial dim ", i, shapes, " padding ", str(padding));
    g.out[d] = conv_out_size(g.in[d], g.k[d], g.stride[d], g.pad[d], g.dil[d]);
  }
  return g;
}

template <size_t S>
Tensor conv_nd(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias,
               const std::array<int64_t, S>& stride, const std::array<int64_t, S>& padding,
               const std::array<int64_t, S>& dilation, int64_t groups) {
  trace::Span sp(op, {x, w, bias});
  const ConvGeom g = conv_geom<S>(op, x, w, bias, stride, padding, dilation, groups);
  Shape ys = {g.N, g.O};
  for (size_t i = 0; i < S; ++i) ys.push_back(g.out[3 - S + i]);
  Tensor y = Tensor::empty(ys, x.dtype(), x.device());
  Tensor xc = x.detach().contiguous(), wc = w.detach().contiguous();
  Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor();
  if (y.numel() > 0) kern::conv_forward(g, xc, wc, bc, y);
  // The weight gradient needs x; the input gradient needs w.
  Tensor sx = needs_grad(w) ? xc : Tensor(), sw = needs_grad(x) ? wc : Tensor();
  record(op, y, {x, w, bias}, [g, sx, sw](const Tensor& gy, std::vector<Tensor>& gx) {
    if (gy.numel() == 0) return;
    Tensor none;
    kern::conv_backward(g, sx, sw, gy, gx[0], gx[1], gx.size() > 2 ? gx[2] : none);
  }, g.flops());
  sp.finish(y, g.flops(), -1, g.flops());
  return y;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOpts& o) {
  return conv_nd<2>("conv2d", x, w, bias, o.stride, o.padding, o.dilation, o.groups);
}

Tensor conv3d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv3dOpts& o) {
  return conv_nd<3>("conv3d", x, w, bias, o.stride, o.padding, o.dilation, o.groups);
}

Tensor weight_standardize(const Tensor& w, double eps) {
  const char* op = "weight_standardize";
  GB_CHECK(w.defined(), op, ": weight must be defined");
  check_float(w, op, "weight");
  GB_CHECK(w.dim() >= 1 && w.size(0) >= 1, op, ": weight must be [O, ...] with O >= 1, got ", str(w.shape()));
  GB_CHECK(eps >= 0, op, ": eps must be >= 0, got ", eps, " (weight ", str(w.shape()), ")");
  trace::Span sp(op, {w});
  const int64_t O = w.size(0), K = O ? w.numel() / O : 0;
  GB_CHECK(K >= 1, op, ": each output channel needs at least one weight, got ", str(w.shape()));
  Tensor wc = w.detach().contiguous();
  Tensor y = Tensor::empty(w.shape(), w.dtype(), w.device());
  kern::weight_std_forward(wc.view_reshape({O, K}), eps, y);
  record(op, y, {w}, [wc, O, K, eps](const Tensor& gy, std::vector<Tensor>& gx) {
    Tensor gw = gx[0].view_reshape({O, K});
    kern::weight_std_backward(wc.view_reshape({O, K}), eps, gy, gw);
  }, 6.0 * (double)w.numel());
  sp.finish(y, 6.0 * (double)w.numel());
  return y;
}

}  // namespace gb

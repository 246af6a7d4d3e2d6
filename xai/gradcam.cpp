#include "xai/gradcam.h"

#include <cmath>

#include "autograd/node.h"
#include "autograd/ops.h"

namespace gb::xai {

CamResult grad_cam(models::SegmentationModel& model, const Tensor& x, const std::string& layer, int64_t cls,
                   const Tensor& region) {
  GB_CHECK(x.dim() == 4 && x.size(0) == 1, "grad_cam: input must be [1, C, H, W], got ", x.desc());
  const int64_t H = x.size(2), W = x.size(3);
  GB_CHECK(cls >= 0 && cls < model.config().classes, "grad_cam: class ", cls, " out of range for ",
           model.config().classes, " classes");
  Tensor act;
  int hook = model.register_forward_hook(layer, [&act](const Tensor& y) {
    act = y;
    if (act.requires_grad()) act.retain_grad();
  });
  CamResult r;
  r.layer = layer;
  r.cls = cls;
  try {
    model.zero_grad();
    Tensor logits = model.forward(x);  // [1, classes, H, W]
    GB_CHECK(act.defined(), "grad_cam: layer '", layer, "' did not run in the forward pass");
    GB_CHECK(act.requires_grad(), "grad_cam: layer '", layer, "' output has no gradient path");
    Tensor zc = slice(logits, 1, cls, cls + 1);  // [1, 1, H, W]
    Tensor mask;
    if (region.defined()) {
      GB_CHECK(region.numel() == H * W, "grad_cam: region ", region.desc(), " does not match the input ", x.desc());
      Tensor m = region.to(DType::F64);
      std::vector<double> mv = m.to_vector();
      for (double& v : mv) v = v != 0 ? 1.0 : 0.0;
      mask = Tensor::from_vector(mv, {1, 1, H, W}).to(logits.dtype());
    } else {
      mask = Tensor::ones({1, 1, H, W}, logits.dtype());
    }
    Tensor T = sum(mul(zc, mask));
    r.target = T.item();
    T.backward();
    model.remove_hook(hook);
  } catch (...) {
    model.remove_hook(hook);
    throw;
  }
  Tensor A = act.detach(), G = act.grad();
  GB_CHECK(G.defined(), "grad_cam: no gradient reached layer '", layer, "'");
  // Bring both to [C, h, w].
  auto to_chw = [&](Tensor t) {
    if (t.dim() == 4) return t.view_slice(0, 0, 1).view_reshape({t.size(1), t.size(2), t.size(3)});
    GB_CHECK(t.dim() == 3, "grad_cam: layer '", layer, "' output ", t.desc(), " is neither [1,C,h,w] nor [1,N,C]");
    const int64_t n = t.size(1), c = t.size(2), g = (int64_t)std::llround(std::sqrt((double)n));
    GB_CHECK(g * g == n, "grad_cam: ", n, " tokens do not form a square grid");
    return t.view_slice(0, 0, 1).view_reshape({g, g, c}).view_permute({2, 0, 1}).contiguous();
  };
  Tensor a = to_chw(A).to(DType::F64).contiguous(), g = to_chw(G).to(DType::F64).contiguous();
  {
    NoGradGuard ng;
    r.weights = mean(g, {1, 2});                                                 // [C]
    r.raw = sum(mul(a, r.weights.view_reshape({r.weights.numel(), 1, 1})), {0});  // [h, w]
    r.relu = relu(r.raw);
    Tensor up = upsample_bilinear2d(r.relu.view_reshape({1, 1, r.relu.size(0), r.relu.size(1)}), H, W, false);
    r.upsampled = up.view_reshape({H, W});
    auto v = r.upsampled.to_vector();
    double lo = v.empty() ? 0 : v[0], hi = lo;
    for (double e : v) lo = std::min(lo, e), hi = std::max(hi, e);
    for (double& e : v) e = hi > lo ? (e - lo) / (hi - lo) : 0.0;
    r.normalised = Tensor::from_vector(v, {H, W});
  }
  return r;
}

}  // namespace gb::xai

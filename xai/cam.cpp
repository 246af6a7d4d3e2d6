#include "xai/cam.h"

#include <algorithm>
#include <cmath>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "xai/gradients.h"
#include "xai/layers.h"

namespace gb::xai {

CamMethod cam_method_from_name(const std::string& s) {
  if (s == "gradcam" || s == "grad-cam") return CamMethod::GradCam;
  if (s == "hirescam") return CamMethod::HiResCam;
  if (s == "gradcam++" || s == "gradcampp" || s == "grad-cam++") return CamMethod::GradCamPlusPlus;
  if (s == "layercam") return CamMethod::LayerCam;
  fail("cam: unknown method '", s, "' (gradcam, hirescam, gradcam++, layercam)");
}

const char* cam_method_name(CamMethod m) {
  switch (m) {
    case CamMethod::GradCam: return "gradcam";
    case CamMethod::HiResCam: return "hirescam";
    case CamMethod::GradCamPlusPlus: return "gradcam++";
    case CamMethod::LayerCam: return "layercam";
  }
  return "?";
}

Tensor normalise01(const Tensor& t) {
  auto v = t.contiguous().to_vector();
  double lo = v.empty() ? 0 : v[0], hi = lo;
  for (double e : v) lo = std::min(lo, e), hi = std::max(hi, e);
  for (double& e : v) e = hi > lo ? (e - lo) / (hi - lo) : 0.0;
  return Tensor::from_vector(v, t.shape());
}

namespace {

// One sample's maps from A, G [C, *grid] (f64 contiguous).
LayerMap layer_map(const std::string& name, const Tensor& A, const Tensor& G, CamMethod method, const Shape& spatial) {
  const int64_t C = A.size(0), P = A.numel() / C;
  const auto a = A.to_vector(), g = G.to_vector();
  std::vector<double> raw(P, 0.0), w;
  LayerMap m;
  m.layer = name;
  if (method == CamMethod::GradCam || method == CamMethod::GradCamPlusPlus) {
    w.assign(C, 0.0);
    for (int64_t k = 0; k < C; ++k) {
      const double* gk = g.data() + k * P;
      const double* ak = a.data() + k * P;
      double s = 0;
      if (method == CamMethod::GradCam) {
        for (int64_t p = 0; p < P; ++p) s += gk[p];
        s /= (double)P;
      } else {
        double sum_a = 0;
        for (int64_t p = 0; p < P; ++p) sum_a += ak[p];
        for (int64_t p = 0; p < P; ++p) {
          const double g2 = gk[p] * gk[p], g3 = g2 * gk[p];
          const double aij = gk[p] != 0 ? g2 / (2 * g2 + sum_a * g3 + 1e-7) : 0.0;
          s += std::max(gk[p], 0.0) * aij;
        }
      }
      w[k] = s;
    }
    for (int64_t k = 0; k < C; ++k)
      for (int64_t p = 0; p < P; ++p) raw[p] += w[k] * a[k * P + p];
    m.weights = Tensor::from_vector(w, {C});
  } else {
    const bool relu_g = method == CamMethod::LayerCam;
    for (int64_t k = 0; k < C; ++k)
      for (int64_t p = 0; p < P; ++p) {
        const double gk = relu_g ? std::max(g[k * P + p], 0.0) : g[k * P + p];
        raw[p] += gk * a[k * P + p];
      }
  }
  const Shape grid(A.shape().begin() + 1, A.shape().end());
  m.raw = Tensor::from_vector(raw, grid);
  NoGradGuard ng;
  m.relu = relu(m.raw);
  Shape g4 = grid;
  g4.insert(g4.begin(), {1, 1});
  Tensor r4 = m.relu.view_reshape(g4);
  Tensor up = grid.size() == 2 ? upsample_bilinear2d(r4, spatial[0], spatial[1], false)
                               : upsample_trilinear3d(r4, spatial[0], spatial[1], spatial[2], false);
  m.upsampled = up.contiguous().view_reshape(spatial);
  m.normalised = normalise01(m.upsampled);
  return m;
}

}  // namespace

std::vector<CamSample> cam(models::SegmentationModel& model, const Tensor& x, const Target& target, CamMethod method,
                           const std::vector<std::string>& layers_in) {
  GB_CHECK(x.dim() == (int64_t)model_input_shape(model).size(), "cam: input ", x.desc(), " does not fit a ",
           model_input_shape(model).size(), "-d model");
  const std::vector<std::string> layers = layers_in.empty() ? std::vector<std::string>{auto_layer(model)} : layers_in;
  const int64_t B = x.size(0);
  const Shape spatial(x.shape().begin() + 2, x.shape().end());
  EvalGuard eg(model);
  FrozenParameters fp(model);
  std::vector<Tensor> acts(layers.size());
  std::vector<int> hooks;
  for (size_t i = 0; i < layers.size(); ++i) {
    GB_CHECK(model.find_module(layers[i]) != nullptr || layers[i].empty(), "cam: no layer '", layers[i],
             "' in this model (glassbox explain --list-layers lists them)");
    const std::string name = layers[i];
    hooks.push_back(model.register_forward_hook(name, [&acts, i](const Tensor& y) {
      acts[i] = y;  // the layer's own output: retain_grad keeps G = dT/dA on it
      if (acts[i].requires_grad()) acts[i].retain_grad();
    }));
  }
  std::vector<double> tv;
  try {
    Tensor xi = input_on_model_device(model, x);  // where the model is
    xi.set_requires_grad(true);  // the graph needs one leaf; parameters are frozen
    Tensor logits = model.forward(xi);
    for (size_t i = 0; i < layers.size(); ++i) {
      GB_CHECK(acts[i].defined(), "cam: layer '", layers[i], "' did not run in the forward pass");
      GB_CHECK(acts[i].requires_grad(), "cam: layer '", layers[i], "' has no gradient path to the output");
    }
    Tensor T = target_scores(logits, target);  // [B]
    tv = T.to_vector();
    sum(T).backward();
  } catch (...) {
    for (int h : hooks) model.remove_hook(h);
    throw;
  }
  for (int h : hooks) model.remove_hook(h);
  std::vector<CamSample> out(B);
  for (int64_t b = 0; b < B; ++b) out[b].target = tv[b];
  for (size_t i = 0; i < layers.size(); ++i) {
    Tensor G = acts[i].grad();
    GB_CHECK(G.defined(), "cam: no gradient reached layer '", layers[i], "' (does the target depend on it?)");
    // A and G live where the model ran: each comes back to the host once, as a [B, C, *grid] map.
    Tensor A = as_feature_map(acts[i].detach(), model, layers[i]).to(Device::CPU);
    G = as_feature_map(G, model, layers[i]).to(Device::CPU);
    for (int64_t b = 0; b < B; ++b) {
      auto one = [&](const Tensor& t) {
        Tensor s = t.view_slice(0, b, b + 1);
        return s.contiguous().view_reshape(Shape(s.shape().begin() + 1, s.shape().end())).to(DType::F64).contiguous();
      };
      out[b].layers.push_back(layer_map(layers[i], one(A), one(G), method, spatial));
    }
  }
  for (auto& s : out) {
    if (s.layers.size() == 1) {
      s.combined = s.layers[0].normalised;
      continue;
    }
    std::vector<double> acc(s.layers[0].normalised.numel(), 0.0);
    for (auto& l : s.layers) {
      auto v = l.normalised.to_vector();
      for (size_t k = 0; k < acc.size(); ++k) acc[k] += v[k] / (double)s.layers.size();
    }
    s.combined = normalise01(Tensor::from_vector(acc, spatial));
  }
  return out;
}

}  // namespace gb::xai

#include "xai/layers.h"

#include <cmath>
#include <map>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "models/transunet.h"
#include "xai/gradients.h"

namespace gb::xai {

Shape model_input_shape(const models::SegmentationModel& model) {
  Shape s{1, model.config().in_channels};
  for (int64_t v : model.config().size) s.push_back(v);
  return s;
}

DType model_dtype(const models::SegmentationModel& model) {
  for (auto& [n, p] : model.named_parameters())
    if (is_floating(p.dtype())) return p.dtype();
  return DType::F32;
}

namespace {
// Token grid of a [B, N, C] output: TransUNet's own grid, else a square.
std::pair<int64_t, int64_t> token_grid(models::SegmentationModel& model, int64_t n) {
  if (auto* t = dynamic_cast<models::TransUNet*>(&model))
    if (t->grid_h() * t->grid_w() == n) return {t->grid_h(), t->grid_w()};
  const int64_t g = (int64_t)std::llround(std::sqrt((double)n));
  return {g, g * g == n ? g : -1};
}
}  // namespace

Tensor as_feature_map(const Tensor& act, models::SegmentationModel& model, const std::string& layer) {
  const int64_t rank = (int64_t)model_input_shape(model).size();
  if (act.dim() == rank) return act;
  GB_CHECK(act.dim() == 3, "layer '", layer, "': output ", act.desc(), " is neither a feature map [B, C, *grid] nor tokens [B, N, C]");
  auto [gh, gw] = token_grid(model, act.size(1));
  GB_CHECK(gw > 0, "layer '", layer, "': ", act.size(1), " tokens do not form the model's token grid");
  // [B, N, C] -> [B, gh, gw, C] -> [B, C, gh, gw]
  return act.contiguous().view_reshape({act.size(0), gh, gw, act.size(2)}).view_permute({0, 3, 1, 2}).contiguous();
}

std::vector<LayerInfo> list_layers(models::SegmentationModel& model) {
  const Shape in = model_input_shape(model);
  std::map<std::string, Shape> shapes;
  std::vector<int> hooks;
  std::vector<std::pair<std::string, std::string>> names;
  for (auto& [name, m] : model.named_modules()) {
    if (name.empty()) continue;
    names.push_back({name, m->type_name()});
    const std::string n = name;
    hooks.push_back(model.register_forward_hook(n, [&shapes, n](const Tensor& y) { shapes[n] = y.shape(); }));
  }
  try {
    EvalGuard eg(model);
    NoGradGuard ng;
    model.forward(Tensor::zeros(in, model_dtype(model), model.device()));  // where the model is
  } catch (...) {
    for (int h : hooks) model.remove_hook(h);
    throw;
  }
  for (int h : hooks) model.remove_hook(h);
  std::vector<LayerInfo> out;
  for (auto& [name, type] : names) {
    auto it = shapes.find(name);
    if (it == shapes.end()) continue;  // did not run
    LayerInfo li{name, type, it->second, false};
    const Shape& s = it->second;
    if ((int64_t)s.size() == (int64_t)in.size()) li.feature_map = true;
    if (s.size() == 3) li.feature_map = token_grid(model, s[1]).second > 0;
    out.push_back(li);
  }
  return out;
}

std::string auto_layer(models::SegmentationModel& model) {
  const auto& c = model.config();
  if (c.arch == "transunet") return c.vit.decoder_channels.size() >= 2 ? "decoder.blocks.1" : "decoder.conv_more";
  GB_CHECK(c.arch == "unet", "auto_layer: unknown architecture '", c.arch, "'");
  const int64_t l = std::min<int64_t>(2, c.unet.depth - 1);
  return "dec" + std::to_string(l);
}

}  // namespace gb::xai

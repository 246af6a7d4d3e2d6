#include "xai/targets.h"

#include <algorithm>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "eval/components.h"
#include "xai/gradients.h"

namespace gb::xai {

RegionKind region_kind_from_name(const std::string& s) {
  if (s == "prediction" || s == "pred") return RegionKind::Prediction;
  if (s == "truth") return RegionKind::Truth;
  if (s == "component") return RegionKind::Component;
  if (s == "box") return RegionKind::Box;
  if (s == "pixel") return RegionKind::Pixel;
  if (s == "whole" || s == "image") return RegionKind::Whole;
  fail("target: unknown region '", s, "' (prediction, truth, component, box, pixel, whole)");
}

const char* region_kind_name(RegionKind k) {
  switch (k) {
    case RegionKind::Prediction: return "prediction";
    case RegionKind::Truth: return "truth";
    case RegionKind::Component: return "component";
    case RegionKind::Box: return "box";
    case RegionKind::Pixel: return "pixel";
    case RegionKind::Whole: return "whole";
  }
  return "?";
}

std::string TargetSpec::describe() const {
  std::string s = "class " + std::to_string(cls) + " logits summed over ";
  switch (region) {
    case RegionKind::Prediction: return s + "the predicted region";
    case RegionKind::Truth: return s + "the true region";
    case RegionKind::Component:
      return s + (component == 0 ? std::string("the largest ") : "component " + std::to_string(component) + " of the ") +
             (of_truth ? "true" : "predicted") + " region";
    case RegionKind::Box: return s + "a box";
    case RegionKind::Pixel: return s + "one pixel";
    case RegionKind::Whole: return s + "the whole image";
  }
  return s;
}

int64_t Target::pixels() const {
  if (!mask.defined()) return 0;
  int64_t n = 0;
  for (double v : mask.to_vector()) n += v != 0;
  return n;
}

namespace {
std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}
}  // namespace

Tensor region_mask(const TargetSpec& spec, const Shape& spatial, const Tensor& pred, const Tensor& truth) {
  const int64_t nd = (int64_t)spatial.size();
  GB_CHECK(nd == 2 || nd == 3, "target: spatial shape ", shape_str(spatial), " is neither 2-D nor 3-D");
  int64_t n = 1;
  for (int64_t s : spatial) n *= s;
  std::vector<double> m(n, 0.0);
  auto labels_of = [&](const Tensor& t, const char* what) {
    GB_CHECK(t.defined(), "target: region '", region_kind_name(spec.region), "' needs the ", what, " labels");
    GB_CHECK(t.shape() == spatial, "target: ", what, " labels ", t.desc(), " do not match the model grid ",
             shape_str(spatial));
    return t.to(Device::CPU).to(DType::I32).contiguous().to_vector_as<int32_t>();
  };
  switch (spec.region) {
    case RegionKind::Whole: std::fill(m.begin(), m.end(), 1.0); break;
    case RegionKind::Prediction:
    case RegionKind::Truth: {
      auto l = labels_of(spec.region == RegionKind::Truth ? truth : pred,
                         spec.region == RegionKind::Truth ? "true" : "predicted");
      for (int64_t i = 0; i < n; ++i) m[i] = l[i] == spec.cls ? 1.0 : 0.0;
      break;
    }
    case RegionKind::Component: {
      auto l = labels_of(spec.of_truth ? truth : pred, spec.of_truth ? "true" : "predicted");
      std::vector<int32_t> bin(n);
      for (int64_t i = 0; i < n; ++i) bin[i] = l[i] == spec.cls;
      eval::Components cc = eval::connected_components(Tensor::from_vector(bin, spatial));
      GB_CHECK(!cc.sizes.empty(), "target: no class-", spec.cls, " component in the ",
               spec.of_truth ? "truth" : "prediction");
      int64_t id = spec.component;
      if (id == 0) id = std::max_element(cc.sizes.begin(), cc.sizes.end()) - cc.sizes.begin() + 1;  // first largest
      GB_CHECK(id >= 1 && id <= (int64_t)cc.sizes.size(), "target: component ", spec.component, " does not exist (",
               cc.sizes.size(), " components)");
      auto cl = cc.labels.contiguous().to_vector_as<int32_t>();
      for (int64_t i = 0; i < n; ++i) m[i] = cl[i] == id ? 1.0 : 0.0;
      break;
    }
    case RegionKind::Box: {
      GB_CHECK((int64_t)spec.box.size() == 2 * nd, "target: a box needs ", 2 * nd, " numbers (lo then hi per axis), got ",
               spec.box.size());
      for (int64_t d = 0; d < nd; ++d)
        GB_CHECK(spec.box[d] >= 0 && spec.box[d] < spec.box[nd + d] && spec.box[nd + d] <= spatial[d],
                 "target: box axis ", d, " [", spec.box[d], ", ", spec.box[nd + d], ") is empty or outside 0..",
                 spatial[d]);
      for (int64_t i = 0; i < n; ++i) {
        int64_t r = i;
        bool in = true;
        for (int64_t d = nd - 1; d >= 0; --d) {
          const int64_t c = r % spatial[d];
          r /= spatial[d];
          in = in && c >= spec.box[d] && c < spec.box[nd + d];
        }
        m[i] = in ? 1.0 : 0.0;
      }
      break;
    }
    case RegionKind::Pixel: {
      GB_CHECK((int64_t)spec.pixel.size() == nd, "target: a pixel needs ", nd, " coordinates, got ", spec.pixel.size());
      int64_t off = 0;
      for (int64_t d = 0; d < nd; ++d) {
        GB_CHECK(spec.pixel[d] >= 0 && spec.pixel[d] < spatial[d], "target: pixel coordinate ", spec.pixel[d],
                 " outside 0..", spatial[d] - 1);
        off = off * spatial[d] + spec.pixel[d];
      }
      m[off] = 1.0;
      break;
    }
  }
  int64_t count = 0;
  for (double v : m) count += v != 0;
  GB_CHECK(count > 0, "target: the region (", spec.describe(), ") is empty");
  return Tensor::from_vector(m, spatial);
}

Target resolve_target(models::SegmentationModel& model, const Tensor& x, const TargetSpec& spec, const Tensor& truth) {
  GB_CHECK(x.dim() == 4 || x.dim() == 5, "target: input must be [1, C, H, W] or [1, C, D, H, W], got ", x.desc());
  GB_CHECK(x.size(0) == 1, "target: resolve one input at a time, got ", x.desc());
  GB_CHECK(spec.cls >= 0 && spec.cls < model.config().classes, "target: class ", spec.cls, " out of range for ",
           model.config().classes, " classes");
  Shape spatial(x.shape().begin() + 2, x.shape().end());
  Tensor pred;
  const bool needs_pred = spec.region == RegionKind::Prediction || (spec.region == RegionKind::Component && !spec.of_truth);
  if (needs_pred) {
    EvalGuard eg(model);
    NoGradGuard ng;
    Tensor logits = model.forward(x.to(model.device()));  // [1, classes, *spatial], where the model is
    pred = argmax(logits, 1).to(Device::CPU).view_reshape(spatial);  // the labels come back once
  }
  Target t;
  t.cls = spec.cls;
  t.mask = region_mask(spec, spatial, pred, truth);
  return t;
}

void check_target(const Target& t, const Shape& ls, const char* who) {
  GB_CHECK(t.mask.defined(), who, ": target has no region");
  GB_CHECK(t.cls >= 0 && t.cls < ls[1], who, ": class ", t.cls, " out of range for ", ls[1], " classes");
  const Shape spatial(ls.begin() + 2, ls.end());
  const Shape& ms = t.mask.shape();
  const bool shared = ms == spatial;
  Shape batched = spatial;
  batched.insert(batched.begin(), ls[0]);
  GB_CHECK(shared || ms == batched, who, ": region ", t.mask.desc(), " fits neither the grid ", shape_str(spatial),
           " nor the batch ", shape_str(batched));
}

Tensor target_scores(const Tensor& logits, const Target& t) {
  check_target(t, logits.shape(), "target");
  const int64_t B = logits.size(0);
  Shape ms = logits.shape();
  ms[1] = 1;
  if (t.mask.dim() == logits.dim() - 2) ms[0] = 1;  // one region for every sample: broadcast
  // The region goes where the logits are (a host mask, converted there, one copy per batch).
  Tensor m = t.mask.to(Device::CPU).to(logits.dtype()).contiguous().view_reshape(ms).to(logits.device());
  Tensor zc = slice(logits, 1, t.cls, t.cls + 1);  // [B, 1, *spatial]
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < logits.dim(); ++d) dims.push_back(d);
  Tensor r = sum(mul(zc, m), dims);  // [B]
  GB_CHECK(r.numel() == B, "target: internal shape error");
  return r;
}

}  // namespace gb::xai

#include "draw/panel.h"

#include <string>

namespace gb::draw {
namespace {

std::string desc_of(const Tensor& t) { return t.defined() ? t.desc() : std::string("undefined"); }

// ct01 must be a real-valued [H, W]; returns it contiguous.
Tensor check_ct(const Tensor& ct01, const char* op) {
  GB_CHECK(ct01.defined() && (ct01.dtype() == DType::F32 || ct01.dtype() == DType::F64) && ct01.dim() == 2, op,
           ": ct slice must be f32/f64 [H,W] in [0,1], got ", desc_of(ct01));
  return ct01.contiguous();
}

void check_same_hw(const Tensor& t, const Tensor& ct, const char* op, const char* what) {
  GB_CHECK(t.dim() == 2 && t.size(0) == ct.size(0) && t.size(1) == ct.size(1), op, ": ", what, " ", t.desc(),
           " must be [H,W] like the ct slice ", ct.desc());
}

void check_labels(const Tensor& t, const Tensor& ct, const char* op, const char* what) {
  GB_CHECK(t.dtype() == DType::I32, op, ": ", what, " must be an i32 label map, got ", t.desc());
  check_same_hw(t, ct, op, what);
}

}  // namespace

Tensor segmentation_overlay(const Tensor& ct01, const Tensor& labels, const std::vector<Rgb>& colours) {
  Tensor ct = check_ct(ct01, "segmentation_overlay");
  GB_CHECK(labels.defined(), "segmentation_overlay: labels are undefined");
  check_labels(labels, ct, "segmentation_overlay", "labels");
  Tensor rgb = grey_to_rgb(ct);
  draw_label_contours(rgb, labels.contiguous(), colours);
  return rgb;
}

Tensor explanation_panel(const PanelInput& in) {
  const char* op = "explanation_panel";
  Tensor ct = check_ct(in.ct01, op);
  GB_CHECK(in.map01.defined(), op, ": the saliency map is undefined");
  GB_CHECK(in.map01.dtype() == DType::F32 || in.map01.dtype() == DType::F64, op,
           ": the saliency map must be f32/f64, got ", in.map01.desc());
  check_same_hw(in.map01, ct, op, "saliency map");
  if (in.truth.defined()) check_labels(in.truth, ct, op, "truth");
  if (in.prediction.defined()) check_labels(in.prediction, ct, op, "prediction");
  if (in.region.defined()) check_same_hw(in.region, ct, op, "region");
  const int64_t H = ct.size(0), W = ct.size(1);

  Tensor p1 = grey_to_rgb(ct);  // [3, H, W] each
  Tensor p2 = grey_to_rgb(ct);
  // Outlines only touch the boundary pixels of non-zero labels, so the prediction's land on top of
  // the truth's where both run along the same pixels.
  if (in.truth.defined()) draw_label_contours(p2, in.truth.contiguous(), in.truth_colours);
  if (in.prediction.defined()) draw_label_contours(p2, in.prediction.contiguous(), in.prediction_colours);
  Tensor p3 = overlay_heatmap(ct, in.map01.contiguous(), in.colormap, in.alpha, in.threshold);
  if (in.region.defined()) {
    std::vector<double> rv = in.region.to_vector();
    std::vector<int32_t> mask(rv.size());
    for (size_t i = 0; i < rv.size(); ++i) mask[i] = rv[i] != 0 ? 1 : 0;
    draw_label_contours(p3, Tensor::from_vector(mask, {H, W}), {Rgb{0, 0, 0}, in.region_colour});
  }
  Tensor out = Tensor::empty({3, H, 3 * W}, DType::U8);
  out.view_slice(2, 0, W).copy_from(p1);
  out.view_slice(2, W, 2 * W).copy_from(p2);
  out.view_slice(2, 2 * W, 3 * W).copy_from(p3);
  return out;
}

}  // namespace gb::draw

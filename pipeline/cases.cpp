#include "pipeline/cases.h"

#include <filesystem>

#include "draw/panel.h"
#include "io/nifti.h"
#include "train/predict.h"

namespace gb::pipeline {
namespace fs = std::filesystem;

CaseResult segment_case(models::SegmentationModel& model, const io::Preprocess& pre, const io::Dataset& ds,
                        int64_t item, const std::string& out_dir) {
  CaseResult c;
  c.sample = ds.load(item);
  GB_CHECK(c.sample.is_volume, c.sample.info.image_path, ": segment_case needs a volume");
  io::check_units(pre, c.sample.units, c.sample.info.image_path.empty() ? c.sample.info.id : c.sample.info.image_path);
  train::PredictOptions po;
  po.pre = pre;
  c.pred = train::predict_volume(model, c.sample.image, po);
  if (c.sample.label.data.defined()) {
    const auto cl = eval::lits_classes();
    c.liver = eval::class_dice(c.pred, c.sample.label.data, cl[0]);
    c.tumour = eval::class_dice(c.pred, c.sample.label.data, cl[1]);
  }
  if (!out_dir.empty()) {
    fs::create_directories(out_dir);
    c.pred_path = (fs::path(out_dir) / (c.sample.info.id + "_pred.nii.gz")).string();
    io::WriteOptions wo;
    wo.dtype = io::NiftiDType::U8;
    io::write_nifti_in_geometry(c.pred_path, c.sample.image, c.pred, wo);
  }
  return c;
}

SliceChoice choose_tumour_slice(const Tensor& pred, const Tensor& truth) {
  GB_CHECK(pred.defined() && pred.dim() == 3, "choose_tumour_slice: expected labels [D,H,W]");
  const int64_t D = pred.size(0), HW = pred.size(1) * pred.size(2);
  auto pv = pred.to_vector_as<int32_t>();
  std::vector<int32_t> tv;
  if (truth.defined()) tv = truth.to_vector_as<int32_t>();
  SliceChoice best;
  for (int64_t k = 0; k < D; ++k) {
    int64_t np = 0, nt = 0;
    for (int64_t i = 0; i < HW; ++i) {
      np += pv[k * HW + i] == 2;
      if (!tv.empty()) nt += tv[k * HW + i] == 2;
    }
    SliceChoice c{k, np > 0, np > 0 ? np : nt};
    if (c.pixels > 0 && c.rank() > best.rank()) best = c;
  }
  return best;
}

ExplainedSlice explain_slice(models::SegmentationModel& model, const io::Preprocess& pre, const CaseResult& c,
                             const SliceChoice& choice, const std::string& layer, int32_t cls) {
  GB_CHECK(choice.slice >= 0, "explain_slice: no slice chosen (no tumour predicted or labelled)");
  const io::Volume& img = c.sample.image;
  const int64_t k = choice.slice, H = img.data.size(1), W = img.data.size(2);
  Tensor x = io::model_input_slice(img.data, k, pre);  // [1, C, h, w]
  Tensor truth = c.sample.label.data.defined() ? io::label_slice(c.sample.label.data, k) : Tensor();
  Tensor pred = io::label_slice(c.pred, k);
  Tensor src = choice.on_prediction ? pred : truth;
  Tensor region = eval::class_mask(io::pre_resize_label(src, pre), {cls});
  ExplainedSlice e;
  for (int32_t v : region.to_vector_as<int32_t>()) e.region_pixels += v;
  model.eval();
  e.cam = xai::grad_cam(model, x, layer, cls, region);
  draw::PanelInput p;
  p.ct01 = io::pre_intensities(io::label_slice(img.data, k), pre).contiguous();
  p.truth = truth;
  p.prediction = pred;
  p.map01 = io::resize_bilinear(e.cam.normalised.to(DType::F32).view_reshape({1, pre.height, pre.width}), H, W)
                .view_reshape({H, W})
                .contiguous();
  p.region = eval::class_mask(src, {cls});
  p.region_colour = choice.on_prediction ? draw::Rgb{255, 230, 0} : draw::Rgb{255, 40, 40};
  e.panel = draw::explanation_panel(p);
  return e;
}

}  // namespace gb::pipeline

// Per-case work the demo (and later evaluate / explain) do on a labelled dataset: segment a case,
// write the prediction in the input's geometry, score it; choose the slice to explain; explain it
// with Grad-CAM and draw the panel.
#pragma once
#include <string>

#include "eval/labels.h"
#include "io/dataset.h"
#include "io/preprocess_spec.h"
#include "models/model.h"
#include "xai/gradcam.h"

namespace gb::pipeline {

struct CaseResult {
  io::Sample sample;   // the case as loaded (HU image, labels, geometry)
  Tensor pred;         // i32 [D, H, W]
  eval::Dice liver, tumour;  // LiTS classes (eval::lits_classes)
  std::string pred_path;     // where the prediction was written ("" when out_dir is empty)
};

// Segments dataset item `item` with a 2-D model fed as `pre`; writes <out_dir>/<id>_pred.nii.gz (u8,
// the input's geometry) when out_dir is not empty.
CaseResult segment_case(models::SegmentationModel& model, const io::Preprocess& pre, const io::Dataset& ds,
                        int64_t item, const std::string& out_dir);

// The slice worth explaining: the one with the most predicted tumour pixels; when nothing is
// predicted anywhere, the one with the most true tumour pixels (on_prediction false). slice -1 when
// neither exists.
struct SliceChoice {
  int64_t slice = -1;
  bool on_prediction = false;
  int64_t pixels = 0;  // tumour pixels of the chosen region on that slice
  // Order of preference: any predicted tumour outranks a true-only one, then more pixels; -1 for none.
  double rank() const { return slice < 0 ? -1.0 : (on_prediction ? 1e12 : 0.0) + (double)pixels; }
};
SliceChoice choose_tumour_slice(const Tensor& pred, const Tensor& truth);

// Grad-CAM of class `cls` summed over the region (predicted or true tumour of the chosen slice) at
// `layer`, and the panel CT | truth and prediction outlines | Grad-CAM with the region outlined at
// the slice's own resolution (U8 [3, H, 3W]).
struct ExplainedSlice {
  xai::CamResult cam;
  Tensor panel;
  int64_t region_pixels = 0;  // at model input size
};
ExplainedSlice explain_slice(models::SegmentationModel& model, const io::Preprocess& pre, const CaseResult& c,
                             const SliceChoice& choice, const std::string& layer, int32_t cls = 2);

}  // namespace gb::pipeline

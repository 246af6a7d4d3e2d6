#include "train/validate.h"

#include <map>

#include "eval/labels.h"
#include "train/predict.h"
#include "train/sliding_window.h"

namespace gb::train {

ValScores validate(models::SegmentationModel& model, const io::Dataset& ds, const std::vector<int64_t>& items,
                   const io::Preprocess& pre) {
  const auto classes = eval::lits_classes();  // liver, tumour
  // case -> per class (pred, truth, inter) counts
  std::map<std::string, std::array<std::array<int64_t, 3>, 2>> counts;
  std::vector<std::string> order;
  PredictOptions po;
  po.pre = pre;
  for (int64_t item : items) {
    io::Sample s = ds.load(item);
    GB_CHECK(s.label.data.defined(), s.info.image_path, ": validation needs labels");
    Tensor pred;
    if (pre.depth > 0) {
      SlidingWindowOptions so;
      so.window = pre.window;
      so.units = pre.units;
      pred = predict_volume_3d(model, s.image, so);
    } else if (s.is_volume) {
      pred = predict_volume(model, s.image, po);
    } else {
      pred = predict_image(model, s.image.data, po).labels;
    }
    auto& c = counts[s.info.case_id];
    if (std::find(order.begin(), order.end(), s.info.case_id) == order.end()) order.push_back(s.info.case_id);
    for (size_t k = 0; k < classes.size(); ++k) {
      eval::Dice d = eval::class_dice(pred, s.label.data, classes[k]);
      c[k][0] += d.pred, c[k][1] += d.truth, c[k][2] += d.inter;
    }
  }
  ValScores v;
  for (const auto& id : order) {
    const auto& c = counts[id];
    v.liver += eval::dice_from_counts(c[0][0], c[0][1], c[0][2]).dice;
    eval::Dice t = eval::dice_from_counts(c[1][0], c[1][1], c[1][2]);
    v.tumour += t.dice;
    v.tumour_both_empty += t.both_empty;
    ++v.cases;
  }
  if (v.cases > 0) v.liver /= (double)v.cases, v.tumour /= (double)v.cases;
  return v;
}

}  // namespace gb::train

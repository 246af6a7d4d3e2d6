// Overlap metrics of one label class between a prediction and a ground truth (DESIGN.md §6):
//   Dice = 2|P∩G| / (|P| + |G|), IoU = |P∩G| / |P∪G|, sensitivity = TP/(TP+FN),
//   specificity = TN/(TN+FP), VOE = 1 - IoU, RVD = (|P| - |G|) / |G|.
// Empty-mask convention: both empty -> Dice = IoU = 1 (and `both_empty` is set so callers can count
// the cases it applied to); exactly one empty -> 0. RVD is NaN when G is empty.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace gb::eval {

struct Overlap {
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  bool both_empty = false;
  double dice = 0, iou = 0, sensitivity = 0, specificity = 0, voe = 0, rvd = 0;
};

// pred, truth: i32 label tensors of equal shape; `cls` the class scored (voxels == cls are positive).
Overlap overlap(const Tensor& pred, const Tensor& truth, int32_t cls);

}  // namespace gb::eval

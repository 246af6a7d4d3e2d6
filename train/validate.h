// Validation during training: per-class Dice (LiTS classes: liver = {1, 2}, tumour = {2}) on the
// held-out cases, the mean over cases. Volumes are segmented whole (2-D models slice by slice,
// 3-D models by sliding window); for slice folders a case's Dice pools all its exported slices.
// Empty-mask convention (DESIGN.md §6): both empty -> 1.
#pragma once
#include <vector>

#include "io/dataset.h"
#include "io/preprocess_spec.h"
#include "models/model.h"

namespace gb::train {

struct ValScores {
  double liver = 0, tumour = 0;  // mean Dice over cases
  int64_t cases = 0;
  int64_t tumour_both_empty = 0;  // cases where the convention applied to tumour
};

ValScores validate(models::SegmentationModel& model, const io::Dataset& ds, const std::vector<int64_t>& items,
                   const io::Preprocess& pre);

}  // namespace gb::train

// Label maps -> the binary masks that are scored and explained, and LiTS's class definitions:
// liver = labels {1, 2} (the tumour lies inside the liver), tumour = {2}. Configurable: a class is a
// name and a set of label values.
#pragma once
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace gb::eval {

struct ClassDef {
  std::string name;             // "liver"
  std::vector<int32_t> labels;  // label values that count as this class: {1, 2}
};
// LiTS: {liver: {1, 2}, tumour: {2}}.
std::vector<ClassDef> lits_classes();

// labels i32 (any shape) -> i32 0/1 mask of the voxels whose value is in `values`.
Tensor class_mask(const Tensor& labels, const std::vector<int32_t>& values);

struct Dice {
  double dice = 0;
  int64_t pred = 0, truth = 0, inter = 0;
  bool both_empty = false;  // convention: both empty -> Dice 1 (DESIGN.md §6)
};
// Dice of one class; pred and truth i32 label maps of one shape.
Dice class_dice(const Tensor& pred, const Tensor& truth, const ClassDef& c);
// Accumulates counts (e.g. over the slices of one case) and finishes with the same convention.
Dice dice_from_counts(int64_t pred, int64_t truth, int64_t inter);

}  // namespace gb::eval

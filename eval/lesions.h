// Lesion detection: connected components of the truth and of the prediction (26-connectivity in
// 3-D, 8 in 2-D, as eval/components.h counts them), matched by overlap.
//   A true lesion g is found when some predicted component p has IoU(g, p) = |g∩p| / |g∪p| > 0.5.
//   IoU > 0.5 matches are one-to-one (more than half of p lies in g, so in no other true lesion),
//   hence the matched predicted components number `found` too:
//   recall = found / true lesions, precision = found / predicted components, F1 = 2PR / (P + R);
//   each NaN (undefined) when its denominator is 0.
//   Per-lesion Dice of g: 2|g∩P_g| / (|g| + |P_g|), P_g = the union of the predicted components that
//   touch g (0 when none does): how well the lesion is outlined, whether or not it counts as found.
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "tensor/tensor.h"

namespace gb::eval {

struct LesionScore {
  int64_t truth = 0, pred = 0;  // connected components
  int64_t found = 0;            // true lesions matched with IoU > threshold
  std::vector<double> lesion_dice;  // one per true lesion, in component (scan) order
  std::vector<int64_t> lesion_voxels;  // their sizes
  // Accumulates another part (slice) of the same case.
  void add(const LesionScore& o);
  double recall() const;
  double precision() const;
  double f1() const;
  double mean_lesion_dice() const;  // NaN without true lesions
};

// pred, truth: i32/u8 masks of one shape [H, W] or [D, H, W], non-zero = lesion.
LesionScore detect_lesions(const Tensor& pred, const Tensor& truth, double iou_threshold = 0.5);
// The same on u8 buffers [D*H*W] (ndim 3: 26-connectivity; 2: D = 1, 8-connectivity). Components
// are labelled only inside the bounding box of both masks, so a small lesion in a big volume costs
// little beyond one scan.
LesionScore detect_lesions(const uint8_t* pred, const uint8_t* truth, const std::array<int64_t, 3>& dims, int ndim,
                           double iou_threshold = 0.5);

}  // namespace gb::eval

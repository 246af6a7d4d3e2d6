// Occlusion sensitivity (Zeiler & Fergus 2014) for a segmentation target: slide a patch over the
// input, replace it by the baseline, and record how much T drops:
//   d_j = T(x) - T(x with patch j replaced by x')      (> 0: the patch supports T)
//   map(p) = mean of d_j over the patches j covering p  (0 where no patch covers p)
// Patch starts along each axis: 0, stride, 2 stride, ... while the patch fits, plus one patch flush
// with the far edge when the last one leaves pixels uncovered, so every pixel is covered.
// All channels of a patch are replaced together. The occluded copies are scored in batches (forward
// passes only, no graph), sized to memory_mb unless batch > 0. 2-D [H, W] and 3-D [D, H, W].
#pragma once
#include <vector>

#include "models/model.h"
#include "xai/targets.h"

namespace gb::xai {

struct OcclusionOptions {
  std::vector<int64_t> patch{16, 16};   // per spatial axis (one value = all axes)
  std::vector<int64_t> stride{8, 8};    // per spatial axis (one value = all axes)
  double memory_mb = 2048;
  int64_t batch = 0;                    // copies per forward; 0 = from memory_mb
};

struct OcclusionResult {
  Tensor map;        // f64 [*spatial]
  double T_input = 0;
  int64_t patches = 0, batch = 0;
};

// x, baseline: [1, C, *spatial]; target.mask [*spatial].
OcclusionResult occlusion(models::SegmentationModel& model, const Tensor& x, const Tensor& baseline,
                          const Target& target, const OcclusionOptions& opt = {});

}  // namespace gb::xai

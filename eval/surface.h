// Surface distances between two binary masks: ASSD, MSD and HD95 in millimetres.
//
// Surface (border) of a mask: its foreground voxels with at least one background face neighbour
// (6 in 3-D, 4 in 2-D), voxels on the edge of the volume counting as having background outside.
// This is medpy's `mask ^ binary_erosion(mask, generate_binary_structure(ndim, 1))` (scipy's
// border_value = 0), the convention of the golden values in tests/golden/eval/.
//
// Directed distances A -> B: for every border voxel of A, the Euclidean distance in mm from its
// centre to the nearest border voxel centre of B (medpy's __surface_distances), read off an exact
// distance transform (eval/distance_transform.h) of B's border computed only over the bounding box
// of A and B: every border voxel of either mask lies inside it, and outside it is background.
//   ASSD = mean of the union of both directed sets: (Σ d(a, ∂B) + Σ d(b, ∂A)) / (|∂A| + |∂B|)
//          (the LiTS/Heimann definition and medpy 0.5's assd; older medpy averaged the two directed means)
//   MSD  = max of both directed sets (the symmetric Hausdorff distance)
//   HD95 = 95th percentile of the union of both directed sets (medpy 0.5's hd95), with numpy's
//          default linear interpolation between order statistics. (Some tools take the larger of the
//          two directed 95th percentiles instead; that is never smaller than this.)
// When either mask is empty there is no surface to measure: all three are undefined (NaN), never 0.
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "tensor/tensor.h"

namespace gb::eval {

struct DirectedDistances {
  std::vector<double> a_to_b, b_to_a;  // mm, one per border voxel of A (resp. B), in scan order
  bool defined = false;                // false when A or B is empty (both vectors then empty)
};

// a, b: u8 masks [D*H*W] (non-zero = foreground); ndim 3 for a volume (6-neighbour border, D may be
// 1), 2 for an image (D must be 1; 4-neighbour border). spacing_dhw in buffer order (D, H, W).
DirectedDistances surface_distances(const uint8_t* a, const uint8_t* b, const std::array<int64_t, 3>& dims, int ndim,
                                    const std::array<double, 3>& spacing_dhw);
// a, b: i32/u8 masks of one shape, [H, W] or [D, H, W]; spacing_xyz as io::Volume stores it
// (x = W, y = H, z = D; z unused for [H, W]).
DirectedDistances surface_distances(const Tensor& a, const Tensor& b, const std::array<double, 3>& spacing_xyz);

struct SurfaceMetrics {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  bool defined = false;
  double assd = kNaN, msd = kNaN, hd95 = kNaN;
  int64_t border_a = 0, border_b = 0;  // surface voxels of each mask
};
// The three figures from directed sets (several slices' sets may be concatenated first).
SurfaceMetrics summarise_surface(const std::vector<double>& a_to_b, const std::vector<double>& b_to_a);

// The border voxels of a mask as a u8 0/1 buffer (the surface definition above), exposed for tests.
std::vector<uint8_t> border_mask(const uint8_t* m, const std::array<int64_t, 3>& dims, int ndim);

}  // namespace gb::eval

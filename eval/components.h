// Connected components of a binary mask (2-D: 8-connectivity, 3-D: 26-connectivity, as LiTS counts
// lesions), by breadth-first flood fill: linear in the number of voxels, no recursion.
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace gb::eval {

struct Components {
  Tensor labels;               // i32, same shape as the mask: 0 background, 1..n component ids
  std::vector<int64_t> sizes;  // sizes[i] = voxels of component i + 1
};
// mask: i32/u8 [H, W] or [D, H, W], non-zero = foreground. Components are numbered in scan order.
Components connected_components(const Tensor& mask);

// Post-processing of a LiTS label map [D, H, W] or [H, W] (0 / 1 liver / 2 tumour): keeps the largest
// connected liver component (liver + tumour voxels), and tumour only inside it; everything else
// becomes background.
Tensor keep_largest_liver(const Tensor& labels);

}  // namespace gb::eval

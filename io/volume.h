// A medical image volume in memory, as the rest of glassbox sees it.
//   data     [D, H, W] (slowest to fastest: k, j, i of the file's voxel grid after canonical
//            reorientation), f32 for images (Hounsfield units after scl_slope/scl_inter), i32 for
//            label maps.
//   spacing  voxel size in mm along (x=i/W, y=j/H, z=k/D).
//   affine   4x4 voxel-to-world (RAS+, mm) mapping of (i, j, k, 1) for `data` as stored here.
// The reader keeps what it needs (the original header and the reorientation applied) in `source`
// so that a map written for this volume lands in the input's exact geometry.
#pragma once
#include <array>
#include <memory>
#include <string>

#include "tensor/tensor.h"

namespace gb::io {

using Affine = std::array<std::array<double, 4>, 4>;

struct SourceGeometry;  // defined by io/nifti.h: original header, qform/sform codes, reorientation

struct Volume {
  Tensor data;
  std::array<double, 3> spacing{1, 1, 1};
  Affine affine{{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}};
  std::string path;  // where it came from (for messages); empty for generated volumes
  std::shared_ptr<const SourceGeometry> source;  // null for generated volumes
};

}  // namespace gb::io

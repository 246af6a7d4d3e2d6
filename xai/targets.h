// What an explanation explains (DESIGN.md §7): T = sum_{p in M} z_c(p), the pre-softmax logits of class
// c summed over a region M of the model's input grid.
//
// The region, chosen once from the unperturbed input and then held fixed (so every method, every IG
// step and every occluded copy scores the same pixels):
//   Prediction  pixels predicted as c (argmax of the logits), the default
//   Truth       pixels labelled c in the ground truth (resized to the model's grid, nearest)
//   Component   one connected component of the predicted (or, with of_truth, true) class-c pixels:
//               component 0 = the largest, k >= 1 = the k-th in scan order (eval/components.h:
//               8-connected in 2-D, 26-connected in 3-D)
//   Box         a half-open box {y0, x0, y1, x1} (3-D: {z0, y0, x0, z1, y1, x1}) in model-grid pixels
//   Pixel       one pixel {y, x} (3-D {z, y, x})
//   Whole       every pixel
// 2-D models: spatial = [H, W]; 3-D models (3D U-Net): spatial = [D, H, W]; the code is the same.
#pragma once
#include <string>
#include <vector>

#include "models/model.h"

namespace gb::xai {

enum class RegionKind { Prediction, Truth, Component, Box, Pixel, Whole };
RegionKind region_kind_from_name(const std::string& s);  // "prediction", "truth", "component", ...
const char* region_kind_name(RegionKind k);

struct TargetSpec {
  int64_t cls = 2;                      // LiTS: 0 background, 1 liver, 2 tumour
  RegionKind region = RegionKind::Prediction;
  int64_t component = 0;                // Component: 0 largest, k >= 1 k-th in scan order
  bool of_truth = false;                // Component: of the ground truth rather than the prediction
  std::vector<int64_t> box;             // Box: 2 x spatial dims, half-open
  std::vector<int64_t> pixel;           // Pixel: spatial dims
  std::string describe() const;         // "class 2 over the predicted region"
};

// A resolved target: class and region mask. mask: f64 0/1, [B, *spatial] (one region per sample) or
// [*spatial] (the same region for every sample of a batch).
struct Target {
  int64_t cls = 0;
  Tensor mask;
  int64_t pixels() const;  // non-zero entries of the mask (all samples of a batched mask)
};

// The region of `spec` on a grid of shape `spatial`. pred, truth: i32 labels [*spatial] (either may be
// undefined when the spec does not need it). Throws "target: ..." for an empty region, a box or pixel
// outside the grid, a missing truth, a component index that does not exist.
Tensor region_mask(const TargetSpec& spec, const Shape& spatial, const Tensor& pred, const Tensor& truth);

// Resolves `spec` for input x [1, C, *spatial]: runs the model once (no graph) for the predicted labels
// when the region needs them. truth: i32 [*spatial] at the model's grid, or undefined. The model may be
// on a device (x goes there, the labels come back); the mask is a host tensor.
Target resolve_target(models::SegmentationModel& model, const Tensor& x, const TargetSpec& spec,
                      const Tensor& truth = Tensor());

// Per-sample T for logits [B, classes, *spatial] -> [B] (differentiable; dtype and device of the
// logits: the mask is copied to their device).
Tensor target_scores(const Tensor& logits, const Target& t);

// Checks that t fits logits / inputs of this batch; message names `who`.
void check_target(const Target& t, const Shape& logits_shape, const char* who);

}  // namespace gb::xai

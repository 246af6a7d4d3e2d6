// Whole-volume inference for 3-D models by overlapping windows, as nnU-Net (Isensee et al. 2021):
//   1. the volume [D, H, W] is mapped to [0, 1] as in training (io::to_unit_range: the HU window, or
//      /255 for 8-bit stacks);
//      along an axis shorter than the window it is centred and padded with 0 (windowed air), as the
//      PatchLoader pads its patches;
//   2. windows of the model's patch size are placed on a grid per axis (window_starts): the first at
//      0, the last flush with the end, n = ceil((size - patch) / (patch * (1 - overlap))) + 1 of them,
//      evenly spaced (rounded), so neighbours overlap by at least `overlap` of the window;
//   3. each window's softmax probabilities are accumulated with a Gaussian importance map (centre
//      weight 1, sigma = sigma_scale * patch per axis, nnU-Net's 1/8), and the weights too; the
//      probabilities are the weighted sum divided by the summed weight, so where every window agrees
//      the weights cancel exactly;
//   4. the padding is cropped away and argmax over classes gives the labels.
// Runs in eval mode without recording a graph (the model's mode is restored), `batch` windows per
// forward. Accumulators are f32 [C, D', H', W'] (D', H', W': padded size) plus [D', H', W'] weights.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "io/preprocess.h"
#include "io/volume.h"
#include "models/model.h"

namespace gb::train {

struct SlidingWindowOptions {
  std::array<int64_t, 3> patch{0, 0, 0};  // window (pd, ph, pw); 0 = the model's config().size
  double overlap = 0.5;                   // in [0, 1): fraction of the window shared with the next
  bool gaussian = true;                   // false: every window voxel weighs 1
  double sigma_scale = 1.0 / 8.0;         // Gaussian sigma as a fraction of the window size
  int64_t batch = 2;                      // windows per forward
  io::Window window;
  io::Units units = io::Units::HU;        // of the volume (Pixel8: /255 instead of the HU window)
  std::function<void(int64_t done, int64_t total)> progress;  // after each batch of windows
};

// image f32 HU [D, H, W] -> i32 labels [D, H, W]. When probabilities is given it receives the
// averaged softmax f32 [C, D, H, W] (C = the model's classes).
Tensor predict_volume_3d(models::SegmentationModel& model, const io::Volume& image, const SlidingWindowOptions& opt,
                         Tensor* probabilities = nullptr);

// Window origins along one axis of `size` (>= patch) voxels: ascending, first 0, last size - patch.
std::vector<int64_t> window_starts(int64_t size, int64_t patch, double overlap);

// The importance map f32 [pd, ph, pw]: prod_a exp(-(x_a - (p_a - 1) / 2)^2 / (2 (sigma_scale p_a)^2)),
// 1 at the centre (and > 0 everywhere).
Tensor gaussian_importance(const std::array<int64_t, 3>& patch, double sigma_scale);

}  // namespace gb::train

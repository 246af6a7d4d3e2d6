// Preprocessing from stored intensities to network input.
//
// Intensity: CT in Hounsfield units is windowed and scaled to [0, 1]:
//     y = (clamp(x, lo, hi) - lo) / (hi - lo)        default window [-200, 250] HU
// so -200 HU (and below) -> 0, 250 HU (and above) -> 1, liver (~60 HU) -> ~0.58. 8-bit image exports
// (slice folders; already windowed by whoever exported them) are scaled y = x / 255.
//
// Resampling to the model input size (2-D, per slice) follows scipy.ndimage.zoom, which the official
// TransUNet uses: corners map to corners, source coordinate s = d * (in - 1) / (out - 1) (s = 0 when
// out == 1). Images: bilinear. Labels: nearest (s rounded half up), so no new label values appear.
//
// 2.5-D input: slice k of a volume with its neighbours k-1, k, k+1 as 3 channels; at the first and
// last slice the missing neighbour is replaced by the edge slice itself.
#pragma once
#include <cstdint>

#include "io/dataset.h"
#include "tensor/tensor.h"

namespace gb::io {

struct Window {
  float lo = -200.f, hi = 250.f;
};

// f32 any shape -> f32 same shape, values in [0, 1].
Tensor window_hu(const Tensor& hu, const Window& w = {});
// f32 any shape, 0..255 -> f32 [0, 1].
Tensor scale_pixel8(const Tensor& px);
// window_hu for Units::HU, scale_pixel8 for Units::Pixel8.
Tensor to_unit_range(const Tensor& img, Units units, const Window& w = {});

// img f32 [C, H, W] or [H, W] -> same rank with H, W = oh, ow.
Tensor resize_bilinear(const Tensor& img, int64_t oh, int64_t ow);
// labels i32 [H, W] or [C, H, W] -> same rank with H, W = oh, ow.
Tensor resize_nearest(const Tensor& labels, int64_t oh, int64_t ow);

// vol [D, H, W] (any dtype) -> [1, H, W] (context 0) or [3, H, W] (context 1: k-1, k, k+1, edges
// replicated). Copies.
Tensor volume_slice(const Tensor& vol, int64_t k, int context = 0);
// Label slice k of [D, H, W] -> [H, W] (copy).
Tensor label_slice(const Tensor& vol, int64_t k);

// img f32 [C, H, W] -> [channels, H, W]: 1 -> 3 replicates, 3 -> 1 takes the luma
// 0.299 R + 0.587 G + 0.114 B, equal counts return img unchanged.
Tensor match_channels(const Tensor& img, int64_t channels);

}  // namespace gb::io

// Maps that know nothing about the model, scored by the same saliency metrics as a real explanation
// so a reader sees what chance looks like (DESIGN.md §7):
//   random map  i.i.d. uniform [0, 1) per pixel from Philox(seed, stream): every metric's chance level
//               (AUC 0.5, rank accuracy and mass m = |M| / N, Gini 1/3)
//   edge map    Sobel gradient magnitude of the input image: what "the map lights up the tumour's rim"
//               is worth without any model (Adebayo et al. 2018 show edge detectors resemble many
//               saliency maps)
#pragma once
#include <cstdint>

#include "xai/saliency_metrics.h"

namespace gb::xai {

// f64 [*shape], uniform [0, 1); the same values for a given (seed, stream) on any machine.
Tensor random_map(const Shape& shape, uint64_t seed, uint64_t stream = 0);

// Sobel gradient magnitude over the last `spatial_dims` (2 or 3) dimensions of `image`; every leading
// dimension (batch of 1, channels) is a channel: map = sqrt(sum_channels sum_axes g_axis^2), where
// g_axis is the central difference [-1, 0, 1] along that axis smoothed by [1, 2, 1] along each other
// spatial axis (the 3x3 Sobel pair in 2-D, the 3x3x3 Sobel-Feldman triple in 3-D). Borders replicate
// the edge pixel, so the image's frame does not light up. Returns f64 [*spatial]; unnormalised (the
// metrics are scale-free).
Tensor sobel_edge_map(const Tensor& image, int64_t spatial_dims);

struct ChanceScores {
  SaliencyScores random, edge;
};

// Scores random_map(mask.shape(), seed) and sobel_edge_map(image, mask.dim()) against the mask; image
// is [*spatial], [C, *spatial] or [1, C, *spatial] with spatial = mask.shape(). With a probe, the
// deletion / insertion curves too (probe.image is then what gets perturbed).
ChanceScores score_chance_maps(const Tensor& image, const Tensor& mask, const SaliencyOptions& opt = {},
                               uint64_t seed = 1, const PerturbationProbe* probe = nullptr);

}  // namespace gb::xai

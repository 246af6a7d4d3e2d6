// Plain gradient maps and their noise-averaged versions.
//   gradient          dT/dx                                   (Simonyan et al. 2014)
//   gradient x input  x ⊙ dT/dx
//   SmoothGrad        mean over n noisy copies x + eps_i of any of these or of IG (Smilkov et al. 2017)
//   VarGrad           variance (biased, 1/n) over the same copies (Adebayo et al. 2018)
// Noise: eps_i ~ N(0, (sigma * (max x - min x))^2) elementwise, copy i drawn from Philox(seed, stream i)
// so a seed reproduces it whatever the batching. Gradient methods run the copies in batches (one
// forward + backward per batch); IG runs one IG per copy (each with its own batching), against the
// same baseline.
// Maps: attribution f64 [C, *spatial]; map = attribution summed over channels (signed).
#pragma once
#include "models/model.h"
#include "xai/integrated_gradients.h"
#include "xai/targets.h"

namespace gb::xai {

enum class GradMethod { Gradient, GradientXInput, IntegratedGradients };

struct Saliency {
  Tensor attribution;  // f64 [C, *spatial]
  Tensor map;          // f64 [*spatial]
  double target = 0;   // T(x) (SmoothGrad: mean over the noisy copies)
};

// x [1, C, *spatial].
Saliency gradient_map(models::SegmentationModel& model, const Tensor& x, const Target& target, bool times_input);

struct SmoothOptions {
  GradMethod method = GradMethod::Gradient;
  int64_t samples = 16;
  double sigma = 0.15;   // noise standard deviation as a fraction of the input's range
  uint64_t seed = 1;
  double memory_mb = 2048;   // copies per batch from the memory budget when batch == 0
  double cpu_pass_mb = 512;  // CPU only, batch == 0: as IgOptions::cpu_pass_mb
  int64_t batch = 0;         // copies per forward/backward; 0 = from memory_mb (and cpu_pass_mb)
  // IntegratedGradients only:
  Tensor baseline;       // [1, C, *spatial]
  IgOptions ig;
};

struct SmoothResult {
  Saliency mean;      // SmoothGrad
  Saliency variance;  // VarGrad
  int64_t samples = 0, batch = 0;
};

SmoothResult smooth_grad(models::SegmentationModel& model, const Tensor& x, const Target& target,
                         const SmoothOptions& opt);

// Sums [C, *spatial] over channels -> [*spatial].
Tensor channel_sum(const Tensor& attribution);

}  // namespace gb::xai

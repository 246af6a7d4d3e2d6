// Baselines x' for Integrated Gradients and occlusion, all in the model's input space ([1, C, *spatial],
// after preprocessing).
//   zero    all zeros. Fine for models that respond to the input's scale (U-Net: biased convs and
//           BatchNorm). DEGENERATE for R50-ViT-B_16 TransUNet: its root conv is weight-standardised
//           (zero-mean kernels, no bias) and followed by GroupNorm, so T(a x) hardly depends on a and
//           the whole change T(x) - T(0) happens at a < 1e-3 (see integrated_gradients.h).
//   air     -1000 HU passed through the model's own preprocessing (HU models only): a constant image,
//           so as degenerate as zero for scale-invariant models (a standardised kernel maps any
//           constant to 0 away from the borders).
//   blur    the input blurred by a Gaussian (sigma = `sigma` pixels in-plane; default 1/16 of the image
//           side): keeps the overall intensity and the body outline, removes detail. Not degenerate
//           (its conv response is not 0), the command's default; but T(blur) can lie close to T(x), so
//           the relative completeness error is read against a small T(x) - T(x').
//   noise   uniform noise over the input's [min, max], seeded (Philox): not degenerate, but a single
//           noise draw is itself a structure; average several seeds when it matters.
//   tissue  body pixels (above the image minimum) set to their mean, the rest to the minimum: keeps
//           the body outline and the mean tissue intensity, removes every organ and lesion contrast.
// Which to use when: scale-invariant models (R50 TransUNet): zero / air only with the adaptive rule,
// or tissue / blur (check the completeness line: add the adaptive rule when it warns); other models:
// zero or air (the classic choices) are fine and easiest to read.
// Measured 2026-12-01 on a trained tiny TransUNet (R50 root, `glassbox demo --size 64 --steps 600`),
// liver logits over the predicted liver of phantom volume-11 slice 16, T(x) = 843.08:
//   zero   T(x') = -1090.78  Gauss-Legendre 32 / 64 / 256 nodes: 105 % / 118 % / 118 % completeness
//          error; adaptive: 0.28 % with 465 gradient evaluations
//   air    identical to zero (-1000 HU is below the window: 0)
//   blur   T(x') = 859.89    GL 32: 34 %, GL 64: 8.4 %; adaptive: 0.22 % with 225 evaluations
//          (sigma 16 px: T(x') = 449.78, GL 32: 5.0 %)
//   tissue T(x') = 764.37    GL 32: 1.85 %
#pragma once
#include <string>

#include "io/preprocess_spec.h"
#include "tensor/tensor.h"

namespace gb::xai {

enum class BaselineKind { Zero, Air, Blur, Noise, Tissue };
BaselineKind baseline_from_name(const std::string& s);
const char* baseline_name(BaselineKind k);

struct BaselineOptions {
  BaselineKind kind = BaselineKind::Zero;
  double sigma = 0;    // blur: pixels; 0 = max(H, W) / 16
  uint64_t seed = 1;   // noise
  const io::Preprocess* pre = nullptr;  // air: the model's preprocessing (required)
};

// x: [1, C, *spatial] -> the baseline, same shape, dtype and device (computed on the host).
Tensor make_baseline(const Tensor& x, const BaselineOptions& o);

// Gaussian blur of each channel in-plane (last two dims), separable, edges replicated. x [..., H, W];
// the result is on the host.
Tensor gaussian_blur(const Tensor& x, double sigma);

}  // namespace gb::xai

// Training augmentation for 2-D slices, as the official TransUNet RandomGenerator
// (datasets/dataset_synapse.py) plus an optional intensity jitter. Per sample:
//   u1 = uniform; if u1 > 0.5:                      (probability 1/2)
//       k = int in [0, 4): rotate by k * 90 deg (np.rot90: counter-clockwise in the (H, W) plane),
//       a = int in [0, 2): flip along axis a (0 = rows / vertical, 1 = columns / horizontal)
//   else: u2 = uniform; if u2 > 0.5:                (probability 1/4)
//       angle = int in [-20, 20) degrees (np.random.randint(-20, 20)), rotation about the array
//       centre with the output the same size (scipy.ndimage.rotate reshape=False), NEAREST
//       interpolation for image AND label (order=0 in the official code), outside filled with 0.
//   else: unchanged                                 (probability 1/4)
// Then, when intensity jitter is on, with probability intensity_prob:
//       image = clamp(image * s + b, 0, 1), s uniform in [1 - contrast, 1 + contrast],
//       b uniform in [-brightness, brightness]   (image expected in [0, 1], after windowing)
// The image and label always receive the same geometric transform, so no label value is created.
// All draws come from the given gb::Generator in the order listed (scalar draws, one block each),
// so a (seed, stream, offset) reproduces the result exactly.
#pragma once
#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace gb::io {

struct AugmentOptions {
  bool geometric = true;         // the TransUNet rot90+flip / rotation rule above
  int max_angle = 20;            // rotation angle drawn from [-max_angle, max_angle)
  bool intensity = true;         // contrast/brightness jitter
  double intensity_prob = 0.5;
  double contrast = 0.1;
  double brightness = 0.1;
};

// What was applied (for tests and for logging a sample's history).
struct AugmentRecord {
  int rot90 = -1;       // k, or -1 when no rot/flip
  int flip_axis = -1;   // 0 / 1, or -1
  int angle = 0;        // degrees of the free rotation (0 when none)
  bool rotated = false;
  double scale = 1.0, shift = 0.0;
};

// image f32 [C, H, W], label i32 [H, W] (or undefined). Replaces image/label by new tensors; the
// tensors passed in are never modified (they may be shared with a cache).
AugmentRecord augment(Tensor& image, Tensor& label, Generator& gen, const AugmentOptions& opt = {});

// The building blocks (exposed for tests). All take [C, H, W] or [H, W] of any dtype.
Tensor rot90(const Tensor& x, int k);          // np.rot90(x, k) over the last two axes
Tensor flip(const Tensor& x, int axis);        // axis 0 = H (rows), 1 = W (columns)
Tensor rotate_nearest(const Tensor& x, double degrees);  // about the centre, zeros outside

}  // namespace gb::io

#include "layers/simple.h"

namespace gb::nn {

Tensor ReLU::forward(const Tensor& x) {
  return run([&] {
    add_flops(0, (double)x.numel());
    return relu(x);
  });
}

Tensor GELU::forward(const Tensor& x) {
  return run([&] {
    add_flops(0, 8.0 * x.numel());  // erf and a few multiplies
    return gelu(x);
  });
}

Tensor Identity::forward(const Tensor& x) {
  return run([&] { return x; });
}

Tensor Upsample::forward(const Tensor& x) {
  return run([&] {
    if (x.dim() == 4) {
      Tensor y = upsample_bilinear2d(x, x.size(2) * scale_, x.size(3) * scale_, align_corners_);
      add_flops(0, 7.0 * y.numel());  // 4 taps: 4 multiplies, 3 adds
      return y;
    }
    GB_CHECK(x.dim() == 5, "Upsample '", full_name(), "': expected a 4-d or 5-d input, got ", x.desc());
    Tensor y = upsample_trilinear3d(x, x.size(2) * scale_, x.size(3) * scale_, x.size(4) * scale_, align_corners_);
    add_flops(0, 15.0 * y.numel());  // 8 taps
    return y;
  });
}

Tensor MaxPool2d::forward(const Tensor& x) {
  return run([&] {
    Tensor y = max_pool2d(x, k_, s_, p_);
    add_flops(0, (double)y.numel() * (k_[0] * k_[1] - 1));  // comparisons
    return y;
  });
}

Tensor MaxPool3d::forward(const Tensor& x) {
  return run([&] {
    Tensor y = max_pool3d(x, k_, s_, p_);
    add_flops(0, (double)y.numel() * (k_[0] * k_[1] * k_[2] - 1));
    return y;
  });
}

}  // namespace gb::nn

#include "layers/simple.h"

namespace gb::nn {

Tensor ReLU::forward(const Tensor& x) {
  return run([&] {
    return relu(x);
  });
}

Tensor GELU::forward(const Tensor& x) {
  return run([&] {
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
      return y;
    }
    GB_CHECK(x.dim() == 5, "Upsample '", full_name(), "': expected a 4-d or 5-d input, got ", x.desc());
    Tensor y = upsample_trilinear3d(x, x.size(2) * scale_, x.size(3) * scale_, x.size(4) * scale_, align_corners_);
    return y;
  });
}

Tensor MaxPool2d::forward(const Tensor& x) {
  return run([&] {
    Tensor y = max_pool2d(x, k_, s_, p_);
    return y;
  });
}

Tensor MaxPool3d::forward(const Tensor& x) {
  return run([&] {
    Tensor y = max_pool3d(x, k_, s_, p_);
    return y;
  });
}

}  // namespace gb::nn

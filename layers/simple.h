// Parameter-free layers: ReLU, GELU, Identity, Upsample (bilinear / trilinear), MaxPool2d / 3d.
#pragma once
#include <array>

#include "layers/module.h"

namespace gb::nn {

class ReLU : public Unary {
 public:
  std::string type_name() const override { return "ReLU"; }
  Tensor forward(const Tensor& x) override;
};

class GELU : public Unary {  // exact (erf) GELU
 public:
  std::string type_name() const override { return "GELU"; }
  Tensor forward(const Tensor& x) override;
};

class Identity : public Unary {
 public:
  std::string type_name() const override { return "Identity"; }
  Tensor forward(const Tensor& x) override;
};

// Scales the spatial dims of [N, C, H, W] (bilinear) or [N, C, D, H, W] (trilinear) by an integer
// factor. torch's nn.UpsamplingBilinear2d is Upsample(scale, align_corners = true).
class Upsample : public Unary {
 public:
  Upsample(int64_t scale, bool align_corners) : scale_(scale), align_corners_(align_corners) {
    GB_CHECK(scale >= 1, "Upsample: scale must be >= 1, got ", scale);
  }
  std::string type_name() const override { return "Upsample"; }
  Tensor forward(const Tensor& x) override;

 private:
  int64_t scale_;
  bool align_corners_;
};

class MaxPool2d : public Unary {
 public:
  MaxPool2d(int64_t kernel, int64_t stride, int64_t padding = 0)
      : k_{kernel, kernel}, s_{stride, stride}, p_{padding, padding} {}
  std::string type_name() const override { return "MaxPool2d"; }
  Tensor forward(const Tensor& x) override;

 private:
  std::array<int64_t, 2> k_, s_, p_;
};

class MaxPool3d : public Unary {
 public:
  MaxPool3d(int64_t kernel, int64_t stride, int64_t padding = 0)
      : k_{kernel, kernel, kernel}, s_{stride, stride, stride}, p_{padding, padding, padding} {}
  std::string type_name() const override { return "MaxPool3d"; }
  Tensor forward(const Tensor& x) override;

 private:
  std::array<int64_t, 3> k_, s_, p_;
};

}  // namespace gb::nn

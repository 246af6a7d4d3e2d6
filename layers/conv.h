// Convolutions with torch's parameter names ("weight" [O, C/groups, *k], "bias" [O]) and default
// initialisation (kaiming_uniform a = sqrt(5), bias U(+-1/sqrt(fan_in))).
#pragma once
#include <array>

#include "layers/module.h"

namespace gb::nn {

struct Conv2dSpec {
  int64_t in = 0, out = 0;
  std::array<int64_t, 2> kernel{3, 3}, stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Unary {
 public:
  Conv2d(const Conv2dSpec& s, Generator& gen);
  // Square kernel shorthand: Conv2d(in, out, k, stride, padding, bias, gen).
  Conv2d(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding, bool bias, Generator& gen);
  std::string type_name() const override { return "Conv2d"; }
  Tensor forward(const Tensor& x) override;
  const Conv2dSpec& spec() const { return spec_; }
  Tensor weight, bias;  // bias undefined when spec.bias is false

 protected:
  virtual Tensor effective_weight() { return weight; }
  Conv2dSpec spec_;
};

// Weight-standardised conv (BiT, TransUNet's ResNetV2): w' = (w - mean_o) / sqrt(var_o + 1e-5)
// per output channel o over (C, kh, kw), biased variance.
class StdConv2d : public Conv2d {
 public:
  using Conv2d::Conv2d;
  std::string type_name() const override { return "StdConv2d"; }

 protected:
  Tensor effective_weight() override;
};

struct Conv3dSpec {
  int64_t in = 0, out = 0;
  std::array<int64_t, 3> kernel{3, 3, 3}, stride{1, 1, 1}, padding{0, 0, 0}, dilation{1, 1, 1};
  int64_t groups = 1;
  bool bias = true;
};

class Conv3d : public Unary {
 public:
  Conv3d(const Conv3dSpec& s, Generator& gen);
  std::string type_name() const override { return "Conv3d"; }
  Tensor forward(const Tensor& x) override;
  const Conv3dSpec& spec() const { return spec_; }
  Tensor weight, bias;

 private:
  Conv3dSpec spec_;
};

}  // namespace gb::nn

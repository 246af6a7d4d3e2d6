// ResNetV2 hybrid stem of TransUNet (vit_seg_modeling_resnet_skip.py), names as the official
// state_dict below "transformer.embeddings.hybrid_model":
//   root.conv (StdConv2d 7x7/2, pad 3, no bias), root.gn (GroupNorm(32, width, eps 1e-6)), ReLU,
//   then (outside root) MaxPool 3x3/2 pad 0;
//   body.block{1,2,3}.unit{1..n}: PreActBottleneck (names gn1, conv1, gn2, conv2, gn3, conv3,
//   downsample, gn_proj; stride 2 on conv2 of unit1 in blocks 2 and 3).
// forward returns the /16 map and the skip features [block2 out, block1 out, root out], each
// zero-padded bottom/right to H/4/(i+1) as official (224: block1 55 -> 56).
#pragma once
#include "layers/conv.h"
#include "layers/norm.h"
#include "layers/simple.h"
#include "models/model.h"

namespace gb::models {

class PreActBottleneck : public nn::Unary {
 public:
  PreActBottleneck(int64_t cin, int64_t cout, int64_t cmid, int64_t stride, int64_t groups, Generator& gen);
  std::string type_name() const override { return "PreActBottleneck"; }
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<nn::GroupNorm> gn1, gn2, gn3, gn_proj;
  std::shared_ptr<nn::StdConv2d> conv1, conv2, conv3, downsample;  // downsample/gn_proj may be null
};

class ResNetV2 : public nn::Module {
 public:
  ResNetV2(const std::vector<int64_t>& units, int64_t width, int64_t groups, Generator& gen);
  std::string type_name() const override { return "ResNetV2"; }
  Tensor forward(const Tensor& x, std::vector<Tensor>& features);
  int64_t width() const { return width_; }

  std::shared_ptr<nn::Sequential> root, body;

 private:
  int64_t width_;
};

}  // namespace gb::models

// U-Net baselines.
//   dims 2: Ronneberger et al. 2015 with BatchNorm and padded 3x3 convs (output size = input size).
//   dims 3: Cicek et al. 2016 (3D U-Net): 3x3x3 convs with BatchNorm, channels doubled before each
//           pooling (b, 2b | 2b, 4b | ...), as the paper.
// Level l of the encoder: enc<l> = DoubleConv; pooling 2 (max). Decoder level l: up<l>.up (x2
// bilinear/trilinear, align_corners = true) followed by up<l>.reduce (1x1 conv) in place of the
// papers' transposed "up-conv" (this engine has no transposed convolution), concat with the skip,
// dec<l> = DoubleConv. head = 1x1 conv to the classes. Spatial sizes must be divisible by 2^depth.
#pragma once
#include "layers/conv.h"
#include "layers/norm.h"
#include "layers/simple.h"
#include "models/model.h"

namespace gb::models {

class UNet : public SegmentationModel {
 public:
  UNet(const ModelConfig& c, Generator& gen);
  std::string type_name() const override { return c3() ? "UNet3D" : "UNet2D"; }
  Tensor forward(const Tensor& x) override;

 private:
  bool c3() const { return config_.unet.dims == 3; }
  // conv (k = 3 pad 1 or k = 1), no bias when followed by BatchNorm
  std::shared_ptr<nn::Unary> conv(int64_t in, int64_t out, int64_t k, bool bias, Generator& gen);
  std::shared_ptr<nn::Sequential> double_conv(int64_t in, int64_t mid, int64_t out, Generator& gen);

  std::vector<std::shared_ptr<nn::Sequential>> enc_, dec_, up_;
  std::shared_ptr<nn::Unary> pool_, head_;
};

}  // namespace gb::models

// TransUNet exactly as the official code builds it (Beckschen/TransUNet, networks/vit_seg_modeling.py),
// parameter names equal to the official PyTorch state_dict keys:
//   transformer.embeddings.position_embeddings            [1, n_patches, hidden] (init 0)
//   transformer.embeddings.hybrid_model.*                 ResNetV2 (hybrid configs)
//   transformer.embeddings.patch_embeddings.{weight,bias} Conv2d 1x1 (hybrid) or 16x16/16 (ViT)
//   transformer.encoder.layer.<i>.{attention_norm,ffn_norm,ffn.fc1,ffn.fc2,attn.query,...}
//   transformer.encoder.encoder_norm
//   decoder.conv_more.{0 conv, 1 bn}, decoder.blocks.<i>.conv{1,2}.{0 conv, 1 bn}
//   segmentation_head.0 (Conv2d 3x3, bias)
// Forward: x [N, 1 or 3, H, W] (1 channel is repeated to 3) -> logits [N, classes, H, W]. H and W
// must be divisible by 16 (hybrid) or by the patch size (ViT).
#pragma once
#include "layers/attention.h"
#include "layers/conv.h"
#include "layers/norm.h"
#include "layers/simple.h"
#include "models/resnet_skip.h"

namespace gb::models {

class Embeddings : public nn::Module {
 public:
  Embeddings(const ModelConfig& c, Generator& gen);
  std::string type_name() const override { return "Embeddings"; }
  Tensor forward(const Tensor& x, std::vector<Tensor>& features);  // -> [B, n_patches, hidden]
  Tensor position_embeddings;
  std::shared_ptr<ResNetV2> hybrid_model;  // null without hybrid
  std::shared_ptr<nn::Conv2d> patch_embeddings;
  std::shared_ptr<nn::Dropout> dropout;
  int64_t grid_h, grid_w;
};

class Block : public nn::Unary {
 public:
  Block(const TransUNetConfig& c, Generator& gen);
  std::string type_name() const override { return "Block"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::LayerNorm> attention_norm, ffn_norm;
  std::shared_ptr<nn::Mlp> ffn;
  std::shared_ptr<nn::MultiHeadAttention> attn;
};

class Encoder : public nn::Unary {
 public:
  Encoder(const TransUNetConfig& c, Generator& gen);
  std::string type_name() const override { return "Encoder"; }
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<ModuleList> layer;
  std::shared_ptr<nn::LayerNorm> encoder_norm;
};

class Transformer : public nn::Module {
 public:
  Transformer(const ModelConfig& c, Generator& gen);
  std::string type_name() const override { return "Transformer"; }
  Tensor forward(const Tensor& x, std::vector<Tensor>& features);
  std::shared_ptr<Embeddings> embeddings;
  std::shared_ptr<Encoder> encoder;
};

// Conv3x3 (no bias) + BatchNorm + ReLU, children "0", "1", "2" (official Conv2dReLU).
std::shared_ptr<nn::Sequential> conv2d_relu(int64_t in, int64_t out, Generator& gen);

class DecoderBlock : public nn::Module {
 public:
  DecoderBlock(int64_t in, int64_t out, int64_t skip, Generator& gen);
  std::string type_name() const override { return "DecoderBlock"; }
  Tensor forward(const Tensor& x, const Tensor& skip);  // skip may be undefined
  std::shared_ptr<nn::Sequential> conv1, conv2;
  std::shared_ptr<nn::Upsample> up;
  int64_t skip_channels;
};

class DecoderCup : public nn::Module {
 public:
  DecoderCup(const TransUNetConfig& c, Generator& gen);
  std::string type_name() const override { return "DecoderCup"; }
  // hidden [B, gh*gw, hidden] -> [B, decoder_channels.back(), 16 gh, 16 gw]
  Tensor forward(const Tensor& hidden, int64_t gh, int64_t gw, const std::vector<Tensor>& features);
  std::shared_ptr<nn::Sequential> conv_more;
  std::shared_ptr<ModuleList> blocks;
  int64_t n_skip;
};

class TransUNet : public SegmentationModel {
 public:
  TransUNet(const ModelConfig& c, Generator& gen);
  std::string type_name() const override { return "VisionTransformer"; }
  Tensor forward(const Tensor& x) override;

  // Attention probabilities of every encoder layer from the last forward ([B, H, T, T] each, graph
  // tensors) when keep_attention(true).
  void keep_attention(bool on);
  std::vector<Tensor> attention_probs() const;
  int64_t grid_h() const { return transformer->embeddings->grid_h; }
  int64_t grid_w() const { return transformer->embeddings->grid_w; }

  std::shared_ptr<Transformer> transformer;
  std::shared_ptr<DecoderCup> decoder;
  std::shared_ptr<nn::Sequential> segmentation_head;
};

}  // namespace gb::models

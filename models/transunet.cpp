#include "models/transunet.h"

namespace gb::models {

// ---------------------------------------------------------------- embeddings
Embeddings::Embeddings(const ModelConfig& c, Generator& gen) {
  const TransUNetConfig& v = c.vit;
  GB_CHECK(c.size.size() == 2, "TransUNet: size must be (H, W), got ", c.size.size(), " values");
  const int64_t H = c.size[0], W = c.size[1];
  int64_t patch, in_ch = 3;
  if (v.hybrid) {
    // official: grid = img / 16, patch = img // 16 // grid = 1 on the ResNet's /16 map
    GB_CHECK(H % 16 == 0 && W % 16 == 0 && H > 0 && W > 0, "TransUNet: input ", H, "x", W,
             " must be divisible by 16");
    patch = 1;
    grid_h = H / 16;
    grid_w = W / 16;
  } else {
    patch = v.patch;
    GB_CHECK(patch > 0 && H % patch == 0 && W % patch == 0, "TransUNet (ViT): input ", H, "x", W,
             " must be divisible by the patch size ", patch);
    GB_CHECK(patch == 16, "TransUNet (ViT): the decoder upsamples x16, so the patch must be 16, got ", patch);
    grid_h = H / patch;
    grid_w = W / patch;
  }
  // own parameter first: torch lists a module's own parameters before its children's
  position_embeddings = Tensor::zeros({1, grid_h * grid_w, v.hidden});
  register_parameter("position_embeddings", position_embeddings);
  if (v.hybrid) {
    hybrid_model = register_module("hybrid_model", std::make_shared<ResNetV2>(v.resnet_units, v.width, v.gn_groups, gen));
    in_ch = v.width * 16;
  }
  nn::Conv2dSpec s;
  s.in = in_ch;
  s.out = v.hidden;
  s.kernel = {patch, patch};
  s.stride = {patch, patch};
  patch_embeddings = register_module("patch_embeddings", std::make_shared<nn::Conv2d>(s, gen));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(v.dropout));
}

Tensor Embeddings::forward(const Tensor& x_in, std::vector<Tensor>& features) {
  return run([&] {
    Tensor x = x_in;
    features.clear();
    if (hybrid_model) x = hybrid_model->forward(x, features);
    x = patch_embeddings->forward(x);  // [B, hidden, gh, gw]
    GB_CHECK(x.size(2) == grid_h && x.size(3) == grid_w, "Embeddings: token grid ", x.size(2), "x", x.size(3),
             " but the model was built for ", grid_h, "x", grid_w, " (input ", str(x_in.shape()), ")");
    const int64_t B = x.size(0), D = x.size(1);
    x = transpose(reshape(x, {B, D, grid_h * grid_w}), 1, 2);  // [B, n_patches, hidden]
    return dropout->forward(add(x, position_embeddings));
  });
}

// ---------------------------------------------------------------- encoder
Block::Block(const TransUNetConfig& c, Generator& gen) {
  attention_norm = register_module("attention_norm", std::make_shared<nn::LayerNorm>(c.hidden, 1e-6));
  ffn_norm = register_module("ffn_norm", std::make_shared<nn::LayerNorm>(c.hidden, 1e-6));
  ffn = register_module("ffn", std::make_shared<nn::Mlp>(c.hidden, c.mlp_dim, c.dropout, gen));
  attn = register_module("attn", std::make_shared<nn::MultiHeadAttention>(c.hidden, c.heads, c.attention_dropout, gen));
}

Tensor Block::forward(const Tensor& x) {
  return run([&] {
    Tensor h = add(attn->forward(attention_norm->forward(x)), x);
    return add(ffn->forward(ffn_norm->forward(h)), h);
  });
}

Encoder::Encoder(const TransUNetConfig& c, Generator& gen) {
  // official: the ModuleList is assigned before encoder_norm, the blocks appended after
  layer = register_module("layer", std::make_shared<ModuleList>());
  encoder_norm = register_module("encoder_norm", std::make_shared<nn::LayerNorm>(c.hidden, 1e-6));
  for (int64_t i = 0; i < c.layers; ++i) layer->add(std::make_shared<Block>(c, gen));
}

Tensor Encoder::forward(const Tensor& x) {
  return run([&] {
    Tensor h = x;
    for (size_t i = 0; i < layer->size(); ++i) h = layer->at<Block>(i).forward(h);
    return encoder_norm->forward(h);
  });
}

Transformer::Transformer(const ModelConfig& c, Generator& gen) {
  embeddings = register_module("embeddings", std::make_shared<Embeddings>(c, gen));
  encoder = register_module("encoder", std::make_shared<Encoder>(c.vit, gen));
}

Tensor Transformer::forward(const Tensor& x, std::vector<Tensor>& features) {
  return run([&] { return encoder->forward(embeddings->forward(x, features)); });
}

// ---------------------------------------------------------------- decoder
std::shared_ptr<nn::Sequential> conv2d_relu(int64_t in, int64_t out, Generator& gen) {
  auto s = std::make_shared<nn::Sequential>();
  s->add(std::make_shared<nn::Conv2d>(in, out, 3, 1, 1, false, gen));
  s->add(nn::BatchNorm2d(out));
  s->add(std::make_shared<nn::ReLU>());
  return s;
}

DecoderBlock::DecoderBlock(int64_t in, int64_t out, int64_t skip, Generator& gen) : skip_channels(skip) {
  conv1 = register_module("conv1", conv2d_relu(in + skip, out, gen));
  conv2 = register_module("conv2", conv2d_relu(out, out, gen));
  up = register_module("up", std::make_shared<nn::Upsample>(2, true));  // nn.UpsamplingBilinear2d(2)
}

Tensor DecoderBlock::forward(const Tensor& x_in, const Tensor& skip) {
  return run([&] {
    Tensor x = up->forward(x_in);
    if (skip.defined()) {
      GB_CHECK(skip.size(1) == skip_channels && skip.size(2) == x.size(2) && skip.size(3) == x.size(3),
               "DecoderBlock '", full_name(), "': skip ", str(skip.shape()), " does not fit ", str(x.shape()),
               " (expected ", skip_channels, " channels)");
      x = concat({x, skip}, 1);
    }
    return conv2->forward(conv1->forward(x));
  });
}

DecoderCup::DecoderCup(const TransUNetConfig& c, Generator& gen) : n_skip(c.n_skip) {
  GB_CHECK(c.decoder_channels.size() == 4 && c.skip_channels.size() == 4, "DecoderCup: 4 decoder and skip channels");
  GB_CHECK(c.n_skip >= 0 && c.n_skip <= (c.hybrid ? 3 : 0), "DecoderCup: n_skip ", c.n_skip,
           " is out of range (0..3 with the ResNet, 0 without)");
  conv_more = register_module("conv_more", conv2d_relu(c.hidden, c.head_channels, gen));
  blocks = register_module("blocks", std::make_shared<ModuleList>());
  int64_t in = c.head_channels;
  for (int64_t i = 0; i < 4; ++i) {
    const int64_t skip = i < c.n_skip ? c.skip_channels[i] : 0;  // official re-selection by n_skip
    blocks->add(std::make_shared<DecoderBlock>(in, c.decoder_channels[i], skip, gen));
    in = c.decoder_channels[i];
  }
}

Tensor DecoderCup::forward(const Tensor& hidden, int64_t gh, int64_t gw, const std::vector<Tensor>& features) {
  return run([&] {
    const int64_t B = hidden.size(0), D = hidden.size(2);
    Tensor x = reshape(contiguous(transpose(hidden, 1, 2)), {B, D, gh, gw});
    x = conv_more->forward(x);
    for (size_t i = 0; i < blocks->size(); ++i) {
      Tensor skip = (int64_t)i < n_skip && i < features.size() ? features[i] : Tensor();
      x = blocks->at<DecoderBlock>(i).forward(x, skip);
    }
    return x;
  });
}

// ---------------------------------------------------------------- the model
TransUNet::TransUNet(const ModelConfig& c, Generator& gen) : SegmentationModel(c) {
  GB_CHECK(c.in_channels == 1 || c.in_channels == 3, "TransUNet: in_channels must be 1 or 3, got ", c.in_channels);
  GB_CHECK(c.classes >= 1, "TransUNet: classes must be >= 1, got ", c.classes);
  transformer = register_module("transformer", std::make_shared<Transformer>(c, gen));
  decoder = register_module("decoder", std::make_shared<DecoderCup>(c.vit, gen));
  segmentation_head = register_module("segmentation_head", std::make_shared<nn::Sequential>());
  segmentation_head->add(std::make_shared<nn::Conv2d>(c.vit.decoder_channels.back(), c.classes, 3, 1, 1, true, gen));
  segmentation_head->add(std::make_shared<nn::Identity>());  // official: no upsampling
}

Tensor TransUNet::forward(const Tensor& x_in) {
  return run([&] {
    GB_CHECK(x_in.dim() == 4 && (x_in.size(1) == 1 || x_in.size(1) == 3), "TransUNet: expected [N, 1 or 3, H, W], got ",
             x_in.desc());
    GB_CHECK(x_in.size(2) == config_.size[0] && x_in.size(3) == config_.size[1], "TransUNet: input ",
             str(x_in.shape()), " but the model was built for ", config_.size[0], "x", config_.size[1]);
    Tensor x = x_in.size(1) == 1 ? concat({x_in, x_in, x_in}, 1) : x_in;  // official x.repeat(1, 3, 1, 1)
    std::vector<Tensor> features;
    Tensor h = transformer->forward(x, features);
    Tensor d = decoder->forward(h, grid_h(), grid_w(), features);
    return segmentation_head->forward(d);
  });
}

void TransUNet::keep_attention(bool on) {
  auto& enc = *transformer->encoder->layer;
  for (size_t i = 0; i < enc.size(); ++i) enc.at<Block>(i).attn->keep_probs(on);
}

std::vector<Tensor> TransUNet::attention_probs() const {
  std::vector<Tensor> out;
  auto& enc = *transformer->encoder->layer;
  for (size_t i = 0; i < enc.size(); ++i) out.push_back(enc.at<Block>(i).attn->last_probs());
  return out;
}

}  // namespace gb::models

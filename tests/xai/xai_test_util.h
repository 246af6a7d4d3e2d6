// Small models and inputs shared by the xai tests.
#pragma once
#include <memory>

#include "autograd/ops.h"
#include "layers/conv.h"
#include "models/config.h"
#include "models/model.h"
#include "tensor/philox.h"

namespace gbx {

using namespace gb;

// The micro TransUNet (R50 root, 32x32, 2x2 tokens), eval mode, in `dt`.
inline std::shared_ptr<models::SegmentationModel> micro(DType dt = DType::F64, uint64_t seed = 7) {
  auto m = models::make_model(models::named_config("micro", 32, 3, 1), seed);
  m->to(dt);
  m->eval();
  return m;
}

// Uniform [0, 1) input [1, C, H, W].
inline Tensor uniform_input(const Shape& s, uint64_t seed, DType dt = DType::F64) {
  Tensor x = Tensor::empty(s, DType::F64);
  Generator g(seed);
  g.uniform_(x, 0, 1);
  return x.to(dt);
}

// A linear segmentation model: logits = 1x1 conv (with bias) of the input. IG is exact for it.
class LinearSeg : public models::SegmentationModel {
 public:
  explicit LinearSeg(int64_t in, int64_t classes, uint64_t seed) : SegmentationModel(config(in, classes)) {
    Generator g(seed);
    conv = register_module("conv", std::make_shared<nn::Conv2d>(in, classes, 1, 1, 0, true, g));
    to(DType::F64);
  }
  Tensor forward(const Tensor& x) override {
    return run([&] { return conv->forward(x); });
  }
  std::shared_ptr<nn::Conv2d> conv;

 private:
  static models::ModelConfig config(int64_t in, int64_t classes) {
    models::ModelConfig c;
    c.name = "linear";
    c.arch = "linear";
    c.in_channels = in;
    c.classes = classes;
    c.size = {16, 16};
    return c;
  }
};

// A scale-invariant toy with R50-ViT-B_16's root: a weight-standardised 3x3 conv without bias, then
// GroupNorm (eps 1e-8), ReLU and a 1x1 head with bias. T(a x) is flat in a except where a^2 var(conv)
// is comparable to eps, i.e. near a = 0: the zero-baseline IG path integrand is a spike at a < 1e-3 (R50 itself: GroupNorm eps 1e-6 on 64
// channels of a 224 x 224 image, trained weights; measured there: all of T.s change below 1e-3).
class ScaleInvariantSeg : public models::SegmentationModel {
 public:
  explicit ScaleInvariantSeg(uint64_t seed) : SegmentationModel(config()) {
    Generator g(seed);
    w = Tensor::empty({8, 1, 3, 3}, DType::F64);
    g.normal_(w, 0, 1);
    gamma = Tensor::empty({8}, DType::F64);
    g.uniform_(gamma, 0.5, 1.5);
    beta = Tensor::empty({8}, DType::F64);
    g.normal_(beta, 0, 0.5);
    hw = Tensor::empty({3, 8, 1, 1}, DType::F64);
    g.normal_(hw, 0, 1);
    hb = Tensor::zeros({3}, DType::F64);
    for (Tensor* t : {&w, &gamma, &beta, &hw, &hb}) t->set_requires_grad(true);
    register_parameter("root_weight", w);
    register_parameter("gn_weight", gamma);
    register_parameter("gn_bias", beta);
    register_parameter("head_weight", hw);
    register_parameter("head_bias", hb);
  }
  Tensor forward(const Tensor& x) override {
    return run([&] {
      Conv2dOpts pad;
      pad.padding = {1, 1};
      Tensor h = conv2d(x, weight_standardize(w, 1e-5), Tensor(), pad);  // [B, 8, H, W]
      h = relu(group_norm(h, 2, gamma, beta, 1e-8));
      return conv2d(h, hw, hb);  // [B, 3, H, W]
    });
  }
  Tensor w, gamma, beta, hw, hb;

 private:
  static models::ModelConfig config() {
    models::ModelConfig c;
    c.name = "scale-invariant-toy";
    c.arch = "toy";
    c.in_channels = 1;
    c.classes = 3;
    c.size = {16, 16};
    return c;
  }
};

}  // namespace gbx

#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "models/config.h"
#include "models/model.h"
#include "xai/gradcam.h"

using namespace gb;

namespace {
std::shared_ptr<models::SegmentationModel> micro() {
  auto cfg = models::named_config("micro", 32, 3, 1);
  auto m = models::make_model(cfg, 7);
  m->to(DType::F64);
  m->eval();
  return m;
}
Tensor input(uint64_t seed) {
  Tensor x = Tensor::empty({1, 1, 32, 32}, DType::F64);
  Generator g(seed);
  g.uniform_(x, 0, 1);
  return x;
}
}  // namespace

// alpha must be the spatial mean of dT/dA as an independent backward hook sees it, the target must
// be the masked logit sum, and the raw map sum_k alpha_k A_k.
TEST(GradCam, MatchesIndependentlyComputedGradient) {
  auto m = micro();
  Tensor x = input(1);
  Tensor region = Tensor::zeros({32, 32}, DType::I32);
  for (int64_t i = 8; i < 20; ++i) region.view_slice(0, i, i + 1).view_slice(1, 4, 24).fill(1);

  xai::CamResult cam = xai::grad_cam(*m, x, "decoder.conv_more", 2, region);

  Tensor A, dA;
  m->register_forward_hook("decoder.conv_more", [&](const Tensor& y) { A = y.detach(); });
  m->register_backward_hook("decoder.conv_more", [&](const Tensor& g) { dA = g.clone(); });
  Tensor logits = m->forward(x);
  Tensor mask = region.to(DType::F64).view_reshape({1, 1, 32, 32});
  Tensor T = sum(mul(slice(logits, 1, 2, 3), mask));
  T.backward();
  m->clear_hooks();
  ASSERT_TRUE(dA.defined());
  EXPECT_NEAR(cam.target, T.item(), 1e-12);
  const int64_t C = A.size(1), h = A.size(2), w = A.size(3);
  ASSERT_EQ(cam.weights.numel(), C);
  auto gv = dA.to_vector(), av = A.to_vector(), wv = cam.weights.to_vector(), raw = cam.raw.to_vector();
  for (int64_t k = 0; k < C; ++k) {
    double s = 0;
    for (int64_t i = 0; i < h * w; ++i) s += gv[k * h * w + i];
    EXPECT_NEAR(wv[k], s / (h * w), 1e-12);
  }
  for (int64_t i = 0; i < h * w; ++i) {
    double s = 0;
    for (int64_t k = 0; k < C; ++k) s += wv[k] * av[k * h * w + i];
    EXPECT_NEAR(raw[i], s, 1e-10);
    EXPECT_EQ(cam.relu.to_vector()[i], std::max(0.0, raw[i]));
  }
  EXPECT_EQ(cam.upsampled.shape(), (Shape{32, 32}));
  double lo = 1, hi = 0;
  for (double v : cam.normalised.to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, 0.0);
  EXPECT_LE(hi, 1.0);
}

TEST(GradCam, ClearErrors) {
  auto m = micro();
  Tensor x = input(2);
  EXPECT_THROW(xai::grad_cam(*m, x, "no.such.layer", 1), Error);
  EXPECT_THROW(xai::grad_cam(*m, x, "decoder.conv_more", 7), Error);
  EXPECT_THROW(xai::grad_cam(*m, Tensor::zeros({2, 1, 32, 32}, DType::F64), "decoder.conv_more", 1), Error);
}

// Gradient, gradient x input, SmoothGrad / VarGrad and occlusion on models whose answers are known.
#include <gtest/gtest.h>

#include <cmath>

#include "xai/baselines.h"
#include "xai/occlusion.h"
#include "xai/smoothgrad.h"
#include "xai_test_util.h"

using namespace gb;

namespace {
xai::Target box(int64_t cls, std::vector<int64_t> b) {
  xai::TargetSpec s;
  s.cls = cls;
  s.region = xai::RegionKind::Box;
  s.box = std::move(b);
  return {cls, xai::region_mask(s, {16, 16}, Tensor(), Tensor())};
}
}  // namespace

// Linear model: dT/dx = w_c inside the region, 0 outside, whatever the noise; so SmoothGrad equals the
// gradient and VarGrad is 0 for it, and gradient x input is x * w.
TEST(SmoothGrad, LinearModelKnownAnswers) {
  gbx::LinearSeg m(2, 3, 4);
  Tensor x = gbx::uniform_input({1, 2, 16, 16}, 1);
  auto t = box(2, {4, 4, 10, 12});
  const auto w = m.conv->weight.to_vector(), mv = t.mask.to_vector(), xv = x.to_vector();
  auto g = xai::gradient_map(m, x, t, false);
  auto gx = xai::gradient_map(m, x, t, true);
  const auto gv = g.attribution.to_vector(), gxv = gx.attribution.to_vector();
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t p = 0; p < 256; ++p) {
      EXPECT_NEAR(gv[c * 256 + p], w[2 * 2 + c] * mv[p], 1e-14);
      EXPECT_NEAR(gxv[c * 256 + p], w[2 * 2 + c] * mv[p] * xv[c * 256 + p], 1e-14);
    }
  xai::SmoothOptions o;
  o.samples = 5;
  o.batch = 2;
  auto sg = xai::smooth_grad(m, x, t, o);
  const auto sm = sg.mean.attribution.to_vector(), sv = sg.variance.attribution.to_vector();
  for (size_t i = 0; i < sm.size(); ++i) {
    EXPECT_NEAR(sm[i], gv[i], 1e-14);
    EXPECT_NEAR(sv[i], 0.0, 1e-20);
  }
}

// On a non-linear model: SmoothGrad is the mean of the noisy copies' gradients and VarGrad their
// variance, the same for any batch size, and reproducible from the seed.
TEST(SmoothGrad, MeanAndVarianceOfNoisyGradientsAnyBatch) {
  auto m = gbx::micro();
  Tensor x = gbx::uniform_input({1, 1, 32, 32}, 3);
  xai::TargetSpec s;
  s.cls = 2;
  s.region = xai::RegionKind::Whole;
  xai::Target t = xai::resolve_target(*m, x, s);
  xai::SmoothOptions o;
  o.samples = 4;
  o.sigma = 0.2;
  o.method = xai::GradMethod::GradientXInput;
  o.batch = 1;
  auto a = xai::smooth_grad(*m, x, t, o);
  o.batch = 4;
  auto b = xai::smooth_grad(*m, x, t, o);
  EXPECT_TRUE(a.mean.attribution.to_vector() == b.mean.attribution.to_vector());
  EXPECT_TRUE(a.variance.attribution.to_vector() == b.variance.attribution.to_vector());
  double var = 0;
  for (double v : a.variance.map.to_vector()) var += v;
  EXPECT_GT(var, 0.0);  // the copies differ
  o.seed = 2;
  auto c = xai::smooth_grad(*m, x, t, o);
  EXPECT_FALSE(c.mean.attribution.to_vector() == a.mean.attribution.to_vector());
}

// Linear model: occluding a patch changes T by sum_{p in patch and region} w_c . (x - x')(p), so the
// map at a pixel covered by exactly one patch is that patch's drop.
TEST(Occlusion, LinearModelDropsAreExact) {
  gbx::LinearSeg m(1, 2, 5);
  Tensor x = gbx::uniform_input({1, 1, 16, 16}, 6);
  auto t = box(1, {0, 0, 16, 16});
  xai::OcclusionOptions o;
  o.patch = {4};
  o.stride = {4};
  o.batch = 3;
  auto r = xai::occlusion(m, x, Tensor::zeros(x.shape(), DType::F64), t, o);
  EXPECT_EQ(r.patches, 16);
  const double w = m.conv->weight.to_vector()[1];
  const auto xv = x.to_vector(), mv = r.map.to_vector();
  for (int py = 0; py < 4; ++py)
    for (int px = 0; px < 4; ++px) {
      double drop = 0;
      for (int y = 0; y < 4; ++y)
        for (int xx = 0; xx < 4; ++xx) drop += w * xv[(py * 4 + y) * 16 + px * 4 + xx];
      EXPECT_NEAR(mv[(py * 4 + 1) * 16 + px * 4 + 2], drop, 1e-12);
    }
  // Batching does not change it; overlapping patches (stride < patch) cover every pixel.
  o.batch = 16;
  EXPECT_EQ(xai::occlusion(m, x, Tensor::zeros(x.shape(), DType::F64), t, o).map.to_vector(), r.map.to_vector());
  o.patch = {5};
  o.stride = {3};
  auto ov = xai::occlusion(m, x, Tensor::zeros(x.shape(), DType::F64), t, o);
  EXPECT_EQ(ov.patches, 25);  // starts 0 3 6 9 and 11 (flush with the edge) per axis
  o.patch = {17};
  EXPECT_THROW(xai::occlusion(m, x, Tensor::zeros(x.shape(), DType::F64), t, o), Error);
}

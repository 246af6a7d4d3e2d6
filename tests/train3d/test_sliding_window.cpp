#include <gtest/gtest.h>

#include <cmath>
#include <utility>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "models/config.h"
#include "train/sliding_window.h"

using namespace gb;
using train::SlidingWindowOptions;

namespace {

models::ModelConfig fake_config(std::array<int64_t, 3> patch) {
  models::ModelConfig c;
  c.name = c.arch = "fake";
  c.in_channels = 1;
  c.classes = 2;
  c.size = {patch[0], patch[1], patch[2]};
  return c;
}

// Logits a pointwise function of the input: (6 x, 1 - 2 x). Any window gives the same
// probabilities at a voxel, so the stitched result must equal the model on the whole volume.
class Pointwise : public models::SegmentationModel {
 public:
  explicit Pointwise(std::array<int64_t, 3> patch) : SegmentationModel(fake_config(patch)) {}
  Tensor forward(const Tensor& x) override {
    ++calls;
    max_batch = std::max(max_batch, x.size(0));
    saw_training |= is_training();
    return concat({mul_scalar(x, 6.0), add_scalar(mul_scalar(x, -2.0), 1.0)}, 1);
  }
  int64_t calls = 0, max_batch = 0;
  bool saw_training = false;
};

// Logits constant over each window: (4 mean(window), 0). The stitched probability at a voxel is
// the importance-weighted mean of sigmoid(4 m_w) over the windows that hold it.
class WindowMean : public models::SegmentationModel {
 public:
  explicit WindowMean(std::array<int64_t, 3> patch) : SegmentationModel(fake_config(patch)) {}
  Tensor forward(const Tensor& x) override {
    Tensor e = expand(mean(x, {2, 3, 4}, true), x.shape());
    return concat({mul_scalar(e, 4.0), mul_scalar(e, 0.0)}, 1);
  }
};

// Logits (0, 0.1 * row of the window): tells where in the window each volume voxel sat.
class RowRamp : public models::SegmentationModel {
 public:
  explicit RowRamp(std::array<int64_t, 3> patch) : SegmentationModel(fake_config(patch)) {}
  Tensor forward(const Tensor& x) override {
    Tensor r = mul_scalar(Tensor::arange(x.size(3)), 0.1).view_reshape({1, 1, 1, x.size(3), 1});
    return concat({mul_scalar(x, 0.0), expand(r, x.shape())}, 1);
  }
};

io::Volume random_volume(Shape s, uint64_t seed) {
  io::Volume v;
  v.data = Tensor::empty(s);
  Generator g(seed);
  g.uniform_(v.data, -400, 400);  // beyond the window on both sides: clamping is exercised
  return v;
}

}  // namespace

TEST(SlidingWindow, StartsCoverTheAxisWithTheRequestedOverlap) {
  EXPECT_EQ(train::window_starts(10, 4, 0.5), (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(train::window_starts(11, 4, 0.5), (std::vector<int64_t>{0, 2, 4, 5, 7}));  // step 7/4, rounded
  EXPECT_EQ(train::window_starts(4, 4, 0.5), (std::vector<int64_t>{0}));
  EXPECT_EQ(train::window_starts(5, 4, 0.0), (std::vector<int64_t>{0, 1}));
  for (int64_t size : {16, 17, 31, 33, 100})
    for (double ov : {0.0, 0.25, 0.5, 0.75}) {
      auto s = train::window_starts(size, 16, ov);
      EXPECT_EQ(s.front(), 0);
      EXPECT_EQ(s.back(), size - 16);  // the border is covered
      for (size_t i = 1; i < s.size(); ++i) {
        EXPECT_GT(s[i], s[i - 1]);
        EXPECT_LE((double)(s[i] - s[i - 1]), std::ceil(16 * (1 - ov))) << size << " " << ov;  // at least the overlap
      }
    }
  EXPECT_THROW(train::window_starts(3, 4, 0.5), Error);
  EXPECT_THROW(train::window_starts(8, 4, 1.0), Error);
}

TEST(SlidingWindow, GaussianImportanceIsNnUNets) {
  Tensor g = train::gaussian_importance({9, 16, 8}, 1.0 / 8);
  ASSERT_EQ(g.shape(), (Shape{9, 16, 8}));
  // Centre (4, 7.5, 3.5): the odd axis peaks at 4; sigma = 9/8 there.
  EXPECT_NEAR(g.at({4, 7, 3}), std::exp(-0.25 / (2 * 4.0) - 0.25 / (2 * 1.0)), 1e-6);
  EXPECT_NEAR(g.at({4, 7, 3}) / g.at({3, 7, 3}), std::exp(1.0 / (2 * (81.0 / 64))), 1e-5);
  EXPECT_EQ(g.at({0, 0, 0}), g.at({8, 15, 7}));  // symmetric
  for (double v : g.to_vector()) EXPECT_GT(v, 0.0);
}

TEST(SlidingWindow, PointwiseModelEqualsTheWholeVolume) {
  // Non-multiple sizes; H is shorter than the window (padded), D and W need several windows.
  for (Shape s : {Shape{11, 5, 13}, Shape{4, 6, 4}, Shape{9, 7, 6}}) {
    Pointwise m({4, 6, 4});
    io::Volume v = random_volume(s, 3);
    SlidingWindowOptions o;
    o.batch = 3;
    std::vector<std::pair<int64_t, int64_t>> prog;
    o.progress = [&](int64_t d, int64_t t) { prog.push_back({d, t}); };
    Tensor probs;
    Tensor lab = train::predict_volume_3d(m, v, o, &probs);
    ASSERT_EQ(lab.shape(), s);
    ASSERT_EQ(probs.shape(), (Shape{2, s[0], s[1], s[2]}));
    EXPECT_FALSE(m.saw_training);
    EXPECT_TRUE(m.is_training());  // mode restored
    EXPECT_LE(m.max_batch, 3);
    // Direct: the model on the whole (unpadded) volume.
    Tensor x = io::to_unit_range(v.data, io::Units::HU, o.window).view_reshape({1, 1, s[0], s[1], s[2]});
    Tensor direct = softmax(m.forward(x), 1).view_reshape({2, s[0], s[1], s[2]});
    Tensor dl = argmax(direct, 0);
    const auto pv = probs.to_vector(), dv = direct.to_vector();
    double worst = 0;
    for (size_t i = 0; i < pv.size(); ++i) worst = std::max(worst, std::fabs(pv[i] - dv[i]));
    EXPECT_LT(worst, 2e-6) << str(s);
    EXPECT_EQ(lab.to_vector(), dl.to_vector()) << str(s);
    // Windows: per axis starts over the padded size max(size, window).
    int64_t total = 1;
    const std::array<int64_t, 3> p{4, 6, 4};
    for (int a = 0; a < 3; ++a) total *= (int64_t)train::window_starts(std::max(s[(size_t)a], p[(size_t)a]), p[(size_t)a], 0.5).size();
    ASSERT_FALSE(prog.empty());
    EXPECT_EQ(prog.back(), std::make_pair(total, total));
    EXPECT_EQ((int64_t)prog.size(), (total + 2) / 3);
    EXPECT_EQ(m.calls - 1, (int64_t)prog.size());  // + the direct call
  }
}

TEST(SlidingWindow, OverlapsAreImportanceWeighted) {
  // [4, 4, 12] with windows [4, 4, 6]: three windows along W at 0, 3, 6; one along D and H, so
  // their weights cancel and the stitched value is a weighted mean over the W profile.
  const std::array<int64_t, 3> p{4, 4, 6};
  io::Volume v = random_volume({4, 4, 12}, 8);
  Tensor x01 = io::to_unit_range(v.data, io::Units::HU, {});
  std::vector<double> pw;  // sigmoid(4 m_w) per window
  const std::vector<int64_t> st = train::window_starts(12, 6, 0.5);
  ASSERT_EQ(st, (std::vector<int64_t>{0, 3, 6}));
  for (int64_t s0 : st) {
    double m = 0;
    for (double e : x01.view_slice(2, s0, s0 + 6).to_vector()) m += e;
    m /= 96;
    pw.push_back(1 / (1 + std::exp(-4 * m)));
  }
  for (bool gaussian : {true, false}) {
    WindowMean model(p);
    SlidingWindowOptions o;
    o.gaussian = gaussian;
    Tensor probs;
    train::predict_volume_3d(model, v, o, &probs);
    const double sd = 6.0 / 8;
    for (int64_t xx = 0; xx < 12; ++xx) {
      double num = 0, den = 0;
      for (size_t w = 0; w < st.size(); ++w) {
        const int64_t t = xx - st[w];
        if (t < 0 || t >= 6) continue;
        const double g = gaussian ? std::exp(-(t - 2.5) * (t - 2.5) / (2 * sd * sd)) : 1.0;
        num += g * pw[w];
        den += g;
      }
      EXPECT_NEAR(probs.at({0, 1, 2, xx}), num / den, 2e-6) << "x " << xx << " gaussian " << gaussian;
      EXPECT_NEAR(probs.at({0, 3, 0, xx}), num / den, 2e-6);
    }
  }
  // The two weightings really differ here (else the test above could not tell them apart).
  WindowMean model(p);
  SlidingWindowOptions o;
  Tensor pg, pu;
  train::predict_volume_3d(model, v, o, &pg);
  o.gaussian = false;
  train::predict_volume_3d(model, v, o, &pu);
  EXPECT_GT(std::fabs(pg.at({0, 0, 0, 5}) - pu.at({0, 0, 0, 5})), 1e-4);
}

TEST(SlidingWindow, ShortAxesAreCentredInThePadding) {
  // H = 5 in a window of 8: one window, the volume at rows 1..5 of it ((8 - 5) / 2 = 1 before), as
  // the PatchLoader pads training patches.
  RowRamp m({4, 8, 4});
  io::Volume v = random_volume({4, 5, 4}, 2);
  Tensor probs;
  train::predict_volume_3d(m, v, {}, &probs);
  for (int64_t y = 0; y < 5; ++y)
    EXPECT_NEAR(probs.at({1, 2, y, 3}), 1 / (1 + std::exp(-0.1 * (double)(y + 1))), 1e-6) << "row " << y;
}

TEST(SlidingWindow, RealUNet3dShapesAndProbabilities) {
  auto m = models::make_model(models::named_config("unet3d-tiny", 0, 3), 5);
  io::Volume v = random_volume({20, 36, 30}, 4);  // W shorter than the 32-voxel window
  SlidingWindowOptions o;
  Tensor probs;
  Tensor lab = train::predict_volume_3d(*m, v, o, &probs);
  ASSERT_EQ(lab.shape(), (Shape{20, 36, 30}));
  ASSERT_EQ(probs.shape(), (Shape{3, 20, 36, 30}));
  Tensor total = sum(probs, {0});
  for (double t : total.to_vector()) ASSERT_NEAR(t, 1.0, 1e-5);
  EXPECT_EQ(lab.to_vector(), argmax(probs, 0).to_vector());
}

TEST(SlidingWindow, RejectsBadInput) {
  Pointwise m({4, 4, 4});
  io::Volume flat;
  flat.data = Tensor::zeros({4, 4});
  EXPECT_THROW(train::predict_volume_3d(m, flat, {}), Error);
  io::Volume v = random_volume({4, 4, 4}, 1);
  SlidingWindowOptions o;
  o.overlap = 1.0;
  EXPECT_THROW(train::predict_volume_3d(m, v, o), Error);
  o = {};
  o.batch = 0;
  EXPECT_THROW(train::predict_volume_3d(m, v, o), Error);
  auto m2 = models::make_model(models::named_config("micro", 32, 3, 1), 1);  // 2-D model
  EXPECT_THROW(train::predict_volume_3d(*m2, v, {}), Error);
}

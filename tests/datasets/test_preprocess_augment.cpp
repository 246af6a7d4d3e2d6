#include <gtest/gtest.h>

#include <set>

#include "io/augment.h"
#include "io/preprocess.h"

using namespace gb;
using namespace gb::io;

namespace {
std::set<int32_t> label_set(const Tensor& t) {
  std::set<int32_t> s;
  for (double v : t.to_vector()) s.insert((int32_t)v);
  return s;
}
Tensor iota_f(const Shape& s) {
  Tensor t = Tensor::empty(s, DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = (float)i;
  return t;
}
}  // namespace

TEST(Preprocess, WindowingValues) {
  Tensor hu = Tensor::from_vector(std::vector<float>{-1000, -200, 25, 60, 250, 3000}, {6});
  std::vector<double> y = window_hu(hu).to_vector();  // default [-200, 250]
  EXPECT_FLOAT_EQ(y[0], 0.f);
  EXPECT_FLOAT_EQ(y[1], 0.f);
  EXPECT_FLOAT_EQ(y[2], 0.5f);
  EXPECT_NEAR(y[3], 260.0 / 450.0, 1e-6);
  EXPECT_FLOAT_EQ(y[4], 1.f);
  EXPECT_FLOAT_EQ(y[5], 1.f);
  Window w{-125, 275};  // the TransUNet Synapse window
  EXPECT_NEAR(window_hu(hu, w).to_vector()[3], 185.0 / 400.0, 1e-6);
  EXPECT_THROW(window_hu(hu, Window{10, 10}), Error);
  EXPECT_FLOAT_EQ(scale_pixel8(Tensor::from_vector(std::vector<float>{0, 51, 255}, {3})).to_vector()[1], 0.2f);
}

TEST(Preprocess, ResizeBilinearCornerAligned) {
  // [1, 2] -> [1, 3]: corners kept, middle is the mean (scipy zoom, order 1).
  Tensor x = Tensor::from_vector(std::vector<float>{0, 10, 20, 30}, {2, 2});
  Tensor y = resize_bilinear(x, 3, 3);
  ASSERT_EQ(y.shape(), (Shape{3, 3}));
  std::vector<double> v = y.to_vector();
  EXPECT_FLOAT_EQ(v[0], 0.f);
  EXPECT_FLOAT_EQ(v[2], 10.f);
  EXPECT_FLOAT_EQ(v[1], 5.f);
  EXPECT_FLOAT_EQ(v[4], 15.f);
  EXPECT_FLOAT_EQ(v[8], 30.f);
  // Downsampling 7 -> 4 on a linear ramp stays exactly linear.
  Tensor r = iota_f({1, 1, 7});
  std::vector<double> d = resize_bilinear(r, 1, 4).to_vector();
  EXPECT_FLOAT_EQ(d[1], 2.f);
  EXPECT_FLOAT_EQ(d[3], 6.f);
  // Same size is an exact copy.
  Tensor z = iota_f({3, 5, 7});
  EXPECT_EQ(resize_bilinear(z, 5, 7).to_vector(), z.to_vector());
}

TEST(Preprocess, ResizeNearestKeepsLabels) {
  Tensor l = Tensor::from_vector(std::vector<int32_t>{0, 1, 2, 1}, {2, 2});
  Tensor y = resize_nearest(l, 5, 3);
  EXPECT_EQ(label_set(y), (std::set<int32_t>{0, 1, 2}));
  // Corner-aligned nearest: row 0 -> 0, row 4 -> 1; column 1 -> 0.5 rounded up -> 1.
  EXPECT_EQ(y.at({0, 0}), 0);
  EXPECT_EQ(y.at({0, 1}), 1);
  EXPECT_EQ(y.at({4, 0}), 2);
  EXPECT_EQ(y.at({4, 2}), 1);
  Tensor big = resize_nearest(Tensor::full({33, 7}, 2.0, DType::I32), 224, 224);
  EXPECT_EQ(label_set(big), (std::set<int32_t>{2}));
}

TEST(Preprocess, TwoAndAHalfD) {
  Tensor vol = iota_f({3, 2, 2});  // slice k holds 4k .. 4k+3
  Tensor s0 = volume_slice(vol, 0, 1);
  ASSERT_EQ(s0.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(s0.at({0, 0, 0}), 0);  // k-1 replicated from slice 0
  EXPECT_EQ(s0.at({1, 0, 0}), 0);
  EXPECT_EQ(s0.at({2, 0, 0}), 4);
  Tensor s2 = volume_slice(vol, 2, 1);
  EXPECT_EQ(s2.at({0, 1, 1}), 7);
  EXPECT_EQ(s2.at({1, 1, 1}), 11);
  EXPECT_EQ(s2.at({2, 1, 1}), 11);  // k+1 replicated from the last slice
  EXPECT_EQ(volume_slice(vol, 1, 0).shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(label_slice(Tensor::full({3, 2, 2}, 1.0, DType::I32), 2).shape(), (Shape{2, 2}));
  EXPECT_THROW(volume_slice(vol, 3, 1), Error);
  Tensor rgb = Tensor::from_vector(std::vector<float>{1, 0, 0}, {3, 1, 1});
  EXPECT_NEAR(match_channels(rgb, 1).item(), 0.299, 1e-6);
  EXPECT_EQ(match_channels(Tensor::full({1, 2, 2}, 3.0), 3).at({2, 1, 1}), 3);
}

TEST(Augment, Rot90AndFlipMatchNumpy) {
  // np.rot90([[0,1,2],[3,4,5]], 1) == [[2,5],[1,4],[0,3]]
  Tensor x = iota_f({2, 3});
  Tensor r = rot90(x, 1);
  ASSERT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(r.to_vector(), (std::vector<double>{2, 5, 1, 4, 0, 3}));
  EXPECT_EQ(rot90(x, 2).to_vector(), (std::vector<double>{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(rot90(x, 3).to_vector(), (std::vector<double>{3, 0, 4, 1, 5, 2}));
  EXPECT_EQ(rot90(rot90(x, 1), 3).to_vector(), x.to_vector());
  EXPECT_EQ(flip(x, 0).to_vector(), (std::vector<double>{3, 4, 5, 0, 1, 2}));
  EXPECT_EQ(flip(x, 1).to_vector(), (std::vector<double>{2, 1, 0, 5, 4, 3}));
  // Channels move together.
  Tensor c = iota_f({2, 2, 3});
  EXPECT_EQ(rot90(c, 1).at({1, 0, 0}), 8);
}

TEST(Augment, RotationNearestAboutCentre) {
  Tensor x = iota_f({1, 5, 5});
  EXPECT_EQ(rotate_nearest(x, 0).to_vector(), x.to_vector());
  // Rotating by 90 degrees about the centre of a square grid is a pure permutation.
  Tensor r = rotate_nearest(x, 90);
  std::vector<double> a = r.to_vector();
  std::set<double> vals(a.begin(), a.end());
  EXPECT_EQ(vals.size(), 25u);
  EXPECT_EQ(r.at({0, 2, 2}), 12);  // centre fixed
  // It is one of the two 90-degree turns.
  bool ccw = a == rot90(x, 1).to_vector(), cw = a == rot90(x, 3).to_vector();
  EXPECT_TRUE(ccw || cw);
  // 20 degrees on a constant label map: corners fall outside and become 0, the centre stays.
  Tensor l = rotate_nearest(Tensor::full({9, 9}, 2.0, DType::I32), 20);
  EXPECT_EQ(l.at({0, 0}), 0);
  EXPECT_EQ(l.at({4, 4}), 2);
  EXPECT_EQ(label_set(l), (std::set<int32_t>{0, 2}));
}

TEST(Augment, PreservesLabelSetAndIsReproducible) {
  Tensor img = Tensor::empty({1, 16, 16}, DType::F32);
  Generator g0(7);
  g0.uniform_(img);
  std::vector<int32_t> lv(256, 0);
  for (int y = 4; y < 12; ++y)
    for (int x = 3; x < 13; ++x) lv[(size_t)(y * 16 + x)] = (x < 7 && y < 8) ? 2 : 1;
  Tensor lab = Tensor::from_vector(lv, {16, 16});
  int seen[3] = {0, 0, 0};
  for (uint64_t s = 0; s < 400; ++s) {
    Tensor a = img, b = lab, a2 = img, b2 = lab;
    Generator g1(1234, s), g2(1234, s);
    AugmentRecord r1 = augment(a, b, g1);
    AugmentRecord r2 = augment(a2, b2, g2);
    ASSERT_EQ(a.to_vector(), a2.to_vector()) << s;
    ASSERT_EQ(b.to_vector(), b2.to_vector()) << s;
    EXPECT_EQ(r1.angle, r2.angle);
    // No new labels; the object is far from the border so no class disappears either.
    EXPECT_EQ(label_set(b), (std::set<int32_t>{0, 1, 2})) << s;
    for (double v : a.to_vector()) ASSERT_TRUE(v >= 0.0 && v <= 1.0);
    if (r1.rot90 >= 0) {
      ++seen[0];
      EXPECT_EQ(r1.angle, 0);
    } else if (r1.rotated) {
      ++seen[1];
      EXPECT_GE(r1.angle, -20);
      EXPECT_LT(r1.angle, 20);
    } else {
      ++seen[2];
    }
  }
  // TransUNet's rule: rot/flip 1/2, rotation 1/4, nothing 1/4 (400 draws: generous bounds).
  EXPECT_NEAR(seen[0], 200, 40);
  EXPECT_NEAR(seen[1], 100, 35);
  EXPECT_NEAR(seen[2], 100, 35);
  // The inputs were never modified.
  EXPECT_EQ(lab.to_vector(), Tensor::from_vector(lv, {16, 16}).to_vector());
}

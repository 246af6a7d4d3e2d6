// Saliency metrics (xai/saliency_metrics.h) and the chance baselines (xai/saliency_baselines.h):
// hand-computed answers on tiny maps, a map equal to the mask scoring perfectly, a random map scoring
// at chance, and the documented edge cases.
#include <gtest/gtest.h>

#include <cmath>

#include "tensor/philox.h"
#include "xai/saliency_baselines.h"
#include "xai/saliency_metrics.h"

using namespace gb;
using xai::MapSign;
using xai::SaliencyOptions;

namespace {

// i32 [H, W] disk of radius r centred at (cy, cx).
Tensor disk(int64_t H, int64_t W, double cy, double cx, double r) {
  std::vector<int32_t> v(H * W, 0);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) v[y * W + x] = (y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r;
  return Tensor::from_vector(v, {H, W});
}

int64_t count_in(const Tensor& m) {
  int64_t n = 0;
  for (double v : m.to_vector()) n += v != 0;
  return n;
}

// The 2x3 map and mask every hand computation below uses (M = the two starred pixels):
//   0.1   0.4*  0.35
//   0.8*  0.4   0.0
Tensor tiny_map() { return Tensor::from_vector(std::vector<double>{0.1, 0.4, 0.35, 0.8, 0.4, 0.0}, {2, 3}); }
Tensor tiny_mask() { return Tensor::from_vector(std::vector<int32_t>{0, 1, 0, 1, 0, 0}, {2, 3}); }

// T of each image of a [b, C, H, W] batch: the sum of channel 0 over the region `m` (i32 [H, W]).
xai::ScoreFn region_sum(const Tensor& m) {
  std::vector<double> mv = m.to_vector();
  return [mv](const Tensor& batch) {
    std::vector<double> x = batch.to_vector(), out;
    const int64_t b = batch.size(0), per = batch.numel() / b, n = (int64_t)mv.size();
    for (int64_t i = 0; i < b; ++i) {
      double s = 0;
      for (int64_t p = 0; p < n; ++p) s += mv[p] * x[i * per + p];
      out.push_back(s);
    }
    return out;
  };
}

}  // namespace

// Every value below is worked out by hand in the comments.
TEST(SaliencyMetrics, KnownAnswersOnATinyMap) {
  SaliencyOptions opt;
  opt.topk_fraction = 1.0 / 3.0;  // 2 of 6 pixels
  xai::SaliencyScores s = xai::score_map(tiny_map(), tiny_mask(), opt);
  EXPECT_EQ(s.pixels, 6);
  EXPECT_EQ(s.mask_pixels, 2);
  EXPECT_DOUBLE_EQ(s.chance(), 2.0 / 6.0);
  // max 0.8 is in M
  EXPECT_DOUBLE_EQ(s.pointing_game, 1.0);
  // (0.4 + 0.8) / 2.05
  EXPECT_NEAR(s.mass_in_mask, 1.2 / 2.05, 1e-15);
  // top-2: 0.8 (in M), then one of the two tied 0.4 (one in, one out): (1 + 1/2) / 2
  EXPECT_DOUBLE_EQ(s.rank_accuracy, 0.75);
  // pairs (in, out) with in > out: 0.4 beats 0.1, 0.35, 0.0 and ties 0.4 (1/2): 3.5; 0.8 beats all 4.
  // U = 7.5 of 2 * 4 pairs.
  EXPECT_DOUBLE_EQ(s.roc_auc, 7.5 / 8.0);
  // sorted 0, 0.1, 0.35, 0.4, 0.4, 0.8; between-class variances of the splits after
  // 0: .02335, 0.1: .04253, 0.35: .03674, 0.4: .04201  ->  t = (0.1 + 0.35) / 2,
  // F = {0.35, 0.4, 0.8, 0.4}: |F & M| = 2, IoU 2/4, Dice 4/6
  EXPECT_NEAR(s.otsu.threshold, 0.225, 1e-15);
  EXPECT_EQ(s.otsu.selected, 4);
  EXPECT_DOUBLE_EQ(s.otsu.iou, 0.5);
  EXPECT_DOUBLE_EQ(s.otsu.dice, 2.0 / 3.0);
  // top-k: v_k = 2nd largest = 0.4, F = {0.8, 0.4, 0.4} (ties kept): IoU 2/3, Dice 4/5
  EXPECT_DOUBLE_EQ(s.topk.threshold, 0.4);
  EXPECT_EQ(s.topk.selected, 3);
  EXPECT_DOUBLE_EQ(s.topk.iou, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.topk.dice, 0.8);
  // Gini: sum c_i (N - i + 1/2) = 0.1*4.5 + 0.35*3.5 + 0.4*2.5 + 0.4*1.5 + 0.8*0.5 = 3.675;
  // 1 - 2 * 3.675 / (2.05 * 6)
  EXPECT_NEAR(s.gini, 1.0 - 7.35 / 12.3, 1e-15);
  // no probe: no curves
  EXPECT_TRUE(std::isnan(s.deletion_auc));
  EXPECT_TRUE(s.deletion.score.empty());
  // the one-by-one functions agree with score_map
  EXPECT_EQ(xai::roc_auc(tiny_map(), tiny_mask(), opt), s.roc_auc);
  EXPECT_EQ(xai::rank_accuracy(tiny_map(), tiny_mask(), opt), s.rank_accuracy);
  EXPECT_EQ(xai::pointing_game(tiny_map(), tiny_mask(), opt), s.pointing_game);
  EXPECT_EQ(xai::mass_in_mask(tiny_map(), tiny_mask(), opt), s.mass_in_mask);
  EXPECT_EQ(xai::overlap_at_otsu(tiny_map(), tiny_mask(), opt).iou, s.otsu.iou);
  EXPECT_EQ(xai::overlap_at_topk(tiny_map(), tiny_mask(), opt).dice, s.topk.dice);
  EXPECT_EQ(xai::gini(tiny_map(), opt), s.gini);
}

TEST(SaliencyMetrics, OtsuOfKnownSamples) {
  // Bimodal: two clusters around 2 and 8 -> the split falls in the gap, at its midpoint.
  EXPECT_DOUBLE_EQ(xai::otsu_threshold({1, 2, 3, 7, 8, 9}), 5.0);
  // Unequal classes, by hand: splits after 0: 3.52, after 1: 7.56, after 2: 15.19 -> (2 + 10) / 2.
  EXPECT_DOUBLE_EQ(xai::otsu_threshold({10, 0, 2, 1}), 6.0);
  // A heavy low mode and a light high one, with a lone middle value that joins the low class:
  // sum 35; after 0 (x3): w .375/.625, mu 0/7 -> 11.48; after 2: w .5/.5, mu .5/8.25 -> 15.02 (the
  // max); after 8 (x3): w .875/.125, mu 3.714/9 -> 3.06.
  EXPECT_DOUBLE_EQ(xai::otsu_threshold({0, 0, 0, 2, 8, 8, 8, 9}), 5.0);
  // Where squaring the mean gap matters (w0 w1 |mu0 - mu1| would pick 3.0): sum 24; after 1 (x2):
  // .222 * 4.5^2 = 4.5; after 2: .25 * 5.33^2 = 7.11; after 4: .222 * 6^2 = 8.0 (the max); after 7:
  // .139 * 6^2 = 5.0.
  EXPECT_DOUBLE_EQ(xai::otsu_threshold({1, 1, 2, 4, 7, 9}), 5.5);
  // One distinct value: no split, the value itself.
  EXPECT_DOUBLE_EQ(xai::otsu_threshold({3, 3, 3}), 3.0);
  EXPECT_THROW(xai::otsu_threshold({}), Error);
}

// k N is rounded up, but a product that is an integer up to rounding stays that integer:
// 0.07 * 100 = 7.000000000000001 in doubles selects 7 pixels, not 8; 0.075 * 100 selects 8.
TEST(SaliencyMetrics, TopKCountsPixelsExactly) {
  Tensor map = Tensor::arange(100, DType::F64).view_reshape({10, 10});  // distinct values: no ties
  Tensor mask = Tensor::zeros({10, 10}, DType::I32);
  mask.view_slice(0, 9, 10).fill(1);  // the 10 largest values
  SaliencyOptions opt;
  opt.topk_fraction = 0.07;
  xai::Overlap o = xai::overlap_at_topk(map, mask, opt);
  EXPECT_EQ(o.selected, 7);
  EXPECT_DOUBLE_EQ(o.iou, 0.7);
  opt.topk_fraction = 0.075;
  EXPECT_EQ(xai::overlap_at_topk(map, mask, opt).selected, 8);
  opt.topk_fraction = 1e-6;  // at least one pixel
  EXPECT_EQ(xai::overlap_at_topk(map, mask, opt).selected, 1);
}

TEST(SaliencyMetrics, GiniOfOneHotAndConstantMaps) {
  for (int64_t n : {4, 9, 100}) {
    std::vector<double> v(n, 0.0);
    v[n / 2] = 3.5;
    EXPECT_NEAR(xai::gini(Tensor::from_vector(v, {1, n})), 1.0 - 1.0 / (double)n, 1e-14) << n;
    EXPECT_NEAR(xai::gini(Tensor::full({n, 2}, 0.7, DType::F64)), 0.0, 1e-14) << n;
  }
  EXPECT_TRUE(std::isnan(xai::gini(Tensor::zeros({3, 3}, DType::F64))));
}

// A map equal to the mask scores perfectly on every metric, in 2-D and 3-D, in f32 and f64.
TEST(SaliencyMetrics, MapEqualToMaskScoresPerfectly) {
  Tensor m2 = disk(40, 40, 18.3, 21.7, 9.0);  // m ~ 0.16
  std::vector<int32_t> v3(6 * 20 * 20, 0);
  for (int64_t z = 1; z < 5; ++z)
    for (int64_t y = 5; y < 13; ++y)
      for (int64_t x = 4; x < 11; ++x) v3[(z * 20 + y) * 20 + x] = 1;
  Tensor m3 = Tensor::from_vector(v3, {6, 20, 20});  // m = 224 / 2400
  for (const Tensor& mask : {m2, m3})
    for (DType dt : {DType::F32, DType::F64})
      for (MapSign sign : {MapSign::Relu, MapSign::Abs}) {
        SaliencyOptions opt;
        opt.sign = sign;
        xai::SaliencyScores s = xai::score_map(mask.to(dt), mask, opt);
        SCOPED_TRACE(mask.desc() + " " + dtype_name(dt));
        ASSERT_GE(s.chance(), opt.topk_fraction);  // top-k is perfect only for k <= m (documented)
        EXPECT_EQ(s.pointing_game, 1.0);
        EXPECT_EQ(s.mass_in_mask, 1.0);
        EXPECT_EQ(s.rank_accuracy, 1.0);
        EXPECT_EQ(s.roc_auc, 1.0);
        EXPECT_EQ(s.otsu.iou, 1.0);
        EXPECT_EQ(s.otsu.dice, 1.0);
        EXPECT_EQ(s.topk.iou, 1.0);
        EXPECT_EQ(s.topk.dice, 1.0);
        // a binary map of |M| ones: Gini = 1 - |M| / N (the one-hot rule, |M| hot pixels)
        EXPECT_NEAR(s.gini, 1.0 - s.chance(), 1e-12);
      }
}

// A seeded uniform map sits at each metric's chance level (m = |M| / N). N = 4096, |M| ~ 400, so the
// spreads are: AUC sd 0.015, rank accuracy sd 0.014, mass sd ~0.01; the tolerances are ~3 sd.
TEST(SaliencyMetrics, RandomMapScoresNearChance) {
  Tensor mask = disk(64, 64, 30.5, 33.2, 11.4);
  const double m = (double)count_in(mask) / 4096.0, k = 0.05;
  ASSERT_NEAR(m, 0.1, 0.01);
  xai::SaliencyScores s = xai::score_map(xai::random_map({64, 64}, 11), mask);
  EXPECT_NEAR(s.roc_auc, 0.5, 0.045);
  EXPECT_NEAR(s.rank_accuracy, m, 0.045);
  EXPECT_NEAR(s.mass_in_mask, m, 0.03);
  EXPECT_NEAR(s.gini, 1.0 / 3.0, 0.03);  // Gini of U(0, 1)
  // Otsu of uniform noise splits near 0.5: half of M and half of the image selected
  EXPECT_NEAR(s.otsu.threshold, 0.5, 0.05);
  EXPECT_NEAR(s.otsu.iou, m / (1 + m), 0.03);
  EXPECT_NEAR(s.otsu.dice, m / (0.5 + m), 0.04);
  EXPECT_NEAR(s.topk.iou, k * m / (k + m - k * m), 0.03);
  EXPECT_NEAR(s.topk.dice, 2 * k * m / (k + m), 0.04);
  // The pointing game is 0 or 1 per map: over 300 maps its mean is m (binomial sd 0.017).
  double hits = 0;
  for (uint64_t seed = 100; seed < 400; ++seed) hits += xai::pointing_game(xai::random_map({64, 64}, seed), mask);
  EXPECT_NEAR(hits / 300.0, m, 0.055);
}

// A constant map ranks nothing: every rank metric lands exactly on chance by the tie rules.
TEST(SaliencyMetrics, ConstantMapScoresChanceExactly) {
  Tensor mask = disk(20, 20, 9.0, 9.0, 4.0);
  xai::SaliencyScores s = xai::score_map(Tensor::full({20, 20}, 0.3, DType::F64), mask);
  const double m = s.chance();
  EXPECT_DOUBLE_EQ(s.pointing_game, m);
  EXPECT_DOUBLE_EQ(s.rank_accuracy, m);
  EXPECT_NEAR(s.mass_in_mask, m, 1e-12);  // a float sum of 400 equal terms
  EXPECT_DOUBLE_EQ(s.roc_auc, 0.5);
  EXPECT_EQ(s.otsu.selected, 0);  // no split: empty foreground
  EXPECT_EQ(s.otsu.iou, 0.0);
  EXPECT_EQ(s.topk.selected, 400);  // v_k is the minimum: everything kept
  EXPECT_DOUBLE_EQ(s.topk.iou, m);
  EXPECT_NEAR(s.gini, 0.0, 1e-14);
}

TEST(SaliencyMetrics, EmptyAndFullMasks) {
  xai::SaliencyScores e = xai::score_map(tiny_map(), Tensor::zeros({2, 3}, DType::I32));
  for (double v : {e.pointing_game, e.mass_in_mask, e.rank_accuracy, e.roc_auc, e.otsu.iou, e.otsu.dice, e.topk.iou,
                   e.topk.dice})
    EXPECT_TRUE(std::isnan(v));
  EXPECT_FALSE(std::isnan(e.gini));  // does not need M
  xai::SaliencyScores f = xai::score_map(tiny_map(), Tensor::ones({2, 3}, DType::I32));
  EXPECT_TRUE(std::isnan(f.roc_auc));  // no pixel outside M
  EXPECT_EQ(f.rank_accuracy, 1.0);
  EXPECT_EQ(f.mass_in_mask, 1.0);
  // an all-zero map has no mass
  EXPECT_TRUE(std::isnan(xai::mass_in_mask(Tensor::zeros({2, 3}, DType::F64), tiny_mask())));
}

// Negative values: Relu drops them to the bottom, Abs ranks them by magnitude.
TEST(SaliencyMetrics, SignPolicy) {
  Tensor map = Tensor::from_vector(std::vector<double>{-5, 1, 0, 2}, {2, 2});
  Tensor mask = Tensor::from_vector(std::vector<int32_t>{1, 0, 0, 0}, {2, 2});
  SaliencyOptions relu, abs;
  abs.sign = MapSign::Abs;
  EXPECT_EQ(xai::pointing_game(map, mask, relu), 0.0);
  EXPECT_EQ(xai::mass_in_mask(map, mask, relu), 0.0);
  EXPECT_DOUBLE_EQ(xai::roc_auc(map, mask, relu), 1.0 / 6.0);  // 0 (after ReLU) ties the 0 pixel: 1/2 of 3
  EXPECT_EQ(xai::pointing_game(map, mask, abs), 1.0);
  EXPECT_DOUBLE_EQ(xai::mass_in_mask(map, mask, abs), 5.0 / 8.0);
  EXPECT_EQ(xai::roc_auc(map, mask, abs), 1.0);
}

TEST(SaliencyMetrics, ClearErrors) {
  EXPECT_THROW(xai::score_map(tiny_map(), Tensor::zeros({3, 2}, DType::I32)), Error);              // shape
  EXPECT_THROW(xai::score_map(tiny_map().view_reshape({6}), tiny_mask().view_reshape({6})), Error);  // 1-D
  EXPECT_THROW(xai::score_map(Tensor::zeros({2, 3}, DType::I32), tiny_mask()), Error);               // not float
  Tensor bad = tiny_map().clone();
  bad.data<double>()[2] = std::nan("");
  EXPECT_THROW(xai::score_map(bad, tiny_mask()), Error);
  SaliencyOptions opt;
  opt.topk_fraction = 0;
  EXPECT_THROW(xai::score_map(tiny_map(), tiny_mask(), opt), Error);
}

// Deletion / insertion with T = the image's sum over M, an image of ones and a zero baseline:
// N = 256, |M| = 64 = N / 4, 8 steps of 32 pixels. The mask map removes M first, so T falls linearly
// from 64 to 0 over x in [0, 1/4]: deletion AUC = 64 * (1/4) / 2 = 8 (the least possible) and
// insertion AUC = 8 + 64 * 3/4 = 56 (the most possible). A random order removes M at the average
// rate: both AUCs about 64 / 2 = 32.
TEST(SaliencyMetrics, DeletionAndInsertionCurves) {
  std::vector<int32_t> mv(256, 0);
  for (int64_t y = 4; y < 12; ++y)
    for (int64_t x = 2; x < 10; ++x) mv[y * 16 + x] = 1;
  Tensor mask = Tensor::from_vector(mv, {16, 16});
  xai::PerturbationProbe probe;
  probe.image = Tensor::ones({1, 1, 16, 16}, DType::F64);
  probe.score = region_sum(mask);
  probe.options.steps = 8;
  probe.options.batch = 3;
  xai::SaliencyScores s = xai::score_map(mask.to(DType::F64), mask, probe);
  ASSERT_EQ(s.deletion.score.size(), 9u);
  EXPECT_EQ(s.deletion.fraction.front(), 0.0);
  EXPECT_EQ(s.deletion.fraction.back(), 1.0);
  EXPECT_EQ(s.deletion.score.front(), 64.0);  // the untouched image
  EXPECT_EQ(s.deletion.score[1], 32.0);
  EXPECT_EQ(s.deletion.score[2], 0.0);
  EXPECT_EQ(s.insertion.score.front(), 0.0);  // the baseline
  EXPECT_EQ(s.insertion.score.back(), 64.0);
  EXPECT_DOUBLE_EQ(s.deletion_auc, 8.0);
  EXPECT_DOUBLE_EQ(s.insertion_auc, 56.0);

  xai::PerturbationProbe p64 = probe;  // finer steps for a smoother random curve
  p64.options.steps = 64;
  xai::SaliencyScores r = xai::score_map(xai::random_map({16, 16}, 5), mask, p64);
  EXPECT_NEAR(r.deletion_auc, 32.0, 6.0);
  EXPECT_NEAR(r.insertion_auc, 32.0, 6.0);
  // any map's curves lie between the mask map's: deletion >= 8, insertion <= 56
  EXPECT_GT(r.deletion_auc, 8.0);
  EXPECT_LT(r.insertion_auc, 56.0);
}

// The batch size changes how the scoring function is called, never the curve; a baseline of one
// value fills every pixel; a [C, H, W] image perturbs all channels of a pixel together.
TEST(SaliencyMetrics, PerturbationBatchingAndBaselines) {
  Tensor mask = disk(12, 12, 5.0, 6.0, 3.0);
  Tensor map = xai::random_map({12, 12}, 3);
  Tensor image = Tensor::empty({2, 12, 12}, DType::F32);
  Generator(9).uniform_(image, 0, 1);
  std::vector<int64_t> sizes;
  auto score = region_sum(mask);
  xai::PerturbationProbe probe;
  probe.image = image;
  probe.baseline = Tensor::scalar(-1.0, DType::F64);
  probe.score = [&](const Tensor& b) {
    EXPECT_EQ(b.dtype(), DType::F32);
    EXPECT_EQ(b.shape(), (Shape{b.size(0), 2, 12, 12}));
    sizes.push_back(b.size(0));
    return score(b);
  };
  probe.options.steps = 10;
  probe.options.batch = 1;
  xai::PerturbationCurve one = xai::deletion_curve(map, probe);
  EXPECT_EQ(sizes, std::vector<int64_t>(11, 1));
  sizes.clear();
  probe.options.batch = 4;
  xai::PerturbationCurve four = xai::deletion_curve(map, probe);
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 3}));
  EXPECT_EQ(one.score, four.score);
  EXPECT_EQ(one.auc, four.auc);
  // everything deleted: T = -1 * |M|
  EXPECT_DOUBLE_EQ(four.score.back(), -(double)count_in(mask));
  // a full-shape baseline equal to the scalar one gives the same curve
  probe.baseline = Tensor::full({2, 12, 12}, -1.0, DType::F32);
  EXPECT_EQ(xai::deletion_curve(map, probe).score, four.score);
  // insertion ends at the image's own T
  EXPECT_NEAR(xai::insertion_curve(map, probe).score.back(), score(image.view_reshape({1, 2, 12, 12}))[0], 1e-5);

  probe.score = [](const Tensor&) { return std::vector<double>{1.0}; };  // wrong count for batch 4
  EXPECT_THROW(xai::deletion_curve(map, probe), Error);
  probe.score = score;
  probe.image = Tensor::ones({2, 11, 12}, DType::F32);  // does not match the map
  EXPECT_THROW(xai::deletion_curve(map, probe), Error);
}

// Equal saliency is removed in ascending pixel order: with one pixel per step and T weighting pixel
// p by 2^p, the curve shows the order (reversed it would read 15, 7, 3, 1, 0).
TEST(SaliencyMetrics, DeletionBreaksTiesByPixelOrder) {
  xai::PerturbationProbe probe;
  probe.image = Tensor::ones({1, 1, 1, 4}, DType::F64);
  probe.score = [](const Tensor& b) {
    std::vector<double> x = b.to_vector(), out;
    for (int64_t i = 0; i < b.size(0); ++i)
      out.push_back(x[4 * i] + 2 * x[4 * i + 1] + 4 * x[4 * i + 2] + 8 * x[4 * i + 3]);
    return out;
  };
  probe.options.steps = 4;
  EXPECT_EQ(xai::deletion_curve(Tensor::full({1, 4}, 0.5, DType::F64), probe).score,
            (std::vector<double>{15, 14, 12, 8, 0}));
  // distinct values go most salient first
  EXPECT_EQ(xai::deletion_curve(Tensor::from_vector(std::vector<double>{0.1, 0.9, 0.5, 0.7}, {1, 4}), probe).score,
            (std::vector<double>{15, 13, 5, 1, 0}));
}

TEST(Spearman, KnownAnswersAndTies) {
  EXPECT_EQ(xai::average_ranks({10, 20, 10, 30}), (std::vector<double>{1.5, 3, 1.5, 4}));
  // ranks of b: 1, 2, 3.5, 5, 3.5; centred a: -2..2, centred b: -2, -1, .5, 2, .5 -> 8 / sqrt(10 * 9.5)
  EXPECT_NEAR(xai::spearman(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{5, 6, 7, 8, 7}),
              8.0 / std::sqrt(95.0), 1e-15);
  Tensor a = xai::random_map({8, 8}, 1);
  std::vector<double> mono = a.to_vector(), rev = a.to_vector();
  for (double& v : mono) v = std::exp(3 * v);  // monotone: same ranks
  for (double& v : rev) v = -v;
  EXPECT_DOUBLE_EQ(xai::spearman(a, Tensor::from_vector(mono, {64})), 1.0);
  EXPECT_DOUBLE_EQ(xai::spearman(a, Tensor::from_vector(rev, {8, 8})), -1.0);
  EXPECT_NEAR(xai::spearman(a, xai::random_map({8, 8}, 2)), 0.0, 0.4);  // sd 1/sqrt(63) = 0.126
  EXPECT_TRUE(std::isnan(xai::spearman(a, Tensor::zeros({8, 8}, DType::F64))));
  EXPECT_THROW(xai::spearman(a, Tensor::zeros({8, 7}, DType::F64)), Error);
}

TEST(SaliencyBaselines, RandomMapIsSeededUniform) {
  Tensor a = xai::random_map({5, 7}, 42), b = xai::random_map({5, 7}, 42), c = xai::random_map({5, 7}, 43);
  EXPECT_EQ(a.shape(), (Shape{5, 7}));
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NE(a.to_vector(), c.to_vector());
  for (double v : a.to_vector()) EXPECT_TRUE(v >= 0 && v < 1);
}

// A vertical step edge 0 | 1: Sobel x = (1, 2, 1) * (I(x+1) - I(x-1)) = 4 on the two columns beside
// the step, 0 elsewhere, the image frame included (replicated borders). In 3-D a step of height 2 along
// z gives 2 * (1 2 1) x (1 2 1) = 32 on the two planes beside it. Two equal channels give sqrt(2) times one.
TEST(SaliencyBaselines, SobelOfAStepEdge) {
  std::vector<double> v(6 * 8);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 8; ++x) v[y * 8 + x] = x >= 4 ? 1.0 : 0.0;
  Tensor e = xai::sobel_edge_map(Tensor::from_vector(v, {6, 8}), 2);
  ASSERT_EQ(e.shape(), (Shape{6, 8}));
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 8; ++x) EXPECT_EQ(e.at({y, x}), (x == 3 || x == 4) ? 4.0 : 0.0) << y << "," << x;

  std::vector<double> two(v);
  two.insert(two.end(), v.begin(), v.end());
  Tensor e2 = xai::sobel_edge_map(Tensor::from_vector(two, {1, 2, 6, 8}), 2);
  EXPECT_DOUBLE_EQ(e2.at({2, 3}), 4.0 * std::sqrt(2.0));

  std::vector<double> vol(5 * 4 * 4);
  for (int64_t z = 0; z < 5; ++z)
    for (int64_t i = 0; i < 16; ++i) vol[z * 16 + i] = z >= 2 ? 2.0 : 0.0;
  Tensor e3 = xai::sobel_edge_map(Tensor::from_vector(vol, {5, 4, 4}), 3);
  ASSERT_EQ(e3.shape(), (Shape{5, 4, 4}));
  for (int64_t z = 0; z < 5; ++z) EXPECT_EQ(e3.at({z, 1, 2}), (z == 1 || z == 2) ? 32.0 : 0.0) << z;
  // the same volume read as a 2-D stack of 5 channels has no in-plane edge at all
  for (double x : xai::sobel_edge_map(Tensor::from_vector(vol, {5, 4, 4}), 2).to_vector()) EXPECT_EQ(x, 0.0);
  EXPECT_THROW(xai::sobel_edge_map(Tensor::zeros({4}, DType::F64), 2), Error);
}

// score_chance_maps scores exactly random_map(seed) and sobel_edge_map(image): the random one at
// chance, the edge one on the rim of a bright disk, i.e. well above chance but short of perfect.
TEST(SaliencyBaselines, ChanceMapsScoredAlike) {
  Tensor mask = disk(48, 48, 22.0, 25.0, 9.0);
  Tensor image = mask.to(DType::F64).view_reshape({1, 1, 48, 48});
  xai::ChanceScores c = xai::score_chance_maps(image, mask, {}, 7);
  xai::SaliencyScores r = xai::score_map(xai::random_map({48, 48}, 7), mask);
  xai::SaliencyScores e = xai::score_map(xai::sobel_edge_map(image, 2), mask);
  EXPECT_EQ(c.random.roc_auc, r.roc_auc);
  EXPECT_EQ(c.random.rank_accuracy, r.rank_accuracy);
  EXPECT_EQ(c.edge.roc_auc, e.roc_auc);
  EXPECT_EQ(c.edge.mass_in_mask, e.mass_in_mask);
  EXPECT_NEAR(c.random.roc_auc, 0.5, 0.06);
  // the rim straddles the boundary: about half its mass inside, IoU with the whole disk far from 1
  EXPECT_GT(c.edge.mass_in_mask, 0.3);
  EXPECT_LT(c.edge.mass_in_mask, 0.7);
  EXPECT_LT(c.edge.otsu.iou, 0.5);
  EXPECT_THROW(xai::score_chance_maps(image, disk(40, 48, 2, 2, 1)), Error);
}

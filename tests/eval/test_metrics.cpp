// Per-case overlap figures and the empty-mask convention, per-class masks (liver = {1, 2}),
// slices pooled into a case, and the pooled summary (global Dice beside the per-case mean).
#include <gtest/gtest.h>

#include <cmath>

#include "eval/metrics.h"
#include "golden_masks.h"

using namespace gb;
using namespace gb::eval;
using gbtest::fill_box;
using gbtest::zeros3;

TEST(Metrics, OverlapFiguresOfKnownCounts) {
  // truth: 2x2x2 = 8 voxels; prediction: 2x2x3 = 12 voxels shifted by one along x, 4 of them inside
  // the truth (x = 1): TP 4, FP 8, FN 4, TN 1000 - 16.
  Tensor t = zeros3(10, 10, 10), p = zeros3(10, 10, 10);
  fill_box(t, 0, 2, 0, 2, 0, 2);
  fill_box(p, 0, 2, 0, 2, 1, 4);
  ClassScore s = score_case("c", p, t, {1, 1, 1}, {{"fg", {1}}})[0];
  EXPECT_EQ(s.tp, 4);
  EXPECT_EQ(s.fp, 8);
  EXPECT_EQ(s.fn, 4);
  EXPECT_EQ(s.tn, 1000 - 16);
  EXPECT_DOUBLE_EQ(s.dice, 8.0 / 20.0);
  EXPECT_DOUBLE_EQ(s.iou, 4.0 / 16.0);
  EXPECT_DOUBLE_EQ(s.voe, 0.75);
  EXPECT_DOUBLE_EQ(s.sensitivity, 4.0 / 8.0);
  EXPECT_DOUBLE_EQ(s.precision, 4.0 / 12.0);
  EXPECT_DOUBLE_EQ(s.specificity, 984.0 / 992.0);
  EXPECT_DOUBLE_EQ(s.rvd, 4.0 / 8.0);
  EXPECT_EQ(s.empty, EmptyRule::None);
}

TEST(Metrics, EmptyMaskConventionAndCounts) {
  Tensor e = zeros3(4, 4, 4), a = zeros3(4, 4, 4);
  fill_box(a, 1, 2, 1, 2, 1, 2);
  ClassScore both = score_case("both", e, e, {1, 1, 1}, {{"fg", {1}}})[0];
  EXPECT_EQ(both.empty, EmptyRule::BothEmpty);
  EXPECT_DOUBLE_EQ(both.dice, 1.0);
  EXPECT_DOUBLE_EQ(both.iou, 1.0);
  EXPECT_DOUBLE_EQ(both.voe, 0.0);
  EXPECT_TRUE(std::isnan(both.sensitivity) && std::isnan(both.precision) && std::isnan(both.rvd));
  EXPECT_FALSE(both.surface.defined);
  EXPECT_TRUE(std::isnan(both.surface.hd95));
  ClassScore fp = score_case("fp", a, e, {1, 1, 1}, {{"fg", {1}}})[0];  // truth empty
  EXPECT_EQ(fp.empty, EmptyRule::TruthEmpty);
  EXPECT_DOUBLE_EQ(fp.dice, 0.0);
  EXPECT_DOUBLE_EQ(fp.voe, 1.0);
  EXPECT_TRUE(std::isnan(fp.surface.assd));
  ClassScore fn = score_case("fn", e, a, {1, 1, 1}, {{"fg", {1}}})[0];
  EXPECT_EQ(fn.empty, EmptyRule::PredEmpty);
  EXPECT_DOUBLE_EQ(fn.dice, 0.0);
  EXPECT_DOUBLE_EQ(fn.sensitivity, 0.0);
  EXPECT_TRUE(std::isnan(fn.precision));
  ClassScore ok = score_case("ok", a, a, {1, 1, 1}, {{"fg", {1}}})[0];
  ClassSummary s = summarise_class({both, fp, fn, ok}, "fg", 200, 7);
  EXPECT_EQ(s.cases, 4);
  EXPECT_EQ(s.both_empty, 1);
  EXPECT_EQ(s.truth_empty, 1);
  EXPECT_EQ(s.pred_empty, 1);
  EXPECT_EQ(s.surface_undefined, 3);
  EXPECT_DOUBLE_EQ(s.mean.at("dice").mean, 0.5);  // (1 + 0 + 0 + 1) / 4
  EXPECT_EQ(s.mean.at("hd95").n, 1);              // only "ok" has surfaces
  EXPECT_DOUBLE_EQ(s.mean.at("hd95").mean, 0.0);
  // Global Dice pools the voxels: TP 1, FP 1, FN 1 -> 2/4.
  EXPECT_DOUBLE_EQ(s.global_dice, 0.5);
}

TEST(Metrics, ClassesAreLabelSetsLiverIncludesTumour) {
  Tensor t = zeros3(4, 6, 6), p = zeros3(4, 6, 6);
  fill_box(t, 0, 4, 0, 4, 0, 4, 1);
  fill_box(t, 1, 3, 1, 3, 1, 3, 2);  // tumour inside the liver
  fill_box(p, 0, 4, 0, 4, 0, 4, 1);  // the prediction calls it all liver
  auto s = score_case("c", p, t, {1, 1, 1}, lits_classes());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].cls, "liver");
  EXPECT_DOUBLE_EQ(s[0].dice, 1.0);  // liver = {1, 2}: perfect
  EXPECT_EQ(s[1].cls, "tumour");
  EXPECT_EQ(s[1].empty, EmptyRule::PredEmpty);
  EXPECT_DOUBLE_EQ(s[1].dice, 0.0);
  EXPECT_EQ(s[1].lesions.truth, 1);
  EXPECT_EQ(s[1].lesions.found, 0);
}

TEST(Metrics, SlicesPoolIntoOneCase) {
  // Two 2-D slices of one case: counts add up; the surface sets of both slices are pooled; a slice
  // with the class on one side only is skipped for distances and counted.
  Tensor t0 = Tensor::zeros({8, 8}, DType::I32), p0 = Tensor::zeros({8, 8}, DType::I32);
  Tensor t1 = Tensor::zeros({8, 8}, DType::I32), p1 = Tensor::zeros({8, 8}, DType::I32);
  fill_box(t0, 0, 1, 2, 5, 2, 5);
  fill_box(p0, 0, 1, 2, 5, 3, 6);  // shifted by one pixel
  fill_box(p1, 0, 1, 0, 2, 0, 2);  // false positive on a slice without truth
  CaseScorer sc("vol", {"fg", {1}});
  sc.add(p0, t0, {0.5, 0.5, 1}, false);
  sc.add(p1, t1, {0.5, 0.5, 1}, false);
  ClassScore s = sc.finish();
  EXPECT_EQ(s.tp, 6);
  EXPECT_EQ(s.fp, 3 + 4);
  EXPECT_EQ(s.fn, 3);
  EXPECT_FALSE(s.spacing_known);
  EXPECT_EQ(s.surface_parts_skipped, 1);
  EXPECT_TRUE(s.surface.defined);
  EXPECT_DOUBLE_EQ(s.surface.msd, 0.5);  // one pixel of 0.5 mm
  EXPECT_EQ(s.lesions.truth, 1);
  EXPECT_EQ(s.lesions.pred, 2);
  EXPECT_EQ(s.lesions.found, 0);  // IoU 6 / 12 is not > 0.5
}

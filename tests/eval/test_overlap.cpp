#include <gtest/gtest.h>

#include <cmath>

#include "eval/overlap.h"

using namespace gb;

TEST(Overlap, CountsAndFormulas) {
  // pred: 1 1 0 0 2 ; truth: 1 0 1 0 2   (class 1: TP 1, FP 1, FN 1, TN 2)
  Tensor p = Tensor::from_vector(std::vector<int32_t>{1, 1, 0, 0, 2}, {5});
  Tensor t = Tensor::from_vector(std::vector<int32_t>{1, 0, 1, 0, 2}, {5});
  auto o = eval::overlap(p, t, 1);
  EXPECT_EQ(o.tp, 1);
  EXPECT_EQ(o.fp, 1);
  EXPECT_EQ(o.fn, 1);
  EXPECT_EQ(o.tn, 2);
  EXPECT_DOUBLE_EQ(o.dice, 0.5);
  EXPECT_DOUBLE_EQ(o.iou, 1.0 / 3);
  EXPECT_DOUBLE_EQ(o.voe, 2.0 / 3);
  EXPECT_DOUBLE_EQ(o.sensitivity, 0.5);
  EXPECT_DOUBLE_EQ(o.specificity, 2.0 / 3);
  EXPECT_DOUBLE_EQ(o.rvd, 0.0);
  EXPECT_DOUBLE_EQ(eval::overlap(p, t, 2).dice, 1.0);
}

TEST(Overlap, EmptyMaskConvention) {
  Tensor z = Tensor::from_vector(std::vector<int32_t>{0, 0, 0}, {3});
  Tensor one = Tensor::from_vector(std::vector<int32_t>{0, 2, 0}, {3});
  auto both = eval::overlap(z, z, 2);
  EXPECT_TRUE(both.both_empty);
  EXPECT_EQ(both.dice, 1.0);
  auto fp_only = eval::overlap(one, z, 2);  // prediction on an empty ground truth scores 0, not 1
  EXPECT_FALSE(fp_only.both_empty);
  EXPECT_EQ(fp_only.dice, 0.0);
  EXPECT_TRUE(std::isnan(fp_only.rvd));
  EXPECT_THROW(eval::overlap(z, Tensor::zeros({4}, DType::I32), 1), Error);
}

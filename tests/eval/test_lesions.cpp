// Lesion detection on hand-made masks: touching lesions are one (26-connectivity), a lesion split in
// two by the prediction is found by neither half, IoU > 0.5 is strict.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/components.h"
#include "eval/lesions.h"
#include "tensor/philox.h"
#include "golden_masks.h"

using namespace gb;
using namespace gb::eval;
using gbtest::fill_box;
using gbtest::zeros3;

TEST(Lesions, ExactMatchAndMissedLesion) {
  Tensor t = zeros3(10, 20, 20), p = zeros3(10, 20, 20);
  fill_box(t, 1, 4, 1, 4, 1, 4);      // lesion 1, found exactly
  fill_box(t, 6, 9, 12, 16, 12, 16);  // lesion 2, missed
  fill_box(p, 1, 4, 1, 4, 1, 4);
  fill_box(p, 6, 8, 1, 3, 14, 16);    // a false positive elsewhere
  LesionScore s = detect_lesions(p, t);
  EXPECT_EQ(s.truth, 2);
  EXPECT_EQ(s.pred, 2);
  EXPECT_EQ(s.found, 1);
  EXPECT_DOUBLE_EQ(s.recall(), 0.5);
  EXPECT_DOUBLE_EQ(s.precision(), 0.5);
  EXPECT_DOUBLE_EQ(s.f1(), 0.5);
  ASSERT_EQ(s.lesion_dice.size(), 2u);
  EXPECT_DOUBLE_EQ(s.lesion_dice[0], 1.0);
  EXPECT_DOUBLE_EQ(s.lesion_dice[1], 0.0);
}

TEST(Lesions, TouchingLesionsAreOneComponentDiagonallyToo) {
  Tensor t = zeros3(6, 10, 10);
  fill_box(t, 1, 3, 1, 3, 1, 3);
  fill_box(t, 3, 5, 3, 5, 3, 5);  // touches the first at one corner: 26-connected
  LesionScore s = detect_lesions(t, t);
  EXPECT_EQ(s.truth, 1);
  EXPECT_EQ(s.found, 1);
  // In 2-D, a diagonal touch joins too (8-connectivity); a gap of one pixel does not.
  Tensor a = Tensor::zeros({8, 8}, DType::I32);
  fill_box(a, 0, 1, 1, 3, 1, 3);
  fill_box(a, 0, 1, 3, 5, 3, 5);
  fill_box(a, 0, 1, 0, 2, 6, 8);
  EXPECT_EQ(detect_lesions(a, a).truth, 2);
}

TEST(Lesions, ALesionSplitInTwoByThePredictionIsNotFound) {
  Tensor t = zeros3(4, 10, 20), p = zeros3(4, 10, 20);
  fill_box(t, 1, 3, 2, 6, 2, 14);  // 2 x 4 x 12 = 96 voxels
  fill_box(p, 1, 3, 2, 6, 2, 7);   // left 40
  fill_box(p, 1, 3, 2, 6, 9, 14);  // right 40, a 2-voxel gap between
  LesionScore s = detect_lesions(p, t);
  EXPECT_EQ(s.truth, 1);
  EXPECT_EQ(s.pred, 2);
  EXPECT_EQ(s.found, 0);  // each half: IoU 40/96 < 0.5
  EXPECT_DOUBLE_EQ(s.recall(), 0.0);
  EXPECT_DOUBLE_EQ(s.precision(), 0.0);
  EXPECT_DOUBLE_EQ(s.f1(), 0.0);
  // Per-lesion Dice against both halves together: 2 * 80 / (96 + 80).
  EXPECT_DOUBLE_EQ(s.lesion_dice[0], 160.0 / 176.0);
}

TEST(Lesions, IouMustExceedOneHalf) {
  Tensor t = zeros3(1, 4, 8), p = zeros3(1, 4, 8);
  fill_box(t, 0, 1, 0, 1, 0, 4);  // 4 voxels
  fill_box(p, 0, 1, 0, 1, 0, 2);  // 2 of them: IoU exactly 0.5 -> not found
  EXPECT_EQ(detect_lesions(p, t).found, 0);
  fill_box(p, 0, 1, 0, 1, 0, 3);  // 3/4 -> found
  EXPECT_EQ(detect_lesions(p, t).found, 1);
}

TEST(Lesions, NoLesionsAnywhereIsUndefinedNotPerfect) {
  Tensor e = zeros3(3, 3, 3);
  LesionScore s = detect_lesions(e, e);
  EXPECT_EQ(s.truth, 0);
  EXPECT_TRUE(std::isnan(s.recall()));
  EXPECT_TRUE(std::isnan(s.precision()));
  EXPECT_TRUE(std::isnan(s.f1()));
  EXPECT_TRUE(std::isnan(s.mean_lesion_dice()));
}

TEST(Lesions, ComponentCountsAgreeWithConnectedComponents) {
  // The lesion labelling (inside the masks' bounding box) counts what eval/components.h counts.
  gb::Generator g(5);
  for (int rep = 0; rep < 4; ++rep) {
    Tensor m = zeros3(9, 11, 13);
    int32_t* p = m.data<int32_t>();
    for (int64_t i = 0; i < m.numel(); ++i) p[i] = g.next_uniform() < 0.12;
    const int64_t want = (int64_t)connected_components(m).sizes.size();
    EXPECT_EQ(detect_lesions(m, m).truth, want);
    Tensor s = m.view_reshape({9 * 11, 13}).contiguous();  // as one 2-D image: 8-connectivity
    EXPECT_EQ(detect_lesions(s, s).truth, (int64_t)connected_components(s).sizes.size());
  }
}

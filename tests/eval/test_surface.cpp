// Surface distances on hand-made masks with known answers, and against medpy's values on
// real-shaped masks (tests/golden/eval/metrics_golden.json, scripts/make_eval_golden.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "eval/metrics.h"
#include "eval/surface.h"
#include "golden_masks.h"

using namespace gb;
using namespace gb::eval;
using gbtest::fill_box;
using gbtest::zeros3;

namespace {
SurfaceMetrics surface(const Tensor& a, const Tensor& b, std::array<double, 3> sp = {1, 1, 1}) {
  auto d = surface_distances(a, b, sp);
  return summarise_surface(d.a_to_b, d.b_to_a);
}
}  // namespace

TEST(Surface, EmptyMaskIsUndefinedNeverZero) {
  Tensor e = zeros3(5, 6, 7), a = zeros3(5, 6, 7);
  fill_box(a, 1, 3, 1, 3, 1, 3);
  for (auto [x, y] : {std::pair{e, a}, std::pair{a, e}, std::pair{e, e}}) {
    auto d = surface_distances(x, y, {1, 1, 1});
    EXPECT_FALSE(d.defined);
    SurfaceMetrics s = summarise_surface(d.a_to_b, d.b_to_a);
    EXPECT_FALSE(s.defined);
    EXPECT_TRUE(std::isnan(s.assd) && std::isnan(s.msd) && std::isnan(s.hd95));
  }
}

TEST(Surface, OneVoxelAgainstItselfAndAgainstAShiftedVoxel) {
  Tensor a = zeros3(5, 5, 5), b = zeros3(5, 5, 5);
  fill_box(a, 2, 3, 2, 3, 2, 3);
  SurfaceMetrics s = surface(a, a);
  EXPECT_TRUE(s.defined);
  EXPECT_EQ(s.border_a, 1);
  EXPECT_DOUBLE_EQ(s.assd, 0.0);
  EXPECT_DOUBLE_EQ(s.hd95, 0.0);
  fill_box(b, 4, 5, 0, 1, 2, 3);  // (4, 0, 2): 2 along z, 2 along y
  s = surface(a, b, {0.5, 1.5, 3.0});  // x, y, z mm
  EXPECT_DOUBLE_EQ(s.msd, std::sqrt(6.0 * 6.0 + 3.0 * 3.0));
  EXPECT_DOUBLE_EQ(s.assd, s.msd);
  EXPECT_DOUBLE_EQ(s.hd95, s.msd);
}

TEST(Surface, CubeShiftedByKVoxelsAlongX) {
  // A 6^3 cube and the same cube shifted by k along x: every border voxel of one is k voxels or
  // less from the other's border; the far faces are exactly k away, the Hausdorff distance is k.
  for (int k = 1; k <= 3; ++k) {
    Tensor a = zeros3(12, 12, 16), b = zeros3(12, 12, 16);
    fill_box(a, 3, 9, 3, 9, 3, 9);
    fill_box(b, 3, 9, 3, 9, 3 + k, 9 + k);
    SurfaceMetrics s = surface(a, b, {1.0, 1.0, 1.0});
    EXPECT_DOUBLE_EQ(s.msd, (double)k) << k;
    EXPECT_LE(s.hd95, (double)k);
    EXPECT_GT(s.assd, 0.0);
    EXPECT_LT(s.assd, (double)k);
    // 2 mm voxels along x: the largest distance (across the far faces, along x) doubles.
    SurfaceMetrics s2 = surface(a, b, {2.0, 1.0, 1.0});
    EXPECT_DOUBLE_EQ(s2.msd, 2.0 * k);
  }
}

TEST(Surface, AnisotropicSpacingMillimetresDifferFromVoxels) {
  // The same cube shifted by 2 voxels along z: 2 voxels = 5 mm at 2.5 mm slices, and a shift of 2
  // along x of 0.7 mm voxels is 1.4 mm: voxel distances would call both 2.
  Tensor a = zeros3(12, 12, 12), bz = zeros3(12, 12, 12), bx = zeros3(12, 12, 12);
  fill_box(a, 3, 8, 3, 8, 3, 8);
  fill_box(bz, 5, 10, 3, 8, 3, 8);
  fill_box(bx, 3, 8, 3, 8, 5, 10);
  const std::array<double, 3> sp{0.7, 0.8, 2.5};
  EXPECT_DOUBLE_EQ(surface(a, bz, sp).msd, 5.0);
  EXPECT_NEAR(surface(a, bx, sp).msd, 1.4, 1e-12);
  EXPECT_DOUBLE_EQ(surface(a, bz).msd, 2.0);
}

TEST(Surface, BorderCountsTheVolumeEdgeAsBackground) {
  // A full 4x4x4 volume: every voxel on the outside is border (medpy's erosion with border 0).
  Tensor a = Tensor::ones({4, 4, 4}, DType::I32);
  auto m = class_mask_u8(a, {1});
  auto b = border_mask(m.data(), {4, 4, 4}, 3);
  int64_t n = 0;
  for (auto v : b) n += v;
  EXPECT_EQ(n, 64 - 8);
  // As a 2-D image a 4x4 square has 12 border pixels.
  auto b2 = border_mask(m.data(), {1, 4, 4}, 2);
  n = 0;
  for (auto v : b2) n += v;
  EXPECT_EQ(n, 12);
}

TEST(Surface, MatchesMedpyOnRealShapedMasks) {
  std::ifstream f(std::string(GB_SOURCE_DIR) + "/tests/golden/eval/metrics_golden.json");
  ASSERT_TRUE(f.good()) << "golden file missing";
  nlohmann::json g = nlohmann::json::parse(f);
  ASSERT_GE(g["surface"].size(), 4u);
  for (const auto& c : g["surface"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    Tensor a = gbtest::golden_mask(c["dims"], c["a"]), b = gbtest::golden_mask(c["dims"], c["b"]);
    const auto& e = c["expect"];
    if (c["ndim"] == 2) a = a.view_reshape({a.size(1), a.size(2)}), b = b.view_reshape({b.size(1), b.size(2)});
    const std::array<double, 3> sp{c["spacing_xyz"][0], c["spacing_xyz"][1], c["spacing_xyz"][2]};
    // Prediction = a, truth = b (medpy's result, reference).
    ClassScore s = score_case("golden", a, b, sp, {{"fg", {1}}})[0];
    EXPECT_EQ(s.tp + s.fp, e["voxels_a"].get<int64_t>());
    EXPECT_EQ(s.tp + s.fn, e["voxels_b"].get<int64_t>());
    EXPECT_NEAR(s.dice, e["dice"].get<double>(), 1e-12);
    EXPECT_NEAR(s.iou, e["iou"].get<double>(), 1e-12);
    EXPECT_NEAR(s.sensitivity, e["sensitivity"].get<double>(), 1e-12);
    EXPECT_NEAR(s.specificity, e["specificity"].get<double>(), 1e-12);
    EXPECT_NEAR(s.precision, e["precision"].get<double>(), 1e-12);
    EXPECT_NEAR(s.rvd, e["rvd"].get<double>(), 1e-12);
    EXPECT_EQ(s.surface.border_a, e["border_a"].get<int64_t>());
    EXPECT_EQ(s.surface.border_b, e["border_b"].get<int64_t>());
    EXPECT_NEAR(s.surface.msd, e["msd"].get<double>(), 1e-9);
    EXPECT_NEAR(s.surface.hd95, e["hd95"].get<double>(), 1e-9);
    EXPECT_NEAR(s.surface.assd, e["assd"].get<double>(), 1e-9);
    EXPECT_EQ(s.lesions.pred, e["components_a"].get<int64_t>());
    EXPECT_EQ(s.lesions.truth, e["components_b"].get<int64_t>());
  }
}

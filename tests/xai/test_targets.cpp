// Targets: the region kinds, in 2-D and 3-D, and the per-sample score T.
#include <gtest/gtest.h>

#include "xai/targets.h"
#include "xai_test_util.h"

using namespace gb;

namespace {
int64_t count(const Tensor& m) {
  int64_t n = 0;
  for (double v : m.to_vector()) n += v != 0;
  return n;
}
}  // namespace

TEST(Targets, RegionKinds2D) {
  // Two tumour blobs (class 2): 2x2 at (1,1) and 3x3 at (5,5); liver (1) elsewhere on row 0.
  std::vector<int32_t> l(64, 0);
  for (int y = 1; y < 3; ++y)
    for (int x = 1; x < 3; ++x) l[y * 8 + x] = 2;
  for (int y = 5; y < 8; ++y)
    for (int x = 5; x < 8; ++x) l[y * 8 + x] = 2;
  for (int x = 0; x < 8; ++x) l[x] = 1;
  Tensor pred = Tensor::from_vector(l, {8, 8});
  xai::TargetSpec s;
  s.cls = 2;
  EXPECT_EQ(count(xai::region_mask(s, {8, 8}, pred, Tensor())), 13);
  s.region = xai::RegionKind::Component;  // largest
  Tensor big = xai::region_mask(s, {8, 8}, pred, Tensor());
  EXPECT_EQ(count(big), 9);
  EXPECT_EQ(big.at({6, 6}), 1.0);
  s.component = 1;  // first in scan order
  EXPECT_EQ(count(xai::region_mask(s, {8, 8}, pred, Tensor())), 4);
  s.component = 3;
  EXPECT_THROW(xai::region_mask(s, {8, 8}, pred, Tensor()), Error);
  s.region = xai::RegionKind::Truth;
  EXPECT_THROW(xai::region_mask(s, {8, 8}, pred, Tensor()), Error);  // no truth given
  EXPECT_EQ(count(xai::region_mask(s, {8, 8}, Tensor(), pred)), 13);
  s.region = xai::RegionKind::Box;
  s.box = {0, 2, 3, 6};
  EXPECT_EQ(count(xai::region_mask(s, {8, 8}, Tensor(), Tensor())), 12);
  s.box = {0, 2, 9, 6};
  EXPECT_THROW(xai::region_mask(s, {8, 8}, Tensor(), Tensor()), Error);
  s.region = xai::RegionKind::Pixel;
  s.pixel = {7, 3};
  Tensor px = xai::region_mask(s, {8, 8}, Tensor(), Tensor());
  EXPECT_EQ(count(px), 1);
  EXPECT_EQ(px.at({7, 3}), 1.0);
  s.region = xai::RegionKind::Prediction;
  s.cls = 0;
  s.pixel.clear();
  std::vector<int32_t> ones(64, 1);
  EXPECT_THROW(xai::region_mask(s, {8, 8}, Tensor::from_vector(ones, {8, 8}), Tensor()), Error);  // empty
}

TEST(Targets, ThreeDimensionalBoxAndComponent) {
  std::vector<int32_t> l(4 * 4 * 4, 0);
  l[0] = 2;
  l[1 * 16 + 1 * 4 + 1] = 2;  // diagonal neighbour: 26-connected to voxel 0
  l[3 * 16 + 3 * 4 + 3] = 2;
  xai::TargetSpec s;
  s.cls = 2;
  s.region = xai::RegionKind::Component;
  EXPECT_EQ(count(xai::region_mask(s, {4, 4, 4}, Tensor::from_vector(l, {4, 4, 4}), Tensor())), 2);
  s.region = xai::RegionKind::Box;
  s.box = {0, 0, 0, 2, 2, 3};
  EXPECT_EQ(count(xai::region_mask(s, {4, 4, 4}, Tensor(), Tensor())), 12);
}

// T = sum over the region of the class logits, per sample; the predicted region comes from the model.
TEST(Targets, ScoresAreMaskedLogitSums) {
  auto m = gbx::micro();
  Tensor x = gbx::uniform_input({1, 1, 32, 32}, 2);
  xai::TargetSpec s;
  s.cls = 1;
  s.region = xai::RegionKind::Prediction;
  Tensor logits = m->forward(x);
  Tensor pred = argmax(logits, 1).view_reshape({32, 32});
  bool any = false;
  for (int32_t v : pred.to_vector_as<int32_t>()) any = any || v == 1;
  if (!any) s.cls = pred.to_vector_as<int32_t>()[0];
  xai::Target t = xai::resolve_target(*m, x, s);
  const auto lv = logits.to_vector(), mv = t.mask.to_vector(), pv = pred.to(DType::F64).to_vector();
  double want = 0;
  for (int64_t p = 0; p < 1024; ++p) {
    EXPECT_EQ(mv[p], pv[p] == (double)s.cls ? 1.0 : 0.0);
    want += mv[p] * lv[s.cls * 1024 + p];
  }
  Tensor T = xai::target_scores(concat({logits, logits}, 0), t);
  ASSERT_EQ(T.numel(), 2);
  EXPECT_NEAR(T.to_vector()[0], want, 1e-12);
  EXPECT_NEAR(T.to_vector()[1], want, 1e-12);
}

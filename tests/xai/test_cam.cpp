// The Grad-CAM family against its formulas evaluated with finite-difference gradients: dT/dA is
// measured by perturbing the hooked layer's output in place and re-running the rest of the network
// (central differences, f64), independently of the engine's backward pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "autograd/node.h"
#include "xai/cam.h"
#include "xai/layers.h"
#include "xai_test_util.h"

using namespace gb;

namespace {

xai::Target box_target(int64_t cls) {
  xai::TargetSpec spec;
  spec.cls = cls;
  spec.region = xai::RegionKind::Box;
  spec.box = {8, 4, 20, 24};
  xai::Target t;
  t.cls = cls;
  t.mask = xai::region_mask(spec, {32, 32}, Tensor(), Tensor());
  return t;
}

// A [C, *grid] of `layer` for x, and dT/dA by central differences on each element.
void fd_activation_gradient(models::SegmentationModel& m, const Tensor& x, const std::string& layer,
                            const xai::Target& t, std::vector<double>& A, std::vector<double>& G, Shape& fm_shape) {
  NoGradGuard ng;
  int64_t poke = -1;
  double delta = 0;
  Tensor act;
  int h = m.register_forward_hook(layer, [&](const Tensor& y) {
    Tensor yy = y;
    if (poke >= 0) yy.data<double>()[poke] += delta;  // in place: the rest of the network sees it
    act = y.clone();
  });
  auto T = [&] { return xai::target_scores(m.forward(x), t).item(); };
  T();
  const int64_t n = act.numel();
  Tensor fm = xai::as_feature_map(act, m, layer);
  fm_shape = fm.shape();
  std::vector<double> g_raw(n);
  const double eps = 1e-5;
  for (int64_t i = 0; i < n; ++i) {
    poke = i;
    delta = eps;
    const double tp = T();
    delta = -eps;
    const double tm = T();
    g_raw[i] = (tp - tm) / (2 * eps);
  }
  poke = -1;
  m.remove_hook(h);
  A = xai::as_feature_map(act, m, layer).to_vector();
  G = xai::as_feature_map(Tensor::from_vector(g_raw, act.shape()), m, layer).to_vector();
}

// raw map of `method` from A, G [C, P] per the formulas in xai/cam.h.
std::vector<double> formula(xai::CamMethod method, const std::vector<double>& A, const std::vector<double>& G, int64_t C) {
  const int64_t P = (int64_t)A.size() / C;
  std::vector<double> raw(P, 0.0);
  for (int64_t k = 0; k < C; ++k) {
    double w = 0, sa = 0;
    for (int64_t p = 0; p < P; ++p) sa += A[k * P + p];
    for (int64_t p = 0; p < P; ++p) {
      const double g = G[k * P + p];
      if (method == xai::CamMethod::GradCam) w += g / P;
      if (method == xai::CamMethod::GradCamPlusPlus && g != 0)
        w += std::max(g, 0.0) * g * g / (2 * g * g + sa * g * g * g + 1e-7);
    }
    for (int64_t p = 0; p < P; ++p) {
      const double a = A[k * P + p], g = G[k * P + p];
      switch (method) {
        case xai::CamMethod::GradCam:
        case xai::CamMethod::GradCamPlusPlus: raw[p] += w * a; break;
        case xai::CamMethod::HiResCam: raw[p] += g * a; break;
        case xai::CamMethod::LayerCam: raw[p] += std::max(g, 0.0) * a; break;
      }
    }
  }
  return raw;
}

std::vector<double> abs_scale(const std::vector<double>& A, const std::vector<double>& G, int64_t C) {
  const int64_t P = (int64_t)A.size() / C;
  std::vector<double> s(P, 0.0);
  for (int64_t k = 0; k < C; ++k) {
    double mg = 0;
    for (int64_t p = 0; p < P; ++p) mg += std::fabs(G[k * P + p]) / P;
    for (int64_t p = 0; p < P; ++p) s[p] += (std::fabs(G[k * P + p]) + mg) * std::fabs(A[k * P + p]);
  }
  return s;
}

}  // namespace

// Conv layers (ResNet stage, decoder) and a transformer block (tokens on the 2x2 grid), every method.
TEST(Cam, EveryMethodEqualsItsFormulaWithFiniteDifferenceGradients) {
  auto m = gbx::micro();
  Tensor x = gbx::uniform_input({1, 1, 32, 32}, 1);
  const xai::Target t = box_target(2);
  for (std::string layer : {"decoder.conv_more", "transformer.encoder.layer.0", "decoder.blocks.0"}) {
    std::vector<double> A, G;
    Shape fs;
    fd_activation_gradient(*m, x, layer, t, A, G, fs);
    const int64_t C = fs[1];
    double gmax = 0;
    for (double g : G) gmax = std::max(gmax, std::fabs(g));
    ASSERT_GT(gmax, 1e-9) << layer << ": the target must depend on this layer";
    for (auto method : {xai::CamMethod::GradCam, xai::CamMethod::HiResCam, xai::CamMethod::GradCamPlusPlus,
                        xai::CamMethod::LayerCam}) {
      auto s = xai::cam(*m, x, t, method, {layer}).at(0);
      const auto want = formula(method, A, G, C);
      const auto got = s.layers[0].raw.to_vector();
      ASSERT_EQ(got.size(), want.size()) << layer;
      // Tolerance per pixel: 1e-3 of sum_k (|G_k(p)| + mean|G_k|) |A_k(p)|, the size of the terms the
      // map sums (plus 1e-3 relative: Grad-CAM++ divides by powers of G). Central differences carry ~1e-10 absolute error per gradient here (deep layers have
      // |G| ~ 1e-7 and their maps cancel to ~1e-12), ~1e-4 of that scale; a wrong formula is off by O(1).
      const auto scale = abs_scale(A, G, C);
      for (size_t p = 0; p < want.size(); ++p)
        EXPECT_NEAR(got[p], want[p], 1e-3 * (scale[p] + std::fabs(want[p]))) << layer << " " << xai::cam_method_name(method) << " p=" << p;
      const auto relu = s.layers[0].relu.to_vector();
      for (size_t p = 0; p < got.size(); ++p) EXPECT_EQ(relu[p], std::max(0.0, got[p]));
      EXPECT_EQ(s.layers[0].upsampled.shape(), (Shape{32, 32}));
    }
  }
}

// Any batch size: each sample of a batch gets the maps it gets alone (its own region too).
TEST(Cam, BatchOfTwoEqualsEachAlone) {
  auto m = gbx::micro();
  Tensor x0 = gbx::uniform_input({1, 1, 32, 32}, 3), x1 = gbx::uniform_input({1, 1, 32, 32}, 4);
  xai::Target t0 = box_target(2), t1 = box_target(2);
  t1.mask = xai::region_mask({2, xai::RegionKind::Pixel, 0, false, {}, {5, 9}}, {32, 32}, Tensor(), Tensor());
  xai::Target tb;
  tb.cls = 2;
  tb.mask = concat({t0.mask.view_reshape({1, 32, 32}), t1.mask.view_reshape({1, 32, 32})}, 0);
  auto both = xai::cam(*m, concat({x0, x1}, 0), tb, xai::CamMethod::HiResCam, {"decoder.conv_more", "decoder.blocks.1"});
  ASSERT_EQ(both.size(), 2u);
  auto a0 = xai::cam(*m, x0, t0, xai::CamMethod::HiResCam, {"decoder.conv_more", "decoder.blocks.1"}).at(0);
  auto a1 = xai::cam(*m, x1, t1, xai::CamMethod::HiResCam, {"decoder.conv_more", "decoder.blocks.1"}).at(0);
  EXPECT_NEAR(both[0].target, a0.target, 1e-12);
  EXPECT_NEAR(both[1].target, a1.target, 1e-12);
  for (size_t l = 0; l < 2; ++l) {
    auto r0 = both[0].layers[l].raw.to_vector(), e0 = a0.layers[l].raw.to_vector();
    auto r1 = both[1].layers[l].raw.to_vector(), e1 = a1.layers[l].raw.to_vector();
    for (size_t i = 0; i < r0.size(); ++i) EXPECT_NEAR(r0[i], e0[i], 1e-12);
    for (size_t i = 0; i < r1.size(); ++i) EXPECT_NEAR(r1[i], e1[i], 1e-12);
  }
  // Two layers: combined = normalised mean of the normalised maps.
  auto c = both[0].combined.to_vector(), n0 = both[0].layers[0].normalised.to_vector(),
       n1 = both[0].layers[1].normalised.to_vector();
  std::vector<double> mean(c.size());
  for (size_t i = 0; i < c.size(); ++i) mean[i] = 0.5 * (n0[i] + n1[i]);
  const auto norm = xai::normalise01(Tensor::from_vector(mean, {32, 32})).to_vector();
  for (size_t i = 0; i < c.size(); ++i) EXPECT_NEAR(c[i], norm[i], 1e-15);
}

// The method puts the model in eval mode itself and gives it back as it was.
TEST(Cam, RunsInEvalModeAndRestoresTheMode) {
  auto m = gbx::micro();
  Tensor x = gbx::uniform_input({1, 1, 32, 32}, 5);
  auto want = xai::cam(*m, x, box_target(1), xai::CamMethod::GradCam, {"decoder.conv_more"}).at(0);
  m->train();
  auto got = xai::cam(*m, x, box_target(1), xai::CamMethod::GradCam, {"decoder.conv_more"}).at(0);
  EXPECT_TRUE(m->is_training());
  EXPECT_EQ(got.layers[0].raw.to_vector(), want.layers[0].raw.to_vector());
  EXPECT_EQ(got.target, want.target);
}

TEST(Cam, ListsHookableLayersWithShapesAndChoosesOneAutomatically) {
  auto m = gbx::micro();
  auto layers = xai::list_layers(*m);
  auto find = [&](const std::string& n) {
    for (auto& l : layers)
      if (l.name == n) return l;
    return xai::LayerInfo{};
  };
  EXPECT_EQ(find("transformer.encoder.layer.0").output, (Shape{1, 4, 16}));
  EXPECT_TRUE(find("transformer.encoder.layer.0").feature_map);
  EXPECT_EQ(find("decoder.conv_more").output, (Shape{1, 16, 2, 2}));
  EXPECT_EQ(find("decoder.blocks.1").output, (Shape{1, 8, 8, 8}));
  EXPECT_EQ(xai::auto_layer(*m), "decoder.blocks.1");
  auto s = xai::cam(*m, gbx::uniform_input({1, 1, 32, 32}, 6), box_target(2), xai::CamMethod::GradCam).at(0);
  EXPECT_EQ(s.layers.at(0).layer, "decoder.blocks.1");
  EXPECT_THROW(xai::cam(*m, gbx::uniform_input({1, 1, 32, 32}, 6), box_target(2), xai::CamMethod::GradCam, {"nope"}),
               Error);
  // A ResNet stage and the patch embedding, in one pass with a decoder block.
  auto three = xai::cam(*m, gbx::uniform_input({1, 1, 32, 32}, 6), box_target(2), xai::CamMethod::GradCam,
                        {"transformer.embeddings.hybrid_model.body.block1", "transformer.embeddings.patch_embeddings",
                         "decoder.blocks.0"}).at(0);
  ASSERT_EQ(three.layers.size(), 3u);
  EXPECT_EQ(three.layers[0].raw.shape(), (Shape{7, 7}));  // 32 -> 16 -> max-pool 3/2 pad 0 -> 7 (padded to 8 later)
  EXPECT_EQ(three.layers[1].raw.shape(), (Shape{2, 2}));
  EXPECT_EQ(three.layers[2].raw.shape(), (Shape{4, 4}));
  for (auto& l : three.layers) EXPECT_EQ(l.weights.numel(), find(l.layer).output[1]);
}

// 3D U-Net: the same code on [B, C, D, H, W] with trilinear upsampling.
TEST(Cam, ThreeDimensionalUNetLevel) {
  auto m = models::make_model(models::named_config("unet3d-tiny", 16, 3, 1), 3);
  m->to(DType::F64);
  Tensor x = gbx::uniform_input({1, 1, 16, 16, 16}, 8);
  xai::TargetSpec spec;
  spec.cls = 1;
  spec.region = xai::RegionKind::Box;
  spec.box = {4, 4, 4, 10, 12, 12};
  xai::Target t{1, xai::region_mask(spec, {16, 16, 16}, Tensor(), Tensor())};
  auto s = xai::cam(*m, x, t, xai::CamMethod::LayerCam, {"enc1", "dec0"}).at(0);
  EXPECT_EQ(s.layers[0].raw.shape(), (Shape{8, 8, 8}));
  EXPECT_EQ(s.layers[0].upsampled.shape(), (Shape{16, 16, 16}));
  EXPECT_EQ(s.combined.shape(), (Shape{16, 16, 16}));
  double hi = 0;
  for (double v : s.combined.to_vector()) hi = std::max(hi, v);
  EXPECT_EQ(hi, 1.0);
}

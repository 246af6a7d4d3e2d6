// The explanation panel and the segmentation preview (draw/panel.h) on a hand-made 6 x 8 slice.
#include <gtest/gtest.h>

#include "draw/panel.h"
#include "../datasets/datasets_test_util.h"

using namespace gb;
using namespace gb::draw;
using gbtest::error_of;

namespace {

constexpr int64_t H = 6, W = 8;

// A label map with value v on the rectangle [y0, y1] x [x0, x1] (inclusive), 0 elsewhere.
std::vector<int32_t> rect(int y0, int y1, int x0, int x1, int32_t v, std::vector<int32_t> base = {}) {
  if (base.empty()) base.assign((size_t)(H * W), 0);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) base[(size_t)(y * W + x)] = v;
  return base;
}

Rgb pixel(const Tensor& rgb, int64_t y, int64_t x) {
  return {(uint8_t)rgb.at({0, y, x}), (uint8_t)rgb.at({1, y, x}), (uint8_t)rgb.at({2, y, x})};
}

// Truth: liver on rows 1..4, columns 1..4, with a one-pixel tumour at (2, 2).
// Prediction: liver on rows 1..4, columns 3..6 (overlaps the truth on columns 3..4).
// Map: one hot pixel at (4, 6). Region: the 2 x 2 block rows 3..4, columns 5..6.
PanelInput hand_made() {
  PanelInput in;
  in.ct01 = Tensor::full({H, W}, 0.5);
  in.truth = Tensor::from_vector(rect(2, 2, 2, 2, 2, rect(1, 4, 1, 4, 1)), {H, W});
  in.prediction = Tensor::from_vector(rect(1, 4, 3, 6, 1), {H, W});
  in.map01 = Tensor::zeros({H, W});
  in.map01.data<float>()[4 * W + 6] = 1.f;
  std::vector<float> region((size_t)(H * W), 0.f);
  for (int y = 3; y <= 4; ++y)
    for (int x = 5; x <= 6; ++x) region[(size_t)(y * W + x)] = 2.f;  // any non-zero value is inside
  in.region = Tensor::from_vector(region, {H, W});
  return in;
}

const Rgb kGrey{128, 128, 128};  // 0.5 * 255 rounded
const Rgb kTruthLiver{0, 220, 0}, kTruthTumour{255, 30, 30}, kPredLiver{80, 160, 255}, kRegion{255, 230, 0};

}  // namespace

TEST(Panel, ShapeAndOptionalInputs) {
  PanelInput in = hand_made();
  Tensor p = explanation_panel(in);
  EXPECT_EQ(p.dtype(), DType::U8);
  EXPECT_EQ(p.shape(), (Shape{3, H, 3 * W}));
  // Without truth, prediction and region, panels 1 and 2 are the plain CT.
  in.truth = in.prediction = in.region = Tensor();
  Tensor q = explanation_panel(in);
  ASSERT_EQ(q.shape(), (Shape{3, H, 3 * W}));
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < 2 * W; ++x) ASSERT_EQ(pixel(q, y, x), kGrey) << y << "," << x;
}

TEST(Panel, OutlinesLandOnTheRightPixels) {
  PanelInput in = hand_made();
  Tensor p = explanation_panel(in);
  // Panel 1: the CT alone.
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) ASSERT_EQ(pixel(p, y, x), kGrey) << y << "," << x;
  // Panel 2 (columns W..2W): truth outlines, then prediction outlines on top.
  EXPECT_EQ(pixel(p, 1, W + 1), kTruthLiver);   // truth-only border
  EXPECT_EQ(pixel(p, 2, W + 2), kTruthTumour);  // the tumour pixel is its own outline
  EXPECT_EQ(pixel(p, 1, W + 3), kPredLiver);    // on both outlines: the prediction wins
  EXPECT_EQ(pixel(p, 3, W + 3), kPredLiver);    // truth interior, prediction border
  EXPECT_EQ(pixel(p, 2, W + 6), kPredLiver);    // prediction-only border
  EXPECT_EQ(pixel(p, 3, W + 5), kGrey);         // prediction interior, no truth
  EXPECT_EQ(pixel(p, 0, W + 0), kGrey);         // background
  // Panel 3 (columns 2W..3W): the heat map over the CT, the region outlined.
  Tensor heat = overlay_heatmap(in.ct01, in.map01, Colormap::Jet, 0.45f);
  for (int y = 3; y <= 4; ++y)
    for (int x = 5; x <= 6; ++x) EXPECT_EQ(pixel(p, y, 2 * W + x), kRegion) << y << "," << x;
  EXPECT_EQ(pixel(p, 0, 2 * W + 0), (Rgb{70, 70, 128}));  // 0.55 * 127.5 + 0.45 * jet(0) = (0, 0, 128)
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      if (y >= 3 && y <= 4 && x >= 5 && x <= 6) continue;
      ASSERT_EQ(pixel(p, y, 2 * W + x), pixel(heat, y, x)) << y << "," << x;
    }
  // The region colour is the caller's.
  in.region_colour = Rgb{255, 40, 40};
  EXPECT_EQ(pixel(explanation_panel(in), 3, 2 * W + 5), (Rgb{255, 40, 40}));
}

TEST(Panel, BadShapesAreErrors) {
  auto err = [](PanelInput in) { return error_of([&] { explanation_panel(in); }); };
  PanelInput in = hand_made();
  in.truth = Tensor::zeros({H - 1, W}, DType::I32);
  std::string e = err(in);
  EXPECT_EQ(e.rfind("explanation_panel:", 0), 0u) << e;
  EXPECT_NE(e.find("truth"), std::string::npos) << e;
  in = hand_made();
  in.prediction = in.prediction.to(DType::F32);
  EXPECT_NE(err(in).find("i32"), std::string::npos);
  in = hand_made();
  in.map01 = Tensor();
  EXPECT_NE(err(in).find("saliency map is undefined"), std::string::npos);
  in = hand_made();
  in.map01 = Tensor::zeros({H, W + 1});
  EXPECT_NE(err(in).find("saliency map"), std::string::npos);
  in = hand_made();
  in.region = Tensor::zeros({W, H});
  EXPECT_NE(err(in).find("region"), std::string::npos);
  in = hand_made();
  in.ct01 = Tensor::full({1, H, W}, 0.5);
  EXPECT_NE(err(in).find("ct slice"), std::string::npos);
  in.ct01 = Tensor();
  EXPECT_NE(err(in).find("ct slice"), std::string::npos);
}

TEST(SegmentationOverlay, OutlinesOnTheCt) {
  PanelInput in = hand_made();
  Tensor o = segmentation_overlay(in.ct01, in.truth);
  ASSERT_EQ(o.shape(), (Shape{3, H, W}));
  EXPECT_EQ(pixel(o, 1, 1), kTruthLiver);
  EXPECT_EQ(pixel(o, 2, 2), kTruthTumour);
  EXPECT_EQ(pixel(o, 3, 3), kGrey);  // liver interior
  EXPECT_EQ(pixel(o, 5, 7), kGrey);  // background
  Tensor c = segmentation_overlay(in.ct01, in.truth, {Rgb{0, 0, 0}, Rgb{1, 2, 3}});
  EXPECT_EQ(pixel(c, 1, 1), (Rgb{1, 2, 3}));
  std::string e = error_of([&] { segmentation_overlay(in.ct01, Tensor::zeros({H, W - 1}, DType::I32)); });
  EXPECT_EQ(e.rfind("segmentation_overlay:", 0), 0u) << e;
  EXPECT_NE(error_of([&] { segmentation_overlay(in.ct01, Tensor()); }).find("undefined"), std::string::npos);
}

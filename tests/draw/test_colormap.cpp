// Colour maps, the heat-map overlay and label outlines (draw/colormap.h).
#include <gtest/gtest.h>

#include "draw/colormap.h"

using namespace gb;
using namespace gb::draw;

TEST(Colormap, EndpointsAndOrder) {
  EXPECT_EQ(colormap_rgb(Colormap::Grey, 0.f), (Rgb{0, 0, 0}));
  EXPECT_EQ(colormap_rgb(Colormap::Grey, 1.f), (Rgb{255, 255, 255}));
  EXPECT_EQ(colormap_rgb(Colormap::Jet, 0.f), (Rgb{0, 0, 128}));     // dark blue
  EXPECT_EQ(colormap_rgb(Colormap::Jet, 0.5f), (Rgb{128, 255, 128}));
  EXPECT_EQ(colormap_rgb(Colormap::Jet, 1.f), (Rgb{128, 0, 0}));     // dark red
  EXPECT_EQ(colormap_rgb(Colormap::Inferno, 0.f), (Rgb{0, 0, 4}));
  EXPECT_EQ(colormap_rgb(Colormap::Inferno, 1.f), (Rgb{252, 255, 164}));
  EXPECT_EQ(colormap_rgb(Colormap::Inferno, 2.f), colormap_rgb(Colormap::Inferno, 1.f));  // clamped
  // Inferno gets brighter monotonically (sum of channels), which is what makes it readable.
  int prev = -1;
  for (int i = 0; i <= 64; ++i) {
    Rgb c = colormap_rgb(Colormap::Inferno, (float)i / 64.f);
    int s = c[0] + c[1] + c[2];
    EXPECT_GE(s, prev) << i;
    prev = s;
  }
}

TEST(Colormap, OverlayAndContours) {
  Tensor ct = Tensor::full({4, 5}, 0.5);
  Tensor map = Tensor::zeros({4, 5});
  map.data<float>()[7] = 1.f;  // one hot pixel (y 1, x 2)
  Tensor o = overlay_heatmap(ct, map, Colormap::Jet, 0.5f, 0.1f);
  ASSERT_EQ(o.shape(), (Shape{3, 4, 5}));
  // Below the threshold: plain grey 128 (0.5 * 255 rounded).
  EXPECT_EQ(o.at({0, 0, 0}), 128);
  EXPECT_EQ(o.at({2, 0, 0}), 128);
  // The hot pixel: half grey, half jet(1) = (128, 0, 0).
  EXPECT_EQ(o.at({0, 1, 2}), 128);  // 0.5*127.5 + 0.5*128 = 127.75 -> 128
  EXPECT_EQ(o.at({1, 1, 2}), 64);   // 0.5*127.5 + 0 = 63.75 -> 64
  EXPECT_THROW(overlay_heatmap(ct, Tensor::zeros({4, 4})), Error);

  Tensor rgb = grey_to_rgb(Tensor::zeros({6, 6}));
  std::vector<int32_t> lv(36, 0);
  for (int y = 1; y <= 4; ++y)
    for (int x = 1; x <= 4; ++x) lv[(size_t)(y * 6 + x)] = 1;
  lv[2 * 6 + 2] = 2;
  Tensor lab = Tensor::from_vector(lv, {6, 6});
  draw_label_contours(rgb, lab);
  Rgb liver = label_colour(1), tumour = label_colour(2);
  EXPECT_EQ(rgb.at({1, 1, 1}), liver[1]);      // liver border pixel
  EXPECT_EQ(rgb.at({0, 2, 2}), tumour[0]);     // single tumour pixel is its own outline
  EXPECT_EQ(rgb.at({1, 3, 3}), 0);             // liver interior (all 4-neighbours liver) untouched
  EXPECT_EQ(rgb.at({1, 0, 0}), 0);             // background untouched
}

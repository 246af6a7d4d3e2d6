#include "draw/colormap.h"

#include <algorithm>
#include <cmath>

namespace gb::draw {
namespace {

// 9 anchors of matplotlib's inferno at t = 0, 1/8, ..., 1.
constexpr uint8_t kInferno[9][3] = {{0, 0, 4},     {27, 12, 65},  {74, 12, 107}, {120, 28, 109}, {165, 44, 96},
                                    {207, 68, 70}, {237, 105, 37}, {251, 155, 6}, {252, 255, 164}};

uint8_t to_u8(float x) { return (uint8_t)std::lround(std::clamp(x, 0.f, 1.f) * 255.f); }

Tensor as_hw(const Tensor& t, const char* op, const char* what) {
  GB_CHECK(t.defined(), op, ": ", what, " is undefined");
  GB_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64, op, ": ", what, " must be f32 or f64, got ", t.desc());
  if (t.dim() == 3 && t.size(0) == 1) return t.view_slice(0, 0, 1).view_reshape({t.size(1), t.size(2)});
  GB_CHECK(t.dim() == 2, op, ": ", what, " must be [H,W], got ", t.desc());
  return t;
}

}  // namespace

Rgb colormap_rgb(Colormap cm, float t) {
  if (std::isnan(t)) return {0, 0, 0};
  t = std::clamp(t, 0.f, 1.f);
  switch (cm) {
    case Colormap::Grey:
      return {to_u8(t), to_u8(t), to_u8(t)};
    case Colormap::Jet: {
      // Each channel is a trapezoid: r peaks around 3/4, g around 1/2, b around 1/4.
      float r = 1.5f - std::fabs(4.f * t - 3.f);
      float g = 1.5f - std::fabs(4.f * t - 2.f);
      float b = 1.5f - std::fabs(4.f * t - 1.f);
      return {to_u8(r), to_u8(g), to_u8(b)};
    }
    case Colormap::Inferno: {
      float x = t * 8.f;
      int i = std::min(7, (int)x);
      float f = x - (float)i;
      Rgb o;
      for (int c = 0; c < 3; ++c)
        o[c] = (uint8_t)std::lround((1.f - f) * kInferno[i][c] + f * kInferno[i + 1][c]);
      return o;
    }
  }
  return {0, 0, 0};
}

Tensor apply_colormap(const Tensor& map, Colormap cm, float lo, float hi) {
  GB_CHECK(lo < hi, "apply_colormap: need lo < hi, got [", lo, ", ", hi, "]");
  Tensor m = as_hw(map, "apply_colormap", "map");
  const int64_t h = m.size(0), w = m.size(1);
  std::vector<double> v = m.to_vector();
  Tensor out = Tensor::empty({3, h, w}, DType::U8);
  uint8_t* o = out.data<uint8_t>();
  for (int64_t p = 0; p < h * w; ++p) {
    Rgb c = colormap_rgb(cm, (float)((v[(size_t)p] - lo) / (hi - lo)));
    for (int k = 0; k < 3; ++k) o[k * h * w + p] = c[k];
  }
  return out;
}

Tensor grey_to_rgb(const Tensor& grey01) { return apply_colormap(grey01, Colormap::Grey, 0.f, 1.f); }

Tensor heat_layer(const Tensor& map01, Colormap cm) {
  Tensor m = as_hw(map01, "heat_layer", "map");
  const int64_t h = m.size(0), w = m.size(1);
  std::vector<double> mv = m.to_vector();
  Tensor out = Tensor::empty({4, h, w}, DType::U8);
  uint8_t* o = out.data<uint8_t>();
  for (int64_t p = 0; p < h * w; ++p) {
    const double v = mv[(size_t)p];
    const float t = std::isnan(v) ? 0.f : std::clamp((float)v, 0.f, 1.f);
    const Rgb c = colormap_rgb(cm, t);
    for (int k = 0; k < 3; ++k) o[k * h * w + p] = c[(size_t)k];
    o[3 * h * w + p] = (uint8_t)std::lround(t * 255.f);
  }
  return out;
}

Tensor overlay_heatmap(const Tensor& ct01, const Tensor& map01, Colormap cm, float alpha, float threshold) {
  Tensor g = as_hw(ct01, "overlay_heatmap", "ct slice");
  Tensor m = as_hw(map01, "overlay_heatmap", "map");
  GB_CHECK(g.shape() == m.shape(), "overlay_heatmap: ct slice ", g.desc(), " and map ", m.desc(), " differ in size");
  GB_CHECK(alpha >= 0.f && alpha <= 1.f, "overlay_heatmap: alpha must be in [0,1], got ", alpha);
  const int64_t h = g.size(0), w = g.size(1);
  std::vector<double> gv = g.to_vector(), mv = m.to_vector();
  Tensor out = Tensor::empty({3, h, w}, DType::U8);
  uint8_t* o = out.data<uint8_t>();
  for (int64_t p = 0; p < h * w; ++p) {
    float grey = std::clamp((float)gv[(size_t)p], 0.f, 1.f) * 255.f;
    float mval = (float)mv[(size_t)p];
    float a = (mval >= threshold && !std::isnan(mval)) ? alpha : 0.f;
    Rgb c = colormap_rgb(cm, mval);
    for (int k = 0; k < 3; ++k)
      o[k * h * w + p] = (uint8_t)std::lround(std::clamp((1.f - a) * grey + a * (float)c[k], 0.f, 255.f));
  }
  return out;
}

Rgb label_colour(int label) {
  static const Rgb kPalette[] = {{0, 0, 0},     {0, 220, 0},   {255, 30, 30}, {30, 144, 255},
                                 {255, 215, 0}, {255, 0, 255}, {0, 255, 255}, {255, 140, 0}};
  if (label == 0) return kPalette[0];
  if (label < 0) label = -label;
  return kPalette[1 + (label - 1) % 7];  // labels beyond 7 reuse the palette
}

void draw_label_contours(Tensor& rgb, const Tensor& labels, const std::vector<Rgb>& colours) {
  GB_CHECK(rgb.defined() && rgb.dtype() == DType::U8 && rgb.dim() == 3 && rgb.size(0) == 3 && rgb.is_contiguous(),
           "draw_label_contours: image must be contiguous u8 [3,H,W], got ", rgb.defined() ? rgb.desc() : "undefined");
  GB_CHECK(labels.defined() && labels.dtype() == DType::I32 && labels.dim() == 2,
           "draw_label_contours: labels must be i32 [H,W], got ", labels.defined() ? labels.desc() : "undefined");
  const int64_t h = rgb.size(1), w = rgb.size(2);
  GB_CHECK(labels.size(0) == h && labels.size(1) == w, "draw_label_contours: image ", rgb.desc(), " and labels ",
           labels.desc(), " differ in size");
  Tensor lc = labels.contiguous();
  const int32_t* L = lc.data<int32_t>();
  uint8_t* o = rgb.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      int32_t l = L[y * w + x];
      if (l == 0) continue;
      bool edge = y == 0 || x == 0 || y == h - 1 || x == w - 1 || L[(y - 1) * w + x] != l ||
                  L[(y + 1) * w + x] != l || L[y * w + x - 1] != l || L[y * w + x + 1] != l;
      if (!edge) continue;
      Rgb c = (l >= 0 && (size_t)l < colours.size()) ? colours[(size_t)l] : label_colour(l);
      for (int k = 0; k < 3; ++k) o[k * h * w + y * w + x] = c[k];
    }
}

}  // namespace gb::draw

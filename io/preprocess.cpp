#include "io/preprocess.h"

#include <algorithm>
#include <cmath>

namespace gb::io {
namespace {

Tensor f32_contig(const Tensor& t, const char* op) {
  GB_CHECK(t.defined(), op, ": undefined input");
  GB_CHECK(t.device() == Device::CPU, op, ": expected a CPU tensor, got ", t.desc());
  return t.to(DType::F32).contiguous();
}

// Source coordinate for destination index d (scipy.ndimage.zoom convention, corners aligned).
inline double src_coord(int64_t d, int64_t in, int64_t out) {
  return out <= 1 ? 0.0 : (double)d * (double)(in - 1) / (double)(out - 1);
}

}  // namespace

Tensor window_hu(const Tensor& hu, const Window& w) {
  GB_CHECK(w.lo < w.hi, "window_hu: window needs lo < hi, got [", w.lo, ", ", w.hi, "]");
  Tensor x = f32_contig(hu, "window_hu");
  Tensor out = Tensor::empty(x.shape(), DType::F32);
  const float* p = x.data<float>();
  float* o = out.data<float>();
  const float inv = 1.f / (w.hi - w.lo);
  for (int64_t i = 0, n = x.numel(); i < n; ++i) o[i] = (std::clamp(p[i], w.lo, w.hi) - w.lo) * inv;
  return out;
}

Tensor scale_pixel8(const Tensor& px) {
  Tensor x = f32_contig(px, "scale_pixel8");
  Tensor out = Tensor::empty(x.shape(), DType::F32);
  const float* p = x.data<float>();
  float* o = out.data<float>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) o[i] = std::clamp(p[i], 0.f, 255.f) / 255.f;
  return out;
}

Tensor to_unit_range(const Tensor& img, Units units, const Window& w) {
  return units == Units::HU ? window_hu(img, w) : scale_pixel8(img);
}

Tensor resize_bilinear(const Tensor& img, int64_t oh, int64_t ow) {
  GB_CHECK(oh > 0 && ow > 0, "resize_bilinear: output size must be positive, got ", oh, "x", ow);
  Tensor x = f32_contig(img, "resize_bilinear");
  GB_CHECK(x.dim() == 2 || x.dim() == 3, "resize_bilinear: expected [H,W] or [C,H,W], got ", x.desc());
  const int64_t c = x.dim() == 3 ? x.size(0) : 1, h = x.size(x.dim() - 2), w = x.size(x.dim() - 1);
  GB_CHECK(h > 0 && w > 0, "resize_bilinear: empty input ", x.desc());
  Shape os = x.dim() == 3 ? Shape{c, oh, ow} : Shape{oh, ow};
  if (oh == h && ow == w) return x.clone();
  Tensor out = Tensor::empty(os, DType::F32);
  const float* p = x.data<float>();
  float* o = out.data<float>();
  // Precompute the column taps once: x0, x1 and weight of x1.
  std::vector<int64_t> x0(ow), x1(ow);
  std::vector<float> fx(ow);
  for (int64_t j = 0; j < ow; ++j) {
    double s = src_coord(j, w, ow);
    x0[j] = std::min<int64_t>((int64_t)std::floor(s), w - 1);
    x1[j] = std::min<int64_t>(x0[j] + 1, w - 1);
    fx[j] = (float)(s - (double)x0[j]);
  }
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < oh; ++i) {
      double s = src_coord(i, h, oh);
      int64_t y0 = std::min<int64_t>((int64_t)std::floor(s), h - 1), y1 = std::min<int64_t>(y0 + 1, h - 1);
      float fy = (float)(s - (double)y0);
      const float* r0 = p + (ch * h + y0) * w;
      const float* r1 = p + (ch * h + y1) * w;
      float* orow = o + (ch * oh + i) * ow;
      for (int64_t j = 0; j < ow; ++j) {
        float a = r0[x0[j]] + fx[j] * (r0[x1[j]] - r0[x0[j]]);
        float b = r1[x0[j]] + fx[j] * (r1[x1[j]] - r1[x0[j]]);
        orow[j] = a + fy * (b - a);
      }
    }
  return out;
}

Tensor resize_nearest(const Tensor& labels, int64_t oh, int64_t ow) {
  GB_CHECK(oh > 0 && ow > 0, "resize_nearest: output size must be positive, got ", oh, "x", ow);
  GB_CHECK(labels.defined() && labels.dtype() == DType::I32, "resize_nearest: expected i32 labels, got ",
           labels.defined() ? labels.desc() : "undefined");
  GB_CHECK(labels.dim() == 2 || labels.dim() == 3, "resize_nearest: expected [H,W] or [C,H,W], got ", labels.desc());
  Tensor x = labels.contiguous();
  const int64_t c = x.dim() == 3 ? x.size(0) : 1, h = x.size(x.dim() - 2), w = x.size(x.dim() - 1);
  GB_CHECK(h > 0 && w > 0, "resize_nearest: empty input ", x.desc());
  Shape os = x.dim() == 3 ? Shape{c, oh, ow} : Shape{oh, ow};
  Tensor out = Tensor::empty(os, DType::I32);
  const int32_t* p = x.data<int32_t>();
  int32_t* o = out.data<int32_t>();
  std::vector<int64_t> xs(ow);
  for (int64_t j = 0; j < ow; ++j) xs[j] = std::min<int64_t>((int64_t)std::floor(src_coord(j, w, ow) + 0.5), w - 1);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < oh; ++i) {
      int64_t y = std::min<int64_t>((int64_t)std::floor(src_coord(i, h, oh) + 0.5), h - 1);
      const int32_t* r = p + (ch * h + y) * w;
      int32_t* orow = o + (ch * oh + i) * ow;
      for (int64_t j = 0; j < ow; ++j) orow[j] = r[xs[j]];
    }
  return out;
}

Tensor volume_slice(const Tensor& vol, int64_t k, int context) {
  GB_CHECK(vol.defined() && vol.dim() == 3, "volume_slice: expected a volume [D,H,W], got ",
           vol.defined() ? vol.desc() : "undefined");
  GB_CHECK(context == 0 || context == 1, "volume_slice: context must be 0 (2-D) or 1 (2.5-D), got ", context);
  const int64_t d = vol.size(0), h = vol.size(1), w = vol.size(2);
  GB_CHECK(k >= 0 && k < d, "volume_slice: slice ", k, " out of range for ", vol.desc());
  const int64_t c = 2 * context + 1;
  Tensor out = Tensor::empty({c, h, w}, vol.dtype());
  for (int64_t ch = 0; ch < c; ++ch) {
    int64_t s = std::clamp<int64_t>(k - context + ch, 0, d - 1);  // edge slices replicated
    out.view_slice(0, ch, ch + 1).copy_from(vol.view_slice(0, s, s + 1));
  }
  return out;
}

Tensor label_slice(const Tensor& vol, int64_t k) {
  Tensor s = volume_slice(vol, k, 0);
  return s.view_reshape({s.size(1), s.size(2)});
}

Tensor match_channels(const Tensor& img, int64_t channels) {
  GB_CHECK(img.defined() && img.dim() == 3, "match_channels: expected [C,H,W], got ",
           img.defined() ? img.desc() : "undefined");
  const int64_t c = img.size(0), h = img.size(1), w = img.size(2);
  if (c == channels) return img;
  Tensor x = f32_contig(img, "match_channels");
  if (c == 1 && channels == 3) return x.view_expand({3, h, w}).contiguous();
  if (c == 3 && channels == 1) {
    Tensor out = Tensor::empty({1, h, w}, DType::F32);
    const float* p = x.data<float>();
    float* o = out.data<float>();
    for (int64_t i = 0; i < h * w; ++i) o[i] = 0.299f * p[i] + 0.587f * p[h * w + i] + 0.114f * p[2 * h * w + i];
    return out;
  }
  fail("match_channels: cannot turn ", c, " channels into ", channels, " (", img.desc(), ")");
}

}  // namespace gb::io

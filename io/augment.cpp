#include "io/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gb::io {
namespace {

// View x as [C, H, W] (C = 1 for [H, W]); returns contiguous.
Tensor as_chw(const Tensor& x, const char* op) {
  GB_CHECK(x.defined() && (x.dim() == 2 || x.dim() == 3), op, ": expected [H,W] or [C,H,W], got ",
           x.defined() ? x.desc() : "undefined");
  Tensor c = x.contiguous();
  return x.dim() == 2 ? c.view_reshape({1, x.size(0), x.size(1)}) : c;
}
Tensor like_rank(const Tensor& chw, const Tensor& orig) {
  return orig.dim() == 2 ? chw.view_reshape({chw.size(1), chw.size(2)}) : chw;
}

// out[c][i][j] = in[c][src(i, j)] for an index map src (-1 = fill with zero), byte-wise so any dtype works.
Tensor remap(const Tensor& chw, int64_t oh, int64_t ow, const std::vector<int64_t>& src) {
  const int64_t c = chw.size(0), h = chw.size(1), w = chw.size(2);
  const size_t es = dtype_size(chw.dtype());
  Tensor out = Tensor::zeros({c, oh, ow}, chw.dtype());
  const char* p = static_cast<const char*>(chw.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t q = 0; q < oh * ow; ++q) {
      int64_t s = src[(size_t)q];
      if (s >= 0) std::memcpy(o + (size_t)(ch * oh * ow + q) * es, p + (size_t)(ch * h * w + s) * es, es);
    }
  return out;
}

}  // namespace

Tensor rot90(const Tensor& x, int k) {
  Tensor c = as_chw(x, "rot90");
  const int64_t h = c.size(1), w = c.size(2);
  k = ((k % 4) + 4) % 4;
  const int64_t oh = (k % 2) ? w : h, ow = (k % 2) ? h : w;
  std::vector<int64_t> src((size_t)(oh * ow));
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j) {
      int64_t si = i, sj = j;  // np.rot90 (counter-clockwise): k=1 out[i][j] = in[j][W-1-i]
      if (k == 1) si = j, sj = w - 1 - i;
      if (k == 2) si = h - 1 - i, sj = w - 1 - j;
      if (k == 3) si = h - 1 - j, sj = i;
      src[(size_t)(i * ow + j)] = si * w + sj;
    }
  return like_rank(remap(c, oh, ow, src), x);
}

Tensor flip(const Tensor& x, int axis) {
  GB_CHECK(axis == 0 || axis == 1, "flip: axis must be 0 (rows) or 1 (columns), got ", axis);
  Tensor c = as_chw(x, "flip");
  const int64_t h = c.size(1), w = c.size(2);
  std::vector<int64_t> src((size_t)(h * w));
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) src[(size_t)(i * w + j)] = axis == 0 ? (h - 1 - i) * w + j : i * w + (w - 1 - j);
  return like_rank(remap(c, h, w, src), x);
}

Tensor rotate_nearest(const Tensor& x, double degrees) {
  Tensor c = as_chw(x, "rotate_nearest");
  const int64_t h = c.size(1), w = c.size(2);
  // Inverse mapping about the centre ((H-1)/2, (W-1)/2): each output pixel looks up the source pixel
  // it came from, rounded to the nearest (order 0); outside the input -> 0.
  const double t = degrees * M_PI / 180.0, cs = std::cos(t), sn = std::sin(t);
  const double cy = 0.5 * (double)(h - 1), cx = 0.5 * (double)(w - 1);
  std::vector<int64_t> src((size_t)(h * w));
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double dy = (double)i - cy, dx = (double)j - cx;
      double sy = cs * dy - sn * dx + cy, sx = sn * dy + cs * dx + cx;
      int64_t yi = (int64_t)std::floor(sy + 0.5), xi = (int64_t)std::floor(sx + 0.5);
      src[(size_t)(i * w + j)] = (yi >= 0 && yi < h && xi >= 0 && xi < w) ? yi * w + xi : -1;
    }
  return like_rank(remap(c, h, w, src), x);
}

AugmentRecord augment(Tensor& image, Tensor& label, Generator& gen, const AugmentOptions& opt) {
  GB_CHECK(image.defined() && image.dim() == 3 && image.dtype() == DType::F32, "augment: image must be f32 [C,H,W], got ",
           image.defined() ? image.desc() : "undefined");
  if (label.defined())
    GB_CHECK(label.dim() == 2 && label.size(0) == image.size(1) && label.size(1) == image.size(2), "augment: label ",
             label.desc(), " does not match image ", image.desc());
  GB_CHECK(opt.max_angle >= 1, "augment: max_angle must be >= 1, got ", opt.max_angle);
  AugmentRecord r;
  if (opt.geometric) {
    if (gen.next_uniform() > 0.5) {
      r.rot90 = (int)gen.next_int(0, 4);
      r.flip_axis = (int)gen.next_int(0, 2);
      image = flip(rot90(image, r.rot90), r.flip_axis);
      if (label.defined()) label = flip(rot90(label, r.rot90), r.flip_axis);
    } else if (gen.next_uniform() > 0.5) {
      r.rotated = true;
      r.angle = (int)gen.next_int(-opt.max_angle, opt.max_angle);
      image = rotate_nearest(image, r.angle);
      if (label.defined()) label = rotate_nearest(label, r.angle);
    }
  }
  if (opt.intensity && gen.next_uniform() < opt.intensity_prob) {
    r.scale = 1.0 + opt.contrast * (2.0 * gen.next_uniform() - 1.0);
    r.shift = opt.brightness * (2.0 * gen.next_uniform() - 1.0);
    Tensor out = Tensor::empty(image.shape(), DType::F32);
    Tensor in = image.contiguous();
    const float* p = in.data<float>();
    float* o = out.data<float>();
    const float s = (float)r.scale, b = (float)r.shift;
    for (int64_t i = 0, n = in.numel(); i < n; ++i) o[i] = std::clamp(p[i] * s + b, 0.f, 1.f);
    image = out;
  }
  return r;
}

}  // namespace gb::io

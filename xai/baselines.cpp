#include "xai/baselines.h"

#include <algorithm>
#include <cmath>

#include "tensor/philox.h"

namespace gb::xai {

BaselineKind baseline_from_name(const std::string& s) {
  if (s == "zero") return BaselineKind::Zero;
  if (s == "air") return BaselineKind::Air;
  if (s == "blur" || s == "blurred") return BaselineKind::Blur;
  if (s == "noise") return BaselineKind::Noise;
  if (s == "tissue" || s == "tissue-mean") return BaselineKind::Tissue;
  fail("baseline: unknown kind '", s, "' (zero, air, blur, noise, tissue)");
}

const char* baseline_name(BaselineKind k) {
  switch (k) {
    case BaselineKind::Zero: return "zero";
    case BaselineKind::Air: return "air";
    case BaselineKind::Blur: return "blur";
    case BaselineKind::Noise: return "noise";
    case BaselineKind::Tissue: return "tissue";
  }
  return "?";
}

Tensor gaussian_blur(const Tensor& x, double sigma) {
  GB_CHECK(x.dim() >= 2, "gaussian_blur: need [..., H, W], got ", x.desc());
  const int64_t H = x.size(x.dim() - 2), W = x.size(x.dim() - 1), planes = x.numel() / (H * W);
  if (sigma <= 0) return x.to(Device::CPU).clone();
  std::vector<double> v = x.contiguous().to_vector();
  const int64_t r = std::max<int64_t>(1, (int64_t)std::ceil(3 * sigma));
  std::vector<double> k(2 * r + 1);
  double ks = 0;
  for (int64_t i = -r; i <= r; ++i) ks += k[i + r] = std::exp(-0.5 * (double)(i * i) / (sigma * sigma));
  for (double& e : k) e /= ks;
  std::vector<double> tmp(H * W);
  for (int64_t p = 0; p < planes; ++p) {
    double* img = v.data() + p * H * W;
    for (int64_t y = 0; y < H; ++y)  // along x, edges replicated
      for (int64_t xx = 0; xx < W; ++xx) {
        double s = 0;
        for (int64_t i = -r; i <= r; ++i) s += k[i + r] * img[y * W + std::clamp<int64_t>(xx + i, 0, W - 1)];
        tmp[y * W + xx] = s;
      }
    for (int64_t y = 0; y < H; ++y)  // along y
      for (int64_t xx = 0; xx < W; ++xx) {
        double s = 0;
        for (int64_t i = -r; i <= r; ++i) s += k[i + r] * tmp[std::clamp<int64_t>(y + i, 0, H - 1) * W + xx];
        img[y * W + xx] = s;
      }
  }
  return Tensor::from_vector(v, x.shape()).to(x.dtype());
}

namespace {
Tensor host_baseline(const Tensor& x, const BaselineOptions& o) {  // x on the host
  switch (o.kind) {
    case BaselineKind::Zero: return Tensor::zeros(x.shape(), x.dtype());
    case BaselineKind::Air: {
      GB_CHECK(o.pre, "baseline air: needs the model's preprocessing");
      GB_CHECK(o.pre->units == io::Units::HU,
               "baseline air: the model takes 8-bit pixels, not Hounsfield units; use zero, blur or tissue");
      // Stage 1 (intensities) is elementwise and stages 2-4 only copy or interpolate a constant.
      const double v = io::pre_intensities(Tensor::full({1}, -1000.0, DType::F32), *o.pre).item();
      return Tensor::full(x.shape(), v, x.dtype());
    }
    case BaselineKind::Blur: {
      const int64_t H = x.size(x.dim() - 2), W = x.size(x.dim() - 1);
      return gaussian_blur(x, o.sigma > 0 ? o.sigma : (double)std::max(H, W) / 16.0);
    }
    case BaselineKind::Noise: {
      auto v = x.to_vector();
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      Tensor n = Tensor::empty(x.shape(), DType::F64);
      Generator g(o.seed, 0x5a11);
      g.uniform_(n, *lo, *hi > *lo ? *hi : *lo + 1);
      return n.to(x.dtype());
    }
    case BaselineKind::Tissue: {
      // Per channel: pixels above the channel's minimum (+ 1e-3 of its range) are body.
      const int64_t C = x.size(1), P = x.numel() / C;
      auto v = x.contiguous().to_vector();
      for (int64_t c = 0; c < C; ++c) {
        double* p = v.data() + c * P;
        const auto [lo, hi] = std::minmax_element(p, p + P);
        const double mn = *lo, thr = mn + 1e-3 * (*hi - mn);
        double s = 0;
        int64_t n = 0;
        for (int64_t i = 0; i < P; ++i)
          if (p[i] > thr) s += p[i], ++n;
        const double mean = n ? s / (double)n : mn;
        for (int64_t i = 0; i < P; ++i) p[i] = p[i] > thr ? mean : mn;
      }
      return Tensor::from_vector(v, x.shape()).to(x.dtype());
    }
  }
  fail("baseline: unknown kind");
}
}  // namespace

Tensor make_baseline(const Tensor& x, const BaselineOptions& o) {
  GB_CHECK(x.dim() >= 4 && x.size(0) == 1, "baseline: input must be [1, C, *spatial], got ", x.desc());
  // Made on the host from one copy of x, then put where x is.
  return host_baseline(x.to(Device::CPU), o).to(x.device());
}

}  // namespace gb::xai

#include "xai/smoothgrad.h"

#include <algorithm>

#include "tensor/philox.h"
#include "xai/gradients.h"

namespace gb::xai {

Tensor channel_sum(const Tensor& a) {
  const int64_t C = a.size(0), P = a.numel() / C;
  const auto v = a.contiguous().to_vector();
  std::vector<double> m(P, 0.0);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t p = 0; p < P; ++p) m[p] += v[c * P + p];
  return Tensor::from_vector(m, Shape(a.shape().begin() + 1, a.shape().end()));
}

namespace {
Tensor chw(const Tensor& x) { return x.contiguous().view_reshape(Shape(x.shape().begin() + 1, x.shape().end())); }
}  // namespace

Saliency gradient_map(models::SegmentationModel& model, const Tensor& x, const Target& target, bool times_input) {
  GB_CHECK((x.dim() == 4 || x.dim() == 5) && x.size(0) == 1, "gradient: input must be [1, C, *spatial], got ", x.desc());
  Saliency s;
  Tensor g;
  input_gradients(model, 1, [&](int64_t) { return chw(x); }, target, 1, [&](int64_t, double T, const Tensor& gr) {
    s.target = T;
    g = gr.to(DType::F64).contiguous();
  });
  if (times_input) {
    auto gv = g.to_vector(), xv = x.contiguous().to_vector();
    for (size_t i = 0; i < gv.size(); ++i) gv[i] *= xv[i];
    g = Tensor::from_vector(gv, g.shape());
  }
  s.attribution = g;
  s.map = channel_sum(g);
  return s;
}

SmoothResult smooth_grad(models::SegmentationModel& model, const Tensor& x, const Target& target,
                         const SmoothOptions& opt) {
  GB_CHECK((x.dim() == 4 || x.dim() == 5) && x.size(0) == 1, "smoothgrad: input must be [1, C, *spatial], got ", x.desc());
  GB_CHECK(opt.samples >= 1, "smoothgrad: samples must be >= 1, got ", opt.samples);
  GB_CHECK(opt.sigma >= 0, "smoothgrad: sigma must be >= 0, got ", opt.sigma);
  const Tensor x0 = chw(x);
  const auto xv = x0.to_vector();
  const auto [lo, hi] = std::minmax_element(xv.begin(), xv.end());
  const double sd = opt.sigma * (*hi - *lo);
  auto noisy = [&](int64_t i) {  // copy i, [C, *spatial] in the model's dtype
    Tensor n = Tensor::empty(x0.shape(), DType::F64);
    Generator g(opt.seed, (uint64_t)i + 1);
    g.normal_(n, 0.0, sd > 0 ? sd : 1.0);
    auto nv = n.to_vector();
    for (size_t k = 0; k < nv.size(); ++k) nv[k] = xv[k] + (sd > 0 ? nv[k] : 0.0);
    return Tensor::from_vector(nv, x0.shape()).to(x.dtype());
  };
  const size_t N = xv.size();
  // Welford's running mean and sum of squared deviations, copies in order (no cancellation).
  std::vector<double> mean(N, 0.0), m2(N, 0.0);
  double tsum = 0;
  int64_t seen = 0;
  auto add = [&](const std::vector<double>& a) {
    ++seen;
    for (size_t k = 0; k < N; ++k) {
      const double d = a[k] - mean[k];
      mean[k] += d / (double)seen;
      m2[k] += d * (a[k] - mean[k]);
    }
  };
  SmoothResult r;
  r.samples = opt.samples;
  if (opt.method == GradMethod::IntegratedGradients) {
    GB_CHECK(opt.baseline.defined() && opt.baseline.shape() == x.shape(), "smoothgrad: IG needs a baseline shaped ",
             x.desc());
    for (int64_t i = 0; i < opt.samples; ++i) {
      Shape one = x.shape();
      Tensor xi = noisy(i).view_reshape(one);
      IgResult ig = integrated_gradients(model, xi, opt.baseline, target, opt.ig);
      add(ig.attribution.to_vector());
      tsum += ig.T_input;
      r.batch = ig.batch;
    }
  } else {
    r.batch = opt.batch > 0 ? opt.batch
                            : gradient_batch(model.device(), opt.memory_mb, opt.cpu_pass_mb, bytes_per_sample(model, x),
                                             opt.samples);
    const bool times = opt.method == GradMethod::GradientXInput;
    input_gradients(model, opt.samples, noisy, target, r.batch, [&](int64_t i, double T, const Tensor& g) {
      auto gv = g.to_vector();
      if (times) {
        const auto ni = noisy(i).to_vector();
        for (size_t k = 0; k < N; ++k) gv[k] *= ni[k];
      }
      add(gv);
      tsum += T;
    });
  }
  const double n = (double)opt.samples;
  std::vector<double> var(N);
  for (size_t k = 0; k < N; ++k) var[k] = m2[k] / n;
  r.mean.attribution = Tensor::from_vector(mean, x0.shape());
  r.mean.map = channel_sum(r.mean.attribution);
  r.mean.target = tsum / n;
  r.variance.attribution = Tensor::from_vector(var, x0.shape());
  r.variance.map = channel_sum(r.variance.attribution);
  r.variance.target = r.mean.target;
  return r;
}

}  // namespace gb::xai

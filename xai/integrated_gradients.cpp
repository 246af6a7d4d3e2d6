#include "xai/integrated_gradients.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "xai/gradients.h"

namespace gb::xai {

namespace {

struct Path {
  Shape chw;                       // [C, *spatial]
  DType dtype;
  std::vector<double> base, diff;  // x' and x - x', f64 [C * P]
  Tensor at(double a) const {      // x' + a (x - x') in the model's dtype, [C, *spatial]
    std::vector<double> v(base.size());
    for (size_t i = 0; i < v.size(); ++i) v[i] = base[i] + a * diff[i];
    return Tensor::from_vector(v, chw).to(dtype);
  }
  double dot(const Tensor& g) const {  // g . (x - x'), in element order
    const auto gv = g.to_vector();
    double s = 0;
    for (size_t i = 0; i < gv.size(); ++i) s += gv[i] * diff[i];
    return s;
  }
};

// Adds w * g into acc (f64, element order).
void axpy(std::vector<double>& acc, double w, const Tensor& g) {
  const auto gv = g.to_vector();
  for (size_t i = 0; i < gv.size(); ++i) acc[i] += w * gv[i];
}

struct Interval {
  double a, b, Ta, Tb;
  double K = 0;                // K15 estimate of integral_a^b dT/da
  std::vector<double> acc;     // sum_k w_k g_k over its 15 nodes, f64 [C * P]
  std::vector<PathPoint> pts;  // its 15 nodes
  double err() const { return std::fabs(K - (Tb - Ta)); }
};

}  // namespace

IgResult integrated_gradients(models::SegmentationModel& model, const Tensor& x, const Tensor& baseline,
                              const Target& target, const IgOptions& opt) {
  GB_CHECK((x.dim() == 4 || x.dim() == 5) && x.size(0) == 1,
           "integrated_gradients: input must be [1, C, H, W] or [1, C, D, H, W], got ", x.desc());
  GB_CHECK(baseline.shape() == x.shape(), "integrated_gradients: baseline ", baseline.desc(), " does not match the input ",
           x.desc());
  GB_CHECK(opt.tolerance > 0, "integrated_gradients: tolerance must be > 0, got ", opt.tolerance);
  Path path;
  path.chw = Shape(x.shape().begin() + 1, x.shape().end());
  path.dtype = x.dtype();
  path.base = baseline.contiguous().to_vector();
  {
    const auto xv = x.contiguous().to_vector();
    path.diff.resize(xv.size());
    for (size_t i = 0; i < xv.size(); ++i) path.diff[i] = xv[i] - path.base[i];
  }
  IgResult r;
  r.batch = opt.batch > 0 ? opt.batch
                          : gradient_batch(model.device(), opt.memory_mb, opt.cpu_pass_mb, bytes_per_sample(model, x),
                                           opt.rule == Rule::Adaptive ? 30 : std::max<int64_t>(1, opt.steps));
  // T(x') and T(x): the exact value the integral must reach.
  {
    auto tv = target_values(model, 2, [&](int64_t s) { return path.at(s == 0 ? 0.0 : 1.0); }, target, 1);
    r.T_baseline = tv[0];
    r.T_input = tv[1];
    r.forwards = 2;
  }
  const double dT = r.T_input - r.T_baseline;
  std::vector<double> acc(path.diff.size(), 0.0);

  if (opt.rule != Rule::Adaptive) {
    const Nodes nodes = fixed_rule(opt.rule, opt.steps);
    const int64_t S = (int64_t)nodes.alpha.size();
    input_gradients(model, S, [&](int64_t s) { return path.at(nodes.alpha[s]); }, target, r.batch,
                    [&](int64_t s, double, const Tensor& g) {
                      axpy(acc, nodes.weight[s], g);
                      r.path.push_back({nodes.alpha[s], nodes.weight[s], path.dot(g)});
                    });
    r.evaluations = S;
  } else {
    // Evaluates the K15 nodes of every interval in `todo` in one batched sweep (15 per interval, in
    // order), filling K, acc and pts.
    auto evaluate = [&](std::vector<Interval*> todo) {
      std::vector<KronrodNodes> kn;
      for (Interval* iv : todo) kn.push_back(gauss_kronrod15(iv->a, iv->b));
      const int64_t S = 15 * (int64_t)todo.size();
      input_gradients(model, S, [&](int64_t s) { return path.at(kn[s / 15].alpha[s % 15]); }, target, r.batch,
                      [&](int64_t s, double, const Tensor& g) {
                        Interval& iv = *todo[s / 15];
                        const KronrodNodes& k = kn[s / 15];
                        const int64_t j = s % 15;
                        if (iv.acc.empty()) iv.acc.assign(path.diff.size(), 0.0);
                        axpy(iv.acc, k.k_weight[j], g);
                        const double f = path.dot(g);
                        iv.K += k.k_weight[j] * f;
                        iv.pts.push_back({k.alpha[j], k.k_weight[j], f});
                      });
      r.evaluations += S;
    };
    std::vector<Interval> ivs(1);
    ivs[0].a = 0, ivs[0].b = 1, ivs[0].Ta = r.T_baseline, ivs[0].Tb = r.T_input;
    evaluate({&ivs[0]});
    auto completeness = [&] {
      double s = 0;
      for (const auto& iv : ivs) s += iv.K;  // intervals are kept in order of a
      return std::fabs(s - dT);
    };
    while (completeness() > opt.tolerance * std::fabs(dT) && r.evaluations + 30 <= opt.max_steps) {
      size_t worst = 0;  // largest exact error; ties go to the smaller a
      for (size_t i = 1; i < ivs.size(); ++i)
        if (ivs[i].err() > ivs[worst].err()) worst = i;
      const Interval old = ivs[worst];
      const double m = 0.5 * (old.a + old.b);
      if (!(m > old.a && m < old.b)) break;  // cannot split further in double precision
      const double Tm = target_values(model, 1, [&](int64_t) { return path.at(m); }, target, 1)[0];
      ++r.forwards;
      Interval left, right;
      left.a = old.a, left.b = m, left.Ta = old.Ta, left.Tb = Tm;
      right.a = m, right.b = old.b, right.Ta = Tm, right.Tb = old.Tb;
      ivs[worst] = left;
      ivs.insert(ivs.begin() + (long)worst + 1, right);
      evaluate({&ivs[worst], &ivs[worst + 1]});
    }
    for (const auto& iv : ivs) {
      for (size_t i = 0; i < acc.size(); ++i) acc[i] += iv.acc[i];
      r.path.insert(r.path.end(), iv.pts.begin(), iv.pts.end());
    }
    r.intervals = (int64_t)ivs.size();
  }

  // attribution = (x - x') ⊙ acc; map = sum over channels.
  const int64_t C = path.chw[0], P = (int64_t)acc.size() / C;
  std::vector<double> attr(acc.size()), map(P, 0.0);
  for (size_t i = 0; i < acc.size(); ++i) attr[i] = path.diff[i] * acc[i];
  for (int64_t c = 0; c < C; ++c)
    for (int64_t p = 0; p < P; ++p) map[p] += attr[c * P + p];
  for (double v : attr) r.sum += v;
  r.attribution = Tensor::from_vector(attr, path.chw);
  r.map = Tensor::from_vector(map, Shape(path.chw.begin() + 1, path.chw.end()));
  r.delta_abs = std::fabs(r.sum - dT);
  r.delta_rel = r.delta_abs / std::max(std::fabs(dT), 1e-300);
  r.within_tolerance = r.delta_rel <= opt.tolerance;
  if (!r.within_tolerance) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "integrated gradients: completeness error %.3g %% exceeds the tolerance %.3g %% (sum IG = %.6g, "
                  "T(x) - T(x') = %.6g, %s, %lld gradient evaluations): the nodes missed where T changes; use the "
                  "adaptive rule or a blur/tissue baseline",
                  100 * r.delta_rel, 100 * opt.tolerance, r.sum, dT, rule_name(opt.rule), (long long)r.evaluations);
    r.warning = buf;
  }
  return r;
}

}  // namespace gb::xai

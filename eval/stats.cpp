#include "eval/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensor/error.h"
#include "tensor/philox.h"

namespace gb::eval {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = q / 100.0 * (double)(v.size() - 1);
  const size_t lo = (size_t)std::floor(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + (std::ptrdiff_t)lo, v.end());
  const double a = v[lo];
  if (hi == lo) return a;
  // The next order statistic is the smallest of the upper part.
  const double b = *std::min_element(v.begin() + (std::ptrdiff_t)lo + 1, v.end());
  return a + (pos - (double)lo) * (b - a);
}

double signed_rank_cdf(int64_t n, double t) {
  // count[s] = number of subsets of ranks {1..n} summing to s (the sign patterns with W+ = s).
  const int64_t max_sum = n * (n + 1) / 2;
  std::vector<double> count(max_sum + 1, 0.0);
  count[0] = 1;
  for (int64_t r = 1; r <= n; ++r)
    for (int64_t s = max_sum; s >= r; --s) count[s] += count[s - r];
  double below = 0;
  for (int64_t s = 0; s <= max_sum && (double)s <= t + 1e-9; ++s) below += count[s];
  return below / std::ldexp(1.0, (int)n);
}

Wilcoxon wilcoxon_signed_rank(const std::vector<double>& x, const std::vector<double>& y) {
  GB_CHECK(x.size() == y.size(), "wilcoxon_signed_rank: ", x.size(), " vs ", y.size(), " paired values");
  Wilcoxon w;
  std::vector<double> d;
  for (size_t i = 0; i < x.size(); ++i) {
    const double di = x[i] - y[i];
    if (std::fabs(di) <= 1e-12) {
      ++w.zeros;
      continue;
    }
    d.push_back(di);
  }
  w.n = (int64_t)d.size();
  if (w.n == 0) return w;
  // Average ranks of |d|, ties grouped within a relative tolerance.
  std::vector<size_t> order(d.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::fabs(d[a]) < std::fabs(d[b]); });
  double max_abs = 0;
  for (double v : d) max_abs = std::max(max_abs, std::fabs(v));
  const double tol = 1e-12 * max_abs;
  std::vector<double> rank(d.size());
  double tie_term = 0;  // Σ (t³ - t) over tie groups
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && std::fabs(d[order[j]]) - std::fabs(d[order[i]]) <= tol) ++j;
    const double avg = 0.5 * (double)(i + 1 + j);  // mean of ranks i+1 .. j
    for (size_t k = i; k < j; ++k) rank[order[k]] = avg;
    const double t = (double)(j - i);
    if (j - i > 1) w.ties = true, tie_term += t * t * t - t;
    i = j;
  }
  w.w_plus = w.w_minus = 0;
  for (size_t i = 0; i < d.size(); ++i) (d[i] > 0 ? w.w_plus : w.w_minus) += rank[i];
  w.statistic = std::min(w.w_plus, w.w_minus);
  const double n = (double)w.n;
  const double mean = n * (n + 1) / 4.0;
  const double var = n * (n + 1) * (2 * n + 1) / 24.0 - tie_term / 48.0;
  w.z = var > 0 ? (w.statistic - mean) / std::sqrt(var) : 0.0;
  if (w.n <= 25 && !w.ties) {
    w.exact = true;
    w.p = std::min(1.0, 2.0 * signed_rank_cdf(w.n, w.statistic));
  } else {
    w.p = var > 0 ? std::erfc(std::fabs(w.z) / std::sqrt(2.0)) : 1.0;
  }
  return w;
}

Interval bootstrap_mean_ci(const std::vector<double>& v, int64_t resamples, uint64_t seed, uint64_t stream, double level) {
  Interval iv;
  if (v.empty() || resamples <= 0) return iv;
  Generator g(seed, stream);
  const int64_t n = (int64_t)v.size();
  std::vector<double> means((size_t)resamples);
  for (int64_t b = 0; b < resamples; ++b) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += v[(size_t)g.next_int(0, n)];
    means[(size_t)b] = s / (double)n;
  }
  const double tail = 50.0 * (1.0 - level);
  iv.lo = percentile(means, tail);
  iv.hi = percentile(means, 100.0 - tail);
  return iv;
}

}  // namespace gb::eval

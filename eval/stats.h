// Statistics for comparing segmentations over cases: percentiles, the Wilcoxon signed-rank test of
// paired per-case scores, and bootstrap percentile intervals of a mean.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

namespace gb::eval {

// q-th percentile (q in [0, 100]) with numpy's default linear interpolation: position q/100 * (n - 1)
// between the order statistics. NaN for an empty vector.
double percentile(std::vector<double> v, double q);

// Two-sided Wilcoxon signed-rank test of paired samples x, y (same length), matching
// scipy.stats.wilcoxon(x, y, zero_method="wilcox", correction=False) with:
//   - zero differences dropped before ranking (scipy's default "wilcox" rule); n counts the rest;
//   - |d| ranked with average ranks for ties;
//   - statistic = min(W+, W-);
//   - exact null distribution (all 2^n sign patterns, by counting subset sums) when n <= 25 and
//     no |d| are tied (scipy method="exact");
//   - otherwise the normal approximation with the tie correction
//     var = n(n+1)(2n+1)/24 - Σ(t³ - t)/48 and no continuity correction (scipy method="approx").
// p is NaN when n == 0. Differences within 1e-12 * max|d| of each other count as tied, and within
// 1e-12 of zero (absolute) as zero, so that 0.1 + 0.2 - 0.3 is a zero.
struct Wilcoxon {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  int64_t n = 0;      // non-zero differences used
  int64_t zeros = 0;  // pairs dropped as equal
  bool exact = false;
  bool ties = false;
  double w_plus = kNaN, w_minus = kNaN, statistic = kNaN, z = kNaN, p = kNaN;
};
Wilcoxon wilcoxon_signed_rank(const std::vector<double>& x, const std::vector<double>& y);

// The exact tail P(W+ <= t) of the signed-rank statistic for n untied ranks (exposed for tests).
double signed_rank_cdf(int64_t n, double t);

// 95% (level) bootstrap percentile interval of the mean of v: `resamples` means of n draws with
// replacement, indices from Philox (seed, stream), then their 2.5th and 97.5th percentiles (numpy's
// linear rule). One (seed, stream) names one interval. NaN bounds for an empty v.
struct Interval {
  double lo = std::numeric_limits<double>::quiet_NaN(), hi = std::numeric_limits<double>::quiet_NaN();
};
Interval bootstrap_mean_ci(const std::vector<double>& v, int64_t resamples, uint64_t seed, uint64_t stream = 0,
                           double level = 0.95);

}  // namespace gb::eval

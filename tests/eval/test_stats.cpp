// Wilcoxon signed-rank against scipy.stats.wilcoxon (golden values from scripts/make_eval_golden.py),
// the exact null distribution by hand, percentiles as numpy computes them, and the bootstrap.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "eval/stats.h"

using namespace gb::eval;

TEST(Stats, PercentileIsNumpysLinearRule) {
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 95), 3.85);  // pos 2.85 between 3 and 4
  EXPECT_DOUBLE_EQ(percentile({7}, 95), 7.0);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 9}, 100), 9.0);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 9}, 0), 1.0);
  EXPECT_TRUE(std::isnan(percentile({}, 50)));
}

TEST(Stats, ExactSignedRankDistributionOfThreeRanks) {
  // Subset sums of {1, 2, 3}: 0, 1, 2, 3, 3, 4, 5, 6 -> P(W <= 3) = 5/8.
  EXPECT_DOUBLE_EQ(signed_rank_cdf(3, 3), 5.0 / 8.0);
  EXPECT_DOUBLE_EQ(signed_rank_cdf(3, 0), 1.0 / 8.0);
  EXPECT_DOUBLE_EQ(signed_rank_cdf(3, 6), 1.0);
}

TEST(Stats, WilcoxonMatchesScipy) {
  std::ifstream f(std::string(GB_SOURCE_DIR) + "/tests/golden/eval/metrics_golden.json");
  ASSERT_TRUE(f.good());
  nlohmann::json g = nlohmann::json::parse(f);
  ASSERT_GE(g["wilcoxon"].size(), 5u);
  for (const auto& c : g["wilcoxon"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    Wilcoxon w = wilcoxon_signed_rank(c["x"].get<std::vector<double>>(), c["y"].get<std::vector<double>>());
    EXPECT_EQ(w.exact, c["method"] == "exact");
    EXPECT_NEAR(w.statistic, c["statistic"].get<double>(), 1e-9);
    EXPECT_NEAR(w.p, c["p"].get<double>(), 1e-12 + 1e-9 * c["p"].get<double>());
  }
}

TEST(Stats, WilcoxonAllEqualIsUndefined) {
  Wilcoxon w = wilcoxon_signed_rank({0.5, 0.7}, {0.5, 0.7});
  EXPECT_EQ(w.n, 0);
  EXPECT_EQ(w.zeros, 2);
  EXPECT_TRUE(std::isnan(w.p));
}

TEST(Stats, BootstrapIsSeededAndCoversTheMean) {
  std::vector<double> v;
  for (int i = 0; i < 30; ++i) v.push_back(0.6 + 0.01 * ((i * 7) % 13));
  Interval a = bootstrap_mean_ci(v, 2000, 42), b = bootstrap_mean_ci(v, 2000, 42), c = bootstrap_mean_ci(v, 2000, 43);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  EXPECT_NE(a.lo, c.lo);
  double mean = 0;
  for (double x : v) mean += x / (double)v.size();
  EXPECT_LT(a.lo, mean);
  EXPECT_GT(a.hi, mean);
  // Roughly mean ± 1.96 standard errors.
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean) / (double)(v.size() - 1);
  const double se = std::sqrt(var / (double)v.size());
  EXPECT_NEAR(a.hi - a.lo, 2 * 1.96 * se, 0.5 * se);
  Interval one = bootstrap_mean_ci({3.0}, 100, 1);
  EXPECT_DOUBLE_EQ(one.lo, 3.0);
  EXPECT_DOUBLE_EQ(one.hi, 3.0);
}

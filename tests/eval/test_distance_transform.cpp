// The exact EDT against brute force (every voxel to every feature) on random masks with anisotropic
// spacing, in 1-D, 2-D and 3-D.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "eval/distance_transform.h"
#include "tensor/philox.h"

using namespace gb::eval;

namespace {

std::vector<double> brute(const std::vector<uint8_t>& f, const std::array<int64_t, 3>& d, const std::array<double, 3>& s) {
  std::vector<double> out(f.size(), std::numeric_limits<double>::infinity());
  for (int64_t a = 0; a < d[0] * d[1] * d[2]; ++a)
    for (int64_t b = 0; b < d[0] * d[1] * d[2]; ++b) {
      if (!f[b]) continue;
      const double dz = s[0] * double(a / (d[1] * d[2]) - b / (d[1] * d[2]));
      const double dy = s[1] * double((a / d[2]) % d[1] - (b / d[2]) % d[1]);
      const double dx = s[2] * double(a % d[2] - b % d[2]);
      out[a] = std::min(out[a], dz * dz + dy * dy + dx * dx);
    }
  return out;
}

void check_random(const std::array<int64_t, 3>& dims, const std::array<double, 3>& sp, double density, uint64_t seed) {
  gb::Generator g(seed);
  const int64_t n = dims[0] * dims[1] * dims[2];
  std::vector<uint8_t> f(n);
  for (auto& v : f) v = g.next_uniform() < density;
  std::vector<double> got(n);
  squared_edt(f.data(), dims, sp, got.data());
  const auto want = brute(f, dims, sp);
  for (int64_t i = 0; i < n; ++i) {
    if (std::isinf(want[i])) {
      ASSERT_TRUE(std::isinf(got[i])) << i;
    } else {
      ASSERT_NEAR(got[i], want[i], 1e-9 * (1 + want[i])) << "voxel " << i << " seed " << seed;
    }
  }
}

}  // namespace

TEST(DistanceTransform, MatchesBruteForceIn3dWithAnisotropicSpacing) {
  for (uint64_t s = 0; s < 6; ++s) check_random({7, 9, 11}, {2.5, 0.7, 0.9}, s < 3 ? 0.02 : 0.2, s);
}

TEST(DistanceTransform, MatchesBruteForceIn2dAnd1d) {
  check_random({1, 17, 13}, {1.0, 0.6, 1.3}, 0.03, 11);
  check_random({1, 1, 40}, {1.0, 1.0, 0.5}, 0.05, 12);
  check_random({30, 1, 1}, {3.0, 1.0, 1.0}, 0.1, 13);
}

TEST(DistanceTransform, NoFeatureIsInfinityOneFeatureIsItsDistance) {
  std::vector<uint8_t> f(4 * 5 * 6, 0);
  std::vector<double> d(f.size());
  squared_edt(f.data(), {4, 5, 6}, {1, 1, 1}, d.data());
  for (double v : d) EXPECT_TRUE(std::isinf(v));
  f[(1 * 5 + 2) * 6 + 3] = 1;  // (z, y, x) = (1, 2, 3)
  squared_edt(f.data(), {4, 5, 6}, {3.0, 2.0, 0.5}, d.data());
  EXPECT_DOUBLE_EQ(d[(1 * 5 + 2) * 6 + 3], 0.0);
  // (3, 0, 5): dz = 2 * 3 mm, dy = 2 * 2 mm, dx = 2 * 0.5 mm -> 36 + 16 + 1.
  EXPECT_DOUBLE_EQ(d[(3 * 5 + 0) * 6 + 5], 53.0);
}

TEST(DistanceTransform, QueryVoxelsGetTheExactValue) {
  // With a query mask the last pass skips columns without a query: the values at the queries must
  // still be exact.
  const std::array<int64_t, 3> dims{9, 8, 10};
  const std::array<double, 3> sp{2.0, 0.8, 0.6};
  gb::Generator g(77);
  const int64_t n = dims[0] * dims[1] * dims[2];
  std::vector<uint8_t> f(n), q(n);
  for (int64_t i = 0; i < n; ++i) f[i] = g.next_uniform() < 0.03, q[i] = g.next_uniform() < 0.05;
  std::vector<double> got(n);
  squared_edt(f.data(), dims, sp, got.data(), q.data());
  const auto want = brute(f, dims, sp);
  int64_t checked = 0;
  for (int64_t i = 0; i < n; ++i)
    if (q[i]) {
      ASSERT_NEAR(got[i], want[i], 1e-9 * (1 + want[i])) << i;
      ++checked;
    }
  EXPECT_GT(checked, 10);
}

TEST(DistanceTransform, ReferenceOneDimensionalPass) {
  // squared_edt_1d on a sampled function (not only 0 / inf): d[q] = min_p step²(q - p)² + f[p].
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> f = {inf, 4.0, inf, inf, 0.5, 9.0, inf, 1.0, inf};
  const int64_t n = (int64_t)f.size();
  std::vector<double> d(n), z(n + 1);
  std::vector<int64_t> v(n);
  squared_edt_1d(f.data(), n, 0.7, d.data(), v.data(), z.data());
  for (int64_t q = 0; q < n; ++q) {
    double want = inf;
    for (int64_t p = 0; p < n; ++p) want = std::min(want, 0.49 * double((q - p) * (q - p)) + f[p]);
    EXPECT_NEAR(d[q], want, 1e-12) << q;
  }
}

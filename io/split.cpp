#include "io/split.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "tensor/philox.h"

namespace gb::io {

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit((unsigned char)a[i]) && std::isdigit((unsigned char)b[j])) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit((unsigned char)a[i2])) ++i2;
      while (j2 < b.size() && std::isdigit((unsigned char)b[j2])) ++j2;
      // Compare digit runs by value: strip leading zeros, then length, then lexicographic.
      size_t ai = i, bj = j;
      while (ai + 1 < i2 && a[ai] == '0') ++ai;
      while (bj + 1 < j2 && b[bj] == '0') ++bj;
      if (i2 - ai != j2 - bj) return i2 - ai < j2 - bj;
      int c = a.compare(ai, i2 - ai, b, bj, j2 - bj);
      if (c != 0) return c < 0;
      if (i2 - i != j2 - j) return i2 - i < j2 - j;  // "01" after "1": a stable tie-break
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return (unsigned char)a[i] < (unsigned char)b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

Split split_cases(const std::vector<std::string>& case_ids, const SplitFractions& f, uint64_t seed) {
  GB_CHECK(f.train >= 0 && f.val >= 0 && f.test >= 0 && std::fabs(f.train + f.val + f.test - 1.0) < 1e-6,
           "split_cases: fractions must be >= 0 and sum to 1, got train ", f.train, " val ", f.val, " test ", f.test);
  std::set<std::string> uniq(case_ids.begin(), case_ids.end());
  std::vector<std::string> ids(uniq.begin(), uniq.end());
  GB_CHECK(!ids.empty(), "split_cases: no cases to split");
  std::sort(ids.begin(), ids.end(), natural_less);
  Generator gen(seed, kSplitStream);
  const int64_t n = (int64_t)ids.size();
  for (int64_t i = n - 1; i >= 1; --i) std::swap(ids[(size_t)i], ids[(size_t)gen.next_int(0, i + 1)]);
  auto count = [&](double frac) {
    int64_t k = (int64_t)std::llround((double)n * frac);
    if (frac > 0 && n >= 3) k = std::max<int64_t>(k, 1);
    return k;
  };
  int64_t n_test = count(f.test), n_val = count(f.val);
  // Keep at least one training case: shrink val first, then test.
  while (n_test + n_val > n - 1 && n_val > 0) --n_val;
  while (n_test + n_val > n - 1 && n_test > 0) --n_test;
  Split s;
  s.test.assign(ids.begin(), ids.begin() + n_test);
  s.val.assign(ids.begin() + n_test, ids.begin() + n_test + n_val);
  s.train.assign(ids.begin() + n_test + n_val, ids.end());
  for (auto* v : {&s.train, &s.val, &s.test}) std::sort(v->begin(), v->end(), natural_less);
  return s;
}

Split split_dataset(const Dataset& ds, const SplitFractions& f, uint64_t seed) {
  return split_cases(ds.case_ids(), f, seed);
}

}  // namespace gb::io

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "io/split.h"

using namespace gb;
using namespace gb::io;

namespace {
std::vector<std::string> cases(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("volume-" + std::to_string(i));
  return v;
}
}  // namespace

TEST(Split, NaturalOrder) {
  EXPECT_TRUE(natural_less("volume-2", "volume-10"));
  EXPECT_FALSE(natural_less("volume-10", "volume-2"));
  EXPECT_TRUE(natural_less("liver_9", "liver_10"));
  EXPECT_TRUE(natural_less("a", "b"));
  EXPECT_FALSE(natural_less("a1", "a1"));
}

TEST(Split, ByCaseDeterministicAndComplete) {
  std::vector<std::string> ids = cases(25);
  Split a = split_cases(ids, {0.7, 0.15, 0.15}, 1234);
  EXPECT_EQ(a.test.size(), 4u);  // round(3.75)
  EXPECT_EQ(a.val.size(), 4u);
  EXPECT_EQ(a.train.size(), 17u);
  std::set<std::string> all;
  for (auto* v : {&a.train, &a.val, &a.test})
    for (auto& s : *v) EXPECT_TRUE(all.insert(s).second) << s << " is in two sides";
  EXPECT_EQ(all.size(), 25u);
  // Same seed, any input order, duplicates (several slices of a volume): same split.
  std::vector<std::string> shuffled = ids;
  std::reverse(shuffled.begin(), shuffled.end());
  shuffled.insert(shuffled.end(), ids.begin(), ids.begin() + 5);
  Split b = split_cases(shuffled, {0.7, 0.15, 0.15}, 1234);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_EQ(a.test, b.test);
  // Another seed gives another split.
  Split c = split_cases(ids, {0.7, 0.15, 0.15}, 99);
  EXPECT_NE(a.test, c.test);
  // Lists come back in natural order.
  EXPECT_TRUE(std::is_sorted(a.train.begin(), a.train.end(), natural_less));
}

TEST(Split, SmallAndInvalid) {
  Split s = split_cases(cases(3), {0.6, 0.2, 0.2}, 1);
  EXPECT_EQ(s.train.size(), 1u);
  EXPECT_EQ(s.val.size(), 1u);
  EXPECT_EQ(s.test.size(), 1u);
  Split one = split_cases(cases(1), {0.7, 0.15, 0.15}, 1);
  EXPECT_EQ(one.train.size(), 1u);
  EXPECT_THROW(split_cases(cases(4), {0.5, 0.5, 0.5}, 1), Error);
  EXPECT_THROW(split_cases({}, {}, 1), Error);
}

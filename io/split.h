// Train / validation / test splits by CASE (a patient volume), never by slice: slices of one volume
// are strongly correlated, so they must all land on the same side.
//
// Rule (deterministic; the listing order of the input does not matter):
//   1. the distinct case ids are sorted (natural order: "volume-2" before "volume-10");
//   2. they are shuffled by Fisher-Yates with gb::Generator(seed, stream kSplitStream): for i = n-1 .. 1,
//      j = next_int(0, i + 1), swap(i, j);
//   3. n_test = round(n * test), n_val = round(n * val) (each at least 1 when its fraction is > 0 and
//      n >= 3), train gets the rest (at least 1); the first n_test shuffled cases are test, the next
//      n_val val, the rest train. Each list is returned in natural order.
// Fractions must be >= 0 and sum to 1 (within 1e-6).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/dataset.h"

namespace gb::io {

struct SplitFractions {
  double train = 0.7, val = 0.15, test = 0.15;
};

struct Split {
  std::vector<std::string> train, val, test;  // case ids
};

constexpr uint64_t kSplitStream = 0x5911700ull;  // the Philox stream used by split_cases

Split split_cases(const std::vector<std::string>& case_ids, const SplitFractions& f = {}, uint64_t seed = 1234);
// Same, over a dataset's cases.
Split split_dataset(const Dataset& ds, const SplitFractions& f = {}, uint64_t seed = 1234);
// "volume-2" < "volume-10": digit runs compare by value.
bool natural_less(const std::string& a, const std::string& b);

}  // namespace gb::io

// LoaderOptions::min_label: training on the slices that show the liver (LiTS practice).
#include <gtest/gtest.h>

#include "io/dataset.h"
#include "io/loader.h"
#include "io/phantom.h"

using namespace gb;
using namespace gb::io;

// Counts the slices of every item whose label has a voxel >= min_label.
static int64_t count_slices(const Dataset& ds, int32_t min_label, int64_t* total) {
  int64_t n = 0;
  *total = 0;
  for (int64_t i = 0; i < ds.size(); ++i) {
    Sample s = ds.load(i);
    const int64_t D = s.label.data.size(0), HW = s.label.data.size(1) * s.label.data.size(2);
    auto v = s.label.data.to_vector_as<int32_t>();
    for (int64_t k = 0; k < D; ++k) {
      bool any = false;
      for (int64_t j = 0; j < HW; ++j) any |= v[k * HW + j] >= min_label;
      n += any;
      ++*total;
    }
  }
  return n;
}

TEST(LoaderFilter, MinLabelKeepsExactlyTheSlicesShowingIt) {
  PhantomOptions o;
  o.width = o.height = 40;
  o.depth = 24;
  auto ds = open_phantom(11, 2, o);
  for (int32_t min_label : {1, 2}) {
    int64_t total = 0, expect = count_slices(*ds, min_label, &total);
    ASSERT_GT(expect, 0);
    if (min_label == 2) {
      ASSERT_LT(expect, total) << "tumours should not reach every slice";
    }
    LoaderOptions lo;
    lo.batch_size = 1;
    lo.pre.height = lo.pre.width = 40;
    lo.min_label = min_label;
    Loader l(*ds, lo);
    l.start_epoch(0);
    Batch b;
    int64_t n = 0;
    while (l.next(b)) {
      auto v = b.label.to_vector_as<int32_t>();
      bool any = false;
      for (int32_t x : v) any |= x >= min_label;
      EXPECT_TRUE(any) << b.ids[0];
      ++n;
    }
    EXPECT_EQ(n, expect) << "min_label " << min_label;
  }
}

TEST(LoaderFilter, OversamplingRepeatsTumourSlices) {
  PhantomOptions o;
  o.width = o.height = 40;
  o.depth = 24;
  auto ds = open_phantom(11, 2, o);
  int64_t total = 0, tumour = count_slices(*ds, 2, &total);
  ASSERT_GT(tumour, 0);
  LoaderOptions lo;
  lo.batch_size = 1;
  lo.pre.height = lo.pre.width = 40;
  lo.oversample_label = 2;
  lo.oversample_times = 3;
  Loader l(*ds, lo);
  l.start_epoch(0);
  Batch b;
  int64_t n = 0, with_tumour = 0;
  while (l.next(b)) {
    ++n;
    for (int32_t x : b.label.to_vector_as<int32_t>())
      if (x == 2) {
        ++with_tumour;
        break;
      }
  }
  EXPECT_EQ(n, total + 2 * tumour);
  EXPECT_EQ(with_tumour, 3 * tumour);
}

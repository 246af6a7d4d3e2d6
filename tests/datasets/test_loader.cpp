#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

#include "datasets_test_util.h"
#include "io/dataset.h"
#include "io/image.h"
#include "io/loader.h"
#include "io/phantom.h"

using namespace gb;
using namespace gb::io;
namespace fs = std::filesystem;

namespace {

PhantomOptions small() {
  PhantomOptions o;
  o.width = o.height = 40;
  o.depth = 6;
  return o;
}

std::vector<Batch> epoch(Loader& l, int64_t e, int sleep_every = 0) {
  l.start_epoch(e);
  std::vector<Batch> out;
  Batch b;
  int n = 0;
  while (l.next(b)) {
    out.push_back(b);
    if (sleep_every && ++n % sleep_every == 0) std::this_thread::sleep_for(std::chrono::milliseconds(15));
  }
  return out;
}

bool same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].ids != b[i].ids || a[i].image.shape() != b[i].image.shape()) return false;
    if (std::memcmp(a[i].image.raw_data(), b[i].image.raw_data(), 4 * (size_t)a[i].image.numel()) != 0) return false;
    if (std::memcmp(a[i].label.raw_data(), b[i].label.raw_data(), 4 * (size_t)a[i].label.numel()) != 0) return false;
  }
  return true;
}

}  // namespace

TEST(Loader, VolumesDeterministicBoundedAndComplete) {
  auto ds = open_phantom(5, 5, small());
  LoaderOptions o;
  o.batch_size = 4;
  o.pre.height = o.pre.width = 24;
  o.augment = true;
  o.cache_volumes = 2;
  o.queue_batches = 2;
  o.seed = 77;
  Loader a(*ds, o), b(*ds, o);
  std::vector<Batch> ea = epoch(a, 0), eb = epoch(b, 0, 1);  // b's consumer is slow: timing differs
  EXPECT_TRUE(same_batches(ea, eb));
  // 5 volumes x 6 slices = 30 samples: 7 batches of 4 and one of 2.
  ASSERT_EQ(ea.size(), 8u);
  EXPECT_EQ(ea[0].image.shape(), (Shape{4, 1, 24, 24}));
  EXPECT_EQ(ea[0].label.shape(), (Shape{4, 24, 24}));
  EXPECT_EQ(ea[7].image.size(0), 2);
  std::set<std::string> ids;
  for (const Batch& x : ea)
    for (const std::string& id : x.ids) EXPECT_TRUE(ids.insert(id).second) << id << " twice";
  EXPECT_EQ(ids.size(), 30u);
  for (const Batch& x : ea) {
    for (double v : x.image.to_vector()) ASSERT_TRUE(v >= 0 && v <= 1);
    for (double v : x.label.to_vector()) ASSERT_TRUE(v == 0 || v == 1 || v == 2);
  }
  LoaderStats s = b.stats();
  EXPECT_LE(s.max_cached, 2);
  EXPECT_LE(s.max_queued, 2);
  EXPECT_EQ(s.volume_loads, 5);  // each volume read once per epoch
  EXPECT_EQ(a.samples_per_epoch(), 30);
  // Another epoch reshuffles; another seed gives other batches.
  std::vector<Batch> e1 = epoch(a, 1);
  EXPECT_FALSE(same_batches(ea, e1));
  LoaderOptions o2 = o;
  o2.seed = 78;
  Loader c(*ds, o2);
  EXPECT_FALSE(same_batches(ea, epoch(c, 0)));
  // Restarting an epoch mid-way and replaying gives the same batches again.
  a.start_epoch(0);
  Batch first;
  ASSERT_TRUE(a.next(first));
  EXPECT_TRUE(same_batches(ea, epoch(a, 0)));
}

TEST(Loader, TwoAndAHalfDAndNoShuffle) {
  auto ds = open_phantom(6, 2, small());
  LoaderOptions o;
  o.batch_size = 6;
  o.pre.height = o.pre.width = 40;
  o.pre.channels = 3;
  o.pre.context_2p5d = true;
  o.shuffle = false;
  o.cache_volumes = 1;
  Loader l(*ds, o);
  std::vector<Batch> e = epoch(l, 0);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].ids[0], "volume-0:0");
  EXPECT_EQ(e[0].image.shape(), (Shape{6, 3, 40, 40}));
  // Without augmentation and at native size, channel 1 of sample k is the windowed slice k and
  // channel 0 of sample 0 replicates it (edge).
  Sample s = ds->load(0);
  Tensor w = window_hu(s.image.data);
  const float* img = e[0].image.data<float>();
  const float* ref = w.data<float>();
  const int64_t hw = 40 * 40;
  EXPECT_EQ(std::memcmp(img + 1 * hw, ref, 4 * hw), 0);             // sample 0, centre = slice 0
  EXPECT_EQ(std::memcmp(img + 0 * hw, ref, 4 * hw), 0);             // sample 0, k-1 -> slice 0
  EXPECT_EQ(std::memcmp(img + 2 * hw, ref + hw, 4 * hw), 0);        // sample 0, k+1 = slice 1
  EXPECT_EQ(std::memcmp(img + (3 * 3 + 0) * hw, ref + 2 * hw, 4 * hw), 0);  // sample 3, k-1 = slice 2
  EXPECT_EQ(l.stats().max_cached, 1);
  EXPECT_THROW(Loader(*ds, [] { LoaderOptions x; x.pre.context_2p5d = true; x.pre.channels = 1; return x; }()), Error);
}

TEST(Loader, SliceFolderBatches) {
  gbtest::ScratchDir d("loader_slices");
  fs::create_directories(d.path / "images");
  fs::create_directories(d.path / "masks");
  for (int v : {1, 2})
    for (int s = 0; s < 5; ++s) {
      std::string stem = "volume-" + std::to_string(v) + "_slice_" + std::to_string(s);
      write_png(d.str("images/" + stem + ".png"), gbtest::grey_image(20, 16, [&](int64_t y, int64_t x) {
                  return (int)(y * 7 + x * 3 + 40 * s + v) % 256;
                }));
      write_png(d.str("masks/" + stem + "_mask.png"),
                gbtest::grey_image(20, 16, [&](int64_t y, int64_t x) { return (y > 5 && x > 4) ? 1 + (s % 2) : 0; }));
    }
  auto ds = open_slice_folder(d.str());
  LoaderOptions o;
  o.pre.units = Units::Pixel8;
  o.batch_size = 3;
  o.pre.height = o.pre.width = 32;
  o.augment = true;
  o.seed = 3;
  o.drop_last = true;
  Loader a(*ds, o), b(*ds, o);
  std::vector<Batch> ea = epoch(a, 0), eb = epoch(b, 0, 1);
  EXPECT_EQ(ea.size(), 3u);  // 10 samples, drop_last
  EXPECT_TRUE(same_batches(ea, eb));
  EXPECT_EQ(ea[0].image.shape(), (Shape{3, 1, 32, 32}));
  // Restrict to one case (a split).
  LoaderOptions oc = o;
  oc.items = ds->items_of_cases({"volume-2"});
  oc.drop_last = false;
  Loader c(*ds, oc);
  int64_t n = 0;
  for (const Batch& x : epoch(c, 0))
    for (const std::string& id : x.ids) {
      EXPECT_EQ(id.rfind("volume-2_", 0), 0u) << id;
      ++n;
    }
  EXPECT_EQ(n, 5);
  // 2.5-D over exported slices works too.
  LoaderOptions o3 = o;
  o3.pre.channels = 3;
  o3.pre.context_2p5d = true;
  Loader e(*ds, o3);
  EXPECT_EQ(epoch(e, 0)[0].image.shape(), (Shape{3, 3, 32, 32}));
}

TEST(Loader, ErrorsReachTheCaller) {
  gbtest::ScratchDir d("loader_bad");
  fs::create_directories(d.path / "images");
  fs::create_directories(d.path / "masks");
  write_png(d.str("images/a_slice_0.png"), gbtest::grey_image(4, 4, [](int64_t, int64_t) { return 0; }));
  write_png(d.str("masks/a_slice_0_mask.png"), gbtest::grey_image(4, 4, [](int64_t, int64_t) { return 5; }));
  auto ds = open_slice_folder(d.str());
  LoaderOptions o;
  o.pre.units = Units::Pixel8;
  o.batch_size = 1;
  Loader l(*ds, o);
  l.start_epoch(0);
  Batch b;
  std::string e = gbtest::error_of([&] { l.next(b); });
  EXPECT_NE(e.find("a_slice_0_mask.png"), std::string::npos) << e;
}

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include "io/patch_loader.h"
#include "train3d_test_util.h"

using namespace gb;
using namespace gb::io;
using gb::test3d::MemoryDataset;

namespace {

std::vector<int64_t> all(const Dataset& ds) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < ds.size(); ++i) v.push_back(i);
  return v;
}

// Patch origin from an id "<item>@z,y,x".
std::array<int64_t, 3> origin_of(const std::string& id) {
  std::array<long long, 3> o{};
  const size_t at = id.rfind('@');
  EXPECT_NE(at, std::string::npos) << id;
  EXPECT_EQ(std::sscanf(id.c_str() + at + 1, "%lld,%lld,%lld", &o[0], &o[1], &o[2]), 3) << id;
  return {o[0], o[1], o[2]};
}
std::string item_of(const std::string& id) { return id.substr(0, id.rfind('@')); }

bool same(const Batch& a, const Batch& b) {
  return a.ids == b.ids && a.image.shape() == b.image.shape() && a.label.shape() == b.label.shape() &&
         std::memcmp(a.image.raw_data(), b.image.raw_data(), 4 * (size_t)a.image.numel()) == 0 &&
         std::memcmp(a.label.raw_data(), b.label.raw_data(), 4 * (size_t)a.label.numel()) == 0;
}

// Sample i of b is the box of the windowed source volume at its origin, 0 outside the volume.
void expect_crop_of(const Batch& b, int64_t i, const Tensor& image01, const Tensor& label, const PatchLoaderOptions& o) {
  const auto org = origin_of(b.ids[(size_t)i]);
  const auto& p = o.patch;
  const int64_t D = image01.size(0), H = image01.size(1), W = image01.size(2);
  int64_t bad = 0;
  for (int64_t z = 0; z < p[0]; ++z)
    for (int64_t y = 0; y < p[1]; ++y)
      for (int64_t x = 0; x < p[2]; ++x) {
        const int64_t sz = org[0] + z, sy = org[1] + y, sx = org[2] + x;
        const bool in = sz >= 0 && sz < D && sy >= 0 && sy < H && sx >= 0 && sx < W;
        const double want_i = in ? image01.at({sz, sy, sx}) : 0.0, want_l = in ? label.at({sz, sy, sx}) : 0.0;
        bad += b.image.at({i, 0, z, y, x}) != want_i || b.label.at({i, z, y, x}) != want_l;
      }
  EXPECT_EQ(bad, 0) << "sample " << i << " " << b.ids[(size_t)i];
}

bool has_label(const Batch& b, int64_t i, int32_t want) {  // want 0: any >= 1
  Tensor l = b.label.view_slice(0, i, i + 1).contiguous();
  const int32_t* p = l.data<int32_t>();
  for (int64_t k = 0; k < l.numel(); ++k)
    if (want == 0 ? p[k] >= 1 : p[k] == want) return true;
  return false;
}

}  // namespace

TEST(PatchLoader, ShapesRangeAndCropsOfTheWindowedVolume) {
  auto ds = open_phantom(3, 3, test3d::small_phantom());
  PatchLoaderOptions o;
  o.batch_size = 3;
  o.patch = {8, 16, 24};
  o.seed = 9;
  PatchLoader pl(*ds, {0, 2}, o);  // a split: item 1 must never appear
  for (int64_t s = 0; s < 4; ++s) {
    Batch b = pl.batch(s);
    ASSERT_EQ(b.image.shape(), (Shape{3, 1, 8, 16, 24}));
    ASSERT_EQ(b.label.shape(), (Shape{3, 8, 16, 24}));
    EXPECT_EQ(b.image.dtype(), DType::F32);
    EXPECT_EQ(b.label.dtype(), DType::I32);
    ASSERT_EQ(b.ids.size(), 3u);
    EXPECT_EQ(b.index, s);
    for (int64_t i = 0; i < 3; ++i) {
      const std::string item = item_of(b.ids[(size_t)i]);
      ASSERT_TRUE(item == "volume-0" || item == "volume-2") << b.ids[(size_t)i];
      Sample src = ds->load(item == "volume-0" ? 0 : 2);
      const auto org = origin_of(b.ids[(size_t)i]);
      for (int a = 0; a < 3; ++a) {  // the volume is larger than the patch: no padding
        EXPECT_GE(org[(size_t)a], 0);
        EXPECT_LE(org[(size_t)a] + o.patch[(size_t)a], src.image.data.size(a));
      }
      expect_crop_of(b, i, to_unit_range(src.image.data, Units::HU, o.window), src.label.data, o);
    }
  }
}

TEST(PatchLoader, FirstForcedFollowsNnUNet) {
  EXPECT_EQ(first_forced(2, 1.0 / 3.0), 1);  // nnU-Net's batch of 2: the second sample is forced
  EXPECT_EQ(first_forced(3, 1.0 / 3.0), 2);
  EXPECT_EQ(first_forced(4, 1.0), 0);
  EXPECT_EQ(first_forced(4, 0.0), 4);
}

TEST(PatchLoader, ForcedSamplesContainForeground) {
  auto ds = open_phantom(4, 2, test3d::small_phantom());
  PatchLoaderOptions o;
  o.batch_size = 4;
  o.patch = {2, 4, 4};  // small against the volume, so uniform patches often miss
  for (int32_t want : {0, 2}) {
    o.foreground_label = want;
    int64_t uniform_hits = 0, n = 0;
    o.foreground_fraction = 1.0;
    PatchLoader forced(*ds, all(*ds), o);
    o.foreground_fraction = 0.0;
    PatchLoader uniform(*ds, all(*ds), o);
    for (int64_t s = 0; s < 10; ++s) {
      Batch b = forced.batch(s), u = uniform.batch(s);
      for (int64_t i = 0; i < 4; ++i, ++n) {
        EXPECT_TRUE(has_label(b, i, want)) << "label " << want << " step " << s << " " << b.ids[(size_t)i];
        uniform_hits += has_label(u, i, want);
      }
    }
    EXPECT_EQ(forced.stats().forced, n);
    EXPECT_EQ(forced.stats().forced_fallback, 0);  // every phantom has liver and a tumour
    EXPECT_EQ(uniform.stats().forced, 0);
    EXPECT_LT(uniform_hits, n) << "the test cannot tell forcing from chance at this patch size";
  }
  // nnU-Net's split: with fraction 1/3 and B = 3 only the last sample of each batch is forced.
  o.foreground_label = 2;
  o.foreground_fraction = 1.0 / 3.0;
  o.batch_size = 3;
  PatchLoader third(*ds, all(*ds), o);
  for (int64_t s = 0; s < 10; ++s) EXPECT_TRUE(has_label(third.batch(s), 2, 2)) << "step " << s;
  EXPECT_EQ(third.stats().forced, 10);
}

TEST(PatchLoader, BatchIsAPureFunctionOfSeedAndStep) {
  auto ds = open_phantom(5, 4, test3d::small_phantom(40, 16));
  PatchLoaderOptions o;
  o.batch_size = 2;
  o.patch = {8, 16, 16};
  o.cache_volumes = 2;
  o.steps_per_group = 2;
  o.seed = 21;
  PatchLoader a(*ds, all(*ds), o), b(*ds, all(*ds), o);
  const Batch a7 = a.batch(7);  // a: step 7 first, from an empty cache
  for (int64_t s = 0; s < 7; ++s) b.batch(s);  // b: steps 0..6 first (another cache state)
  EXPECT_TRUE(same(a7, b.batch(7)));
  EXPECT_TRUE(same(a.batch(3), b.batch(3)));  // going back (a resumed run) too
  EXPECT_FALSE(same(a.batch(7), a.batch(8)));
  EXPECT_FALSE(same(a.batch(0), a.batch(1)));
  o.seed = 22;
  PatchLoader c(*ds, all(*ds), o);
  EXPECT_FALSE(same(a.batch(7), c.batch(7)));
}

TEST(PatchLoader, GroupsBoundTheCacheAndCoverEveryItemEachRound) {
  auto ds = open_phantom(6, 6, test3d::small_phantom(32, 12));
  PatchLoaderOptions o;
  o.batch_size = 2;
  o.patch = {4, 8, 8};
  o.cache_volumes = 2;
  o.steps_per_group = 3;
  PatchLoader pl(*ds, all(*ds), o);
  std::multiset<int64_t> round;
  for (int64_t g = 0; g < 3; ++g) {  // 6 items / K = 2: three groups per round
    auto items = pl.group_items(g * 3);
    EXPECT_EQ(items.size(), 2u);
    EXPECT_EQ(pl.group_items(g * 3 + 2), items);  // one group serves steps_per_group steps
    round.insert(items.begin(), items.end());
  }
  EXPECT_EQ(round, (std::multiset<int64_t>{0, 1, 2, 3, 4, 5}));
  for (int64_t s = 0; s < 9; ++s) {
    Batch b = pl.batch(s);
    auto items = pl.group_items(s);
    for (const auto& id : b.ids) {
      const int64_t k = std::stoll(item_of(id).substr(7));  // "volume-k"
      EXPECT_TRUE(std::find(items.begin(), items.end(), k) != items.end()) << id << " at step " << s;
    }
  }
  EXPECT_LE(pl.stats().max_cached, 2);
  EXPECT_LE(pl.stats().volume_loads, 6);  // each group's two volumes once
}

TEST(PatchLoader, PadsVolumesSmallerThanThePatch) {
  // image HU [3, 5, 7]: windowed values (v - lo) / (hi - lo) known; label = 1 + (x % 2)
  const int64_t D = 3, H = 5, W = 7;
  Tensor hu = Tensor::empty({D, H, W}), lab = Tensor::empty({D, H, W}, DType::I32);
  for (int64_t i = 0; i < hu.numel(); ++i) {
    hu.data<float>()[i] = -150.0f + 2.0f * (float)i;  // inside the default window [-200, 250]
    lab.data<int32_t>()[i] = 1 + (int32_t)(i % W % 2);
  }
  MemoryDataset ds({test3d::make_sample("small", hu, lab)});
  PatchLoaderOptions o;
  o.batch_size = 2;
  o.patch = {6, 8, 4};  // D and H padded; W = 7 > 4 cropped
  o.foreground_fraction = 0.5;
  PatchLoader pl(ds, {0}, o);
  Tensor image01 = to_unit_range(hu, Units::HU, o.window);
  for (int64_t s = 0; s < 6; ++s) {
    Batch b = pl.batch(s);
    for (int64_t i = 0; i < 2; ++i) {
      const auto org = origin_of(b.ids[(size_t)i]);
      EXPECT_EQ(org[0], -1);  // (6 - 3) / 2 = 1 voxel before, 2 after
      EXPECT_EQ(org[1], -1);  // (8 - 5) / 2
      EXPECT_GE(org[2], 0);
      EXPECT_LE(org[2], W - 4);
      expect_crop_of(b, i, image01, lab, o);
    }
    // The padding itself: image 0 (air) and label 0 in the first and last slices.
    EXPECT_EQ(b.image.at({0, 0, 0, 3, 2}), 0.0);
    EXPECT_EQ(b.label.at({1, 5, 7, 0}), 0.0);
    EXPECT_GT(b.image.at({0, 0, 1, 1, 0}), 0.0);  // a voxel of the volume (HU >= -150 -> > 0.11)
  }
}

TEST(PatchLoader, RejectsBadInput) {
  auto ds = open_phantom(1, 2, test3d::small_phantom(32, 8));
  PatchLoaderOptions o;
  auto msg = [&](std::vector<int64_t> items, const PatchLoaderOptions& oo, const Dataset& d) -> std::string {
    try {
      PatchLoader pl(d, std::move(items), oo);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(msg({}, o, *ds).find("item list is empty"), std::string::npos);
  EXPECT_NE(msg({5}, o, *ds).find("out of range"), std::string::npos);
  PatchLoaderOptions bad = o;
  bad.patch = {16, 0, 32};
  EXPECT_NE(msg({0}, bad, *ds).find("patch size must be positive"), std::string::npos);
  bad = o;
  bad.foreground_fraction = 1.5;
  EXPECT_NE(msg({0}, bad, *ds).find("foreground_fraction"), std::string::npos);
  bad = o;
  bad.batch_size = 0;
  EXPECT_NE(msg({0}, bad, *ds).find("batch_size"), std::string::npos);
  // 2-D slice datasets cannot give 3-D patches.
  io::Sample s;
  s.info.id = "slice";
  s.is_volume = false;
  s.image.data = Tensor::zeros({1, 8, 8});
  s.label.data = Tensor::zeros({8, 8}, DType::I32);
  MemoryDataset slices({s}, false);
  EXPECT_NE(msg({0}, o, slices).find("volume dataset"), std::string::npos);
  // A volume whose label does not match the image: named on load.
  MemoryDataset mismatch({test3d::make_sample("bad", Tensor::zeros({4, 4, 4}), Tensor::zeros({4, 4, 5}, DType::I32))});
  PatchLoader pl(mismatch, {0}, o);
  EXPECT_THROW(pl.batch(0), Error);
  EXPECT_THROW(pl.batch(-1), Error);
}

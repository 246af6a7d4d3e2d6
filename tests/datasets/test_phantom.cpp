#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "io/dataset.h"
#include "io/phantom.h"
#include "tensor/cpu/parallel.h"

using namespace gb;
using namespace gb::io;

namespace {
bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), (size_t)a.numel() * dtype_size(a.dtype())) == 0;
}
}  // namespace

TEST(Phantom, SameSeedIsBitwiseIdenticalAnyThreadCount) {
  PhantomCase a = make_phantom(42, 3);
  int saved = cpu::num_threads();
  cpu::set_num_threads(1);
  PhantomCase b = make_phantom(42, 3);
  cpu::set_num_threads(saved);
  EXPECT_TRUE(bitwise_equal(a.image.data, b.image.data));
  EXPECT_TRUE(bitwise_equal(a.label.data, b.label.data));
  EXPECT_EQ(a.image.spacing, b.image.spacing);
  // Another seed, or another case of the same seed, is a different volume.
  PhantomCase c = make_phantom(43, 3);
  PhantomCase d = make_phantom(42, 4);
  EXPECT_FALSE(bitwise_equal(a.image.data, c.image.data));
  EXPECT_FALSE(bitwise_equal(a.label.data, c.label.data));
  EXPECT_FALSE(bitwise_equal(a.image.data, d.image.data));
}

TEST(Phantom, GeometryAndSpacing) {
  PhantomCase a = make_phantom(7, 0);
  EXPECT_EQ(a.image.data.shape(), (Shape{48, 128, 128}));
  EXPECT_EQ(a.image.data.dtype(), DType::F32);
  EXPECT_EQ(a.label.data.dtype(), DType::I32);
  // In-plane: 0.7-0.8 mm at 512 px, scaled to 128 px; slices 2.5-5 mm.
  EXPECT_GE(a.image.spacing[0], 0.7 * 4);
  EXPECT_LE(a.image.spacing[0], 0.8 * 4);
  EXPECT_EQ(a.image.spacing[0], a.image.spacing[1]);
  EXPECT_GE(a.image.spacing[2], 2.5);
  EXPECT_LE(a.image.spacing[2], 5.0);
  // RAS affine: i -> patient left (-x), j -> posterior (-y), k -> superior (+z).
  EXPECT_DOUBLE_EQ(a.image.affine[0][0], -a.image.spacing[0]);
  EXPECT_DOUBLE_EQ(a.image.affine[1][1], -a.image.spacing[1]);
  EXPECT_DOUBLE_EQ(a.image.affine[2][2], a.image.spacing[2]);
  PhantomOptions o;
  o.width = 64;
  o.height = 48;
  o.depth = 5;
  o.pixel_mm = 1.5;
  o.slice_mm = 2.5;
  PhantomCase s = make_phantom(7, 0, o);
  EXPECT_EQ(s.image.data.shape(), (Shape{5, 48, 64}));
  EXPECT_EQ(s.label.spacing, (std::array<double, 3>{1.5, 1.5, 2.5}));
}

TEST(Phantom, LabelsMatchTheImage) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    PhantomCase p = make_phantom(seed, 0);
    const float* hu = p.image.data.data<float>();
    const int32_t* lab = p.label.data.data<int32_t>();
    const int64_t n = p.image.data.numel();
    std::vector<float> liver, tumour;
    int64_t air = 0, bone = 0, outside_range = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (lab[i] == 1) liver.push_back(hu[i]);
      else if (lab[i] == 2) tumour.push_back(hu[i]);
      else if (lab[i] != 0) ++outside_range;
      if (hu[i] < -900) ++air;
      if (hu[i] > 400) ++bone;
      ASSERT_EQ(hu[i], std::nearbyint(hu[i]));  // whole HU
    }
    EXPECT_EQ(outside_range, 0);
    ASSERT_GT(liver.size(), 10000u) << seed;
    ASSERT_GT(tumour.size(), 20u) << seed;
    EXPECT_GT(air, n / 20) << "air outside the body";
    EXPECT_GT(bone, 100) << "spine";
    std::sort(liver.begin(), liver.end());
    std::sort(tumour.begin(), tumour.end());
    double mean = 0;
    for (float v : liver) mean += v;
    mean /= (double)liver.size();
    float med = liver[liver.size() / 2];
    EXPECT_NEAR(mean, 60.0, 15.0) << seed;  // vessels and edge blur pull the mean a little
    EXPECT_NEAR(med, 60.0, 8.0) << seed;
    // Tumours differ from liver (hypo- 20-40 or hyperdense 90-120 HU).
    EXPECT_GT(std::fabs(tumour[tumour.size() / 2] - med), 12.0) << seed;
  }
}

TEST(Phantom, TumoursLieInsideTheLiver) {
  // Tumours are drawn after all other anatomy, so the same case without tumours has the same liver:
  // every tumour voxel must be liver there, and the liver outline (labels 1 + 2) must not change.
  PhantomOptions none;
  none.min_tumours = none.max_tumours = 0;
  for (uint64_t seed : {11u, 12u}) {
    PhantomCase with = make_phantom(seed, 0);
    PhantomCase clean = make_phantom(seed, 0, none);
    EXPECT_GT(with.tumours, 0);
    EXPECT_EQ(clean.tumours, 0);
    const int32_t* a = with.label.data.data<int32_t>();
    const int32_t* b = clean.label.data.data<int32_t>();
    int64_t tumour = 0;
    for (int64_t i = 0; i < with.label.data.numel(); ++i) {
      ASSERT_NE(b[i], 2);
      ASSERT_EQ(a[i] != 0, b[i] != 0) << "liver outline changed at voxel " << i;
      if (a[i] == 2) {
        ++tumour;
        ASSERT_EQ(b[i], 1) << "tumour voxel " << i << " outside the liver";
      }
    }
    EXPECT_GT(tumour, 20);
  }
}

TEST(Phantom, FastEnough) {
  auto t0 = std::chrono::steady_clock::now();
  PhantomCase p = make_phantom(5, 1);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("phantom 128x128x48: %.3f s\n", s);
  EXPECT_LT(s, 3.0);  // well under a second on a desktop; generous for sanitizer/CI builds
  EXPECT_GT(p.tumours, 0);
}

TEST(Phantom, DatasetInMemory) {
  PhantomOptions o;
  o.width = o.height = 32;
  o.depth = 4;
  auto ds = open_phantom(9, 3, o);
  EXPECT_EQ(ds->size(), 3);
  EXPECT_TRUE(ds->is_volume());
  EXPECT_EQ(ds->case_ids(), (std::vector<std::string>{"volume-0", "volume-1", "volume-2"}));
  Sample s = ds->load(1);
  EXPECT_EQ(s.info.case_id, "volume-1");
  EXPECT_EQ(s.image.data.shape(), (Shape{4, 32, 32}));
  EXPECT_EQ(s.image.data.to_vector(), make_phantom(9, 1, o).image.data.to_vector());
}

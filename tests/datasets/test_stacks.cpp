// The complete stacks of a slice folder as volumes (io::open_slice_stacks, data spec stacks:FOLDER[:SIZE]).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "datasets_test_util.h"
#include "io/dataset.h"
#include "io/image.h"
#include "io/preprocess.h"
#include "io/preprocess_spec.h"
#include "train/run.h"

using namespace gb;
using namespace gb::io;
using gbtest::error_of;
using gbtest::ScratchDir;
namespace fs = std::filesystem;

namespace {

// volume-3: slices 0, 2, 4, 6 (a complete stack, step 2); volume-5: 0, 2, 6 (a gap: not a stack);
// volume-8: 1, 3, 5 (complete, starting at 1). 16x20 pixels; masks: liver box, a tumour pixel on slice 2.
void make_folder(const ScratchDir& d) {
  fs::create_directories(d.path / "images");
  fs::create_directories(d.path / "masks");
  std::ofstream m(d.str("manifest.csv"));
  m << "image,mask,volume,slice\n";
  const std::vector<std::pair<int, std::vector<int>>> vols{{3, {6, 0, 4, 2}}, {5, {0, 2, 6}}, {8, {1, 3, 5}}};
  for (auto& [v, ss] : vols)
    for (int s : ss) {
      const std::string stem = "volume-" + std::to_string(v) + "_slice_" + std::to_string(s);
      write_png(d.str("images/" + stem + ".png"),
                gbtest::grey_image(16, 20, [&](int64_t y, int64_t x) { return (int)(y * 7 + x * 3 + v * 11 + s * 5) % 256; }));
      write_png(d.str("masks/" + stem + "_mask.png"), gbtest::grey_image(16, 20, [&](int64_t y, int64_t x) {
                  return (y >= 4 && y < 12 && x >= 5 && x < 15) ? ((y == 6 && x == 7 && s == 2) ? 2 : 1) : 0;
                }));
      m << stem << ".png," << stem << "_mask.png," << v << "," << s << "\n";
    }
}

}  // namespace

TEST(SliceStacks, KeepsOnlyEvenlySampledVolumesInSliceOrder) {
  ScratchDir d("stacks");
  make_folder(d);
  auto ds = open_slice_stacks(d.str());
  EXPECT_TRUE(ds->is_volume());
  EXPECT_EQ(ds->units(), Units::Pixel8);
  ASSERT_EQ(ds->size(), 2);  // volume-5 has a gap of 4 where the export's step is 2
  EXPECT_EQ(ds->case_ids(), (std::vector<std::string>{"volume-3", "volume-8"}));
  Sample s = ds->load(0);
  EXPECT_FALSE(s.has_spacing);
  ASSERT_EQ(s.image.data.shape(), (Shape{4, 16, 20}));
  ASSERT_EQ(s.label.data.shape(), (Shape{4, 16, 20}));
  // Plane k is slice 2k, bit for bit the slice file (grey), and its mask.
  auto slices = open_slice_folder(d.str());
  for (int64_t k = 0; k < 4; ++k) {
    const int64_t item = slices->items_of_cases({"volume-3"})[(size_t)k];
    ASSERT_EQ(slices->item(item).slice, 2 * k);
    Sample f = slices->load(item);
    EXPECT_EQ(volume_slice(s.image.data, k, 0).contiguous().to_vector(), f.image.data.to_vector()) << k;
    EXPECT_EQ(label_slice(s.label.data, k).contiguous().to_vector(), f.label.data.to_vector()) << k;
  }
  EXPECT_EQ(label_slice(s.label.data, 1).to_vector()[6 * 20 + 7], 2.0);  // the tumour pixel on slice 2
}

TEST(SliceStacks, ResizedStacksFeedA2DModelWhatItsSlicesWould) {
  ScratchDir d("stacks_resize");
  make_folder(d);
  auto ds = open_slice_stacks(d.str(), 32);
  Sample s = ds->load(1);  // volume-8
  ASSERT_EQ(s.image.data.shape(), (Shape{3, 32, 32}));
  // A 2-D model trained on the slices at 32x32 gets the same input from the stack (to f32 rounding).
  Preprocess pre;
  pre.units = Units::Pixel8;
  pre.height = pre.width = 32;
  auto slices = open_slice_folder(d.str());
  for (int64_t k = 0; k < 3; ++k) {
    Sample f = slices->load(slices->items_of_cases({"volume-8"})[(size_t)k]);
    auto a = model_input_image(f.image.data, pre).to_vector();
    auto b = model_input_slice(s.image.data, k, pre).to_vector();
    ASSERT_EQ(a.size(), b.size());
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    EXPECT_LT(worst, 1e-5) << k;
    EXPECT_EQ(pre_resize_label(f.label.data, pre).to_vector(), label_slice(s.label.data, k).contiguous().to_vector()) << k;
  }
}

TEST(SliceStacks, DataSpecAndBadInputs) {
  ScratchDir d("stacks_spec");
  make_folder(d);
  auto ds = train::open_data("stacks:" + d.str() + ":32", 1, 128, 32);
  EXPECT_EQ(ds->size(), 2);
  EXPECT_EQ(ds->load(0).image.data.shape(), (Shape{4, 32, 32}));
  EXPECT_NE(error_of([&] { train::open_data("stacks:" + d.str() + ":x9", 1, 128, 32); }).find("stacks:FOLDER:SIZE"),
            std::string::npos);
  EXPECT_NE(error_of([&] { train::open_data("stacks:" + d.str() + "/nope", 1, 128, 32); }).find("is not a folder"),
            std::string::npos);
  EXPECT_NE(error_of([&] { open_slice_stacks(d.str(), 8); }).find("16..1024"), std::string::npos);
  // No complete stack: only volume-5 (with its gap) left.
  ScratchDir e("stacks_none");
  make_folder(e);
  fs::remove(e.path / "images/volume-5_slice_2.png");
  fs::remove(e.path / "masks/volume-5_slice_2_mask.png");
  for (int v : {3, 8})
    for (auto& f : fs::directory_iterator(e.path / "images"))
      if (f.path().filename().string().rfind("volume-" + std::to_string(v) + "_", 0) == 0) fs::remove(f.path());
  {  // rewrite the manifest for what is left: volume-5 slices 0 and 6
    std::ofstream m(e.str("manifest.csv"));
    m << "image,mask,volume,slice\nvolume-5_slice_0.png,volume-5_slice_0_mask.png,5,0\n"
      << "volume-5_slice_6.png,volume-5_slice_6_mask.png,5,6\n";
  }
  // Two slices 6 apart form a regular stack with step 6 (the only gap): that one is kept.
  EXPECT_EQ(open_slice_stacks(e.str())->size(), 1);
  {
    std::ofstream m(e.str("manifest.csv"));
    m << "image,mask,volume,slice\nvolume-5_slice_0.png,volume-5_slice_0_mask.png,5,0\n";
  }
  EXPECT_NE(error_of([&] { open_slice_stacks(e.str()); }).find("no complete slice stack"), std::string::npos);
}

TEST(SliceStacks, RealLitsSlicesHaveFourCompleteStacks) {
  const std::string dir = gbtest::shared_data_dir() + "/lits-slices";
  if (gbtest::shared_data_dir().empty() || !fs::exists(dir + "/manifest.csv")) GTEST_SKIP() << "no " << dir;
  auto ds = open_slice_stacks(dir, 64);
  // The data README: complete stacks (every second slice) for volumes 29, 35, 37 and 42.
  EXPECT_EQ(ds->case_ids(), (std::vector<std::string>{"volume-29", "volume-35", "volume-37", "volume-42"}));
  Sample s = ds->load(2);
  EXPECT_EQ(s.image.data.shape(), (Shape{61, 64, 64}));
  int64_t tumour = 0;
  for (double v : s.label.data.to_vector()) tumour += v == 2;
  EXPECT_GT(tumour, 0);
}

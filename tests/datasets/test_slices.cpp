#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "datasets_test_util.h"
#include "io/dataset.h"
#include "io/image.h"
#include "io/split.h"

using namespace gb;
using namespace gb::io;
using gbtest::error_of;
using gbtest::ScratchDir;
namespace fs = std::filesystem;

namespace {

// A small slice folder: volumes {3, 10} x slices {0, 2, 4}, 12x9 pixels, LiTS-export names.
void make_slice_folder(const ScratchDir& d, bool manifest) {
  fs::create_directories(d.path / "images");
  fs::create_directories(d.path / "masks");
  std::ofstream m;
  if (manifest) {
    m.open(d.str("manifest.csv"));
    m << "image,mask,volume,slice,liver_pixels,tumor_pixels\n";
  }
  for (int v : {10, 3})
    for (int s : {4, 0, 2}) {
      std::string stem = "volume-" + std::to_string(v) + "_slice_" + std::to_string(s);
      write_png(d.str("images/" + stem + ".png"), gbtest::grey_image(9, 12, [&](int64_t y, int64_t x) {
                  return (int)(y * 12 + x + v + s) % 256;
                }));
      write_png(d.str("masks/" + stem + "_mask.png"), gbtest::grey_image(9, 12, [&](int64_t y, int64_t x) {
                  return (y >= 2 && y < 6 && x >= 3 && x < 9) ? ((x == 4 && s == 2) ? 2 : 1) : 0;
                }));
      if (manifest) m << stem << ".png," << stem << "_mask.png," << v << "," << s << ",24," << (s == 2 ? 4 : 0) << "\n";
    }
}

}  // namespace

TEST(SliceFolder, GroupsByVolumeWithAndWithoutManifest) {
  for (bool manifest : {false, true}) {
    ScratchDir d("slices");
    make_slice_folder(d, manifest);
    auto ds = open_slice_folder(d.str());
    ASSERT_EQ(ds->size(), 6);
    EXPECT_FALSE(ds->is_volume());
    EXPECT_EQ(ds->units(), Units::Pixel8);
    // Sorted by case number, then slice: volume-3 (0, 2, 4), then volume-10.
    EXPECT_EQ(ds->case_ids(), (std::vector<std::string>{"volume-3", "volume-10"}));
    EXPECT_EQ(ds->item(0).id, "volume-3_slice_0");
    EXPECT_EQ(ds->item(1).slice, 2);
    EXPECT_EQ(ds->item(5).id, "volume-10_slice_4");
    EXPECT_EQ(ds->items_of_cases({"volume-10"}), (std::vector<int64_t>{3, 4, 5}));
    Sample s = ds->load(1);
    EXPECT_EQ(s.image.data.shape(), (Shape{1, 9, 12}));
    EXPECT_EQ(s.image.data.dtype(), DType::F32);
    EXPECT_EQ(s.label.data.shape(), (Shape{9, 12}));
    EXPECT_FALSE(s.has_spacing);
    EXPECT_EQ(s.image.data.at({0, 1, 1}), 12 + 1 + 3 + 2);
    int64_t tumour = 0;
    for (double v : s.label.data.to_vector()) tumour += v == 2;
    EXPECT_EQ(tumour, 4);
    // A split over this dataset never separates slices of one volume.
    Split sp = split_dataset(*ds, {0.5, 0.0, 0.5}, 1);
    EXPECT_EQ(sp.train.size() + sp.test.size(), 2u);
    EXPECT_EQ(ds->items_of_cases(sp.train).size(), 3u);
  }
  ScratchDir d("slices_auto");
  make_slice_folder(d, true);
  EXPECT_EQ(open_dataset(d.str())->size(), 6);
}

TEST(SliceFolder, BadInputsNameTheFile) {
  {  // label value 3
    ScratchDir d("bad3");
    make_slice_folder(d, false);
    write_png(d.str("masks/volume-3_slice_2_mask.png"),
              gbtest::grey_image(9, 12, [](int64_t y, int64_t) { return y < 3 ? 3 : 1; }));
    auto ds = open_slice_folder(d.str());
    std::string e = error_of([&] { ds->load(1); });
    EXPECT_NE(e.find("volume-3_slice_2_mask.png"), std::string::npos) << e;
    EXPECT_NE(e.find("label value 3"), std::string::npos) << e;
    EXPECT_NE(e.find("36 voxels"), std::string::npos) << e;  // 3 rows x 12
  }
  {  // mismatched names: an image without a mask, a mask without an image
    ScratchDir d("orphan");
    make_slice_folder(d, false);
    fs::rename(d.path / "masks/volume-3_slice_2_mask.png", d.path / "masks/volume-3_slice_22_mask.png");
    std::string e = error_of([&] { open_slice_folder(d.str()); });
    EXPECT_TRUE(e.find("volume-3_slice_2.png") != std::string::npos ||
                e.find("volume-3_slice_22_mask.png") != std::string::npos)
        << e;
  }
  {  // a mask only
    ScratchDir d("orphan_mask");
    make_slice_folder(d, false);
    write_png(d.str("masks/volume-99_slice_0_mask.png"), gbtest::grey_image(9, 12, [](int64_t, int64_t) { return 0; }));
    std::string e = error_of([&] { open_slice_folder(d.str()); });
    EXPECT_NE(e.find("volume-99_slice_0_mask.png"), std::string::npos) << e;
  }
  {  // image and mask of different sizes
    ScratchDir d("size");
    make_slice_folder(d, false);
    write_png(d.str("masks/volume-3_slice_4_mask.png"), gbtest::grey_image(8, 12, [](int64_t, int64_t) { return 0; }));
    auto ds = open_slice_folder(d.str());
    std::string e = error_of([&] { ds->load(2); });
    EXPECT_NE(e.find("volume-3_slice_4_mask.png"), std::string::npos) << e;
    EXPECT_NE(e.find("volume-3_slice_4.png"), std::string::npos) << e;
  }
  {  // manifest naming a missing file
    ScratchDir d("manifest_missing");
    make_slice_folder(d, true);
    fs::remove(d.path / "images/volume-10_slice_0.png");
    std::string e = error_of([&] { open_slice_folder(d.str()); });
    EXPECT_NE(e.find("volume-10_slice_0.png"), std::string::npos) << e;
    EXPECT_NE(e.find("manifest.csv"), std::string::npos) << e;
  }
  {  // empty folders
    ScratchDir d("empty");
    fs::create_directories(d.path / "images");
    fs::create_directories(d.path / "masks");
    std::string e = error_of([&] { open_slice_folder(d.str()); });
    EXPECT_NE(e.find("images"), std::string::npos) << e;
    EXPECT_NE(e.find("no PNG/JPEG"), std::string::npos) << e;
  }
  {  // missing folders
    ScratchDir d("missing");
    std::string e = error_of([&] { open_slice_folder(d.str("nope")); });
    EXPECT_NE(e.find("nope"), std::string::npos) << e;
    EXPECT_NE(e.find("not found"), std::string::npos) << e;
    e = error_of([&] { open_slice_folder(d.str()); });
    EXPECT_NE(e.find("images"), std::string::npos) << e;
    e = error_of([&] { open_dataset(d.str()); });
    EXPECT_NE(e.find("not a recognised dataset"), std::string::npos) << e;
  }
}

// The real LiTS slice export in the shared data folder (skipped when absent).
TEST(SliceFolder, RealLitsSlicesMatchManifest) {
  const std::string dir = gbtest::shared_data_dir() + "/lits-slices";
  if (gbtest::shared_data_dir().empty() || !fs::exists(dir + "/manifest.csv")) GTEST_SKIP() << "no " << dir;
  auto ds = open_slice_folder(dir);
  EXPECT_EQ(ds->size(), 1503);
  EXPECT_EQ(ds->case_ids().size(), 25u);
  std::vector<ManifestRow> rows = read_slice_manifest(dir + "/manifest.csv");
  ASSERT_EQ(rows.size(), 1503u);
  // Check a handful of rows spread over the file, including ones with tumour.
  int checked = 0, with_tumour = 0;
  for (size_t r = 0; r < rows.size(); r += 97) {
    const ManifestRow& row = rows[r];
    std::string stem = fs::path(row.image).stem().string();
    int64_t idx = -1;
    for (int64_t i = 0; i < ds->size(); ++i)
      if (ds->item(i).id == stem) idx = i;
    ASSERT_GE(idx, 0) << stem;
    EXPECT_EQ(ds->item(idx).case_id, "volume-" + std::to_string(row.volume));
    EXPECT_EQ(ds->item(idx).slice, row.slice);
    Sample s = ds->load(idx);
    EXPECT_EQ(s.image.data.shape(), (Shape{3, 512, 512})) << stem;  // RGB JPEG
    ASSERT_EQ(s.label.data.shape(), (Shape{512, 512})) << stem;
    int64_t liver = 0, tumour = 0;
    for (double v : s.label.data.to_vector()) {
      ASSERT_TRUE(v == 0 || v == 1 || v == 2) << stem;
      liver += v == 1;
      tumour += v == 2;
    }
    EXPECT_EQ(liver, row.liver_pixels) << stem;
    EXPECT_EQ(tumour, row.tumour_pixels) << stem;
    with_tumour += tumour > 0;
    ++checked;
  }
  EXPECT_GE(checked, 15);
  EXPECT_GT(with_tumour, 0);
}

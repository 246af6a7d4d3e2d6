// Dataset adapters over NIfTI files (LiTS and MSD layouts), using phantom volumes written to disk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "datasets_test_util.h"
#include "io/dataset.h"
#include "io/loader.h"
#include "io/nifti.h"
#include "io/phantom.h"

using namespace gb;
using namespace gb::io;
using gbtest::error_of;
using gbtest::ScratchDir;
namespace fs = std::filesystem;

namespace {

PhantomOptions small() {
  PhantomOptions o;
  o.width = 48;
  o.height = 40;
  o.depth = 7;
  return o;
}

std::vector<double> sorted(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  std::sort(v.begin(), v.end());
  return v;
}

void write_label(const std::string& path, const Tensor& data, std::array<double, 3> spacing) {
  Volume v;
  v.data = data;
  v.spacing = spacing;
  v.affine = {{{-spacing[0], 0, 0, 0}, {0, -spacing[1], 0, 0}, {0, 0, spacing[2], 0}, {0, 0, 0, 1}}};
  WriteOptions w;
  w.dtype = NiftiDType::U8;
  write_nifti(path, v, w);
}

}  // namespace

TEST(NiftiDatasets, PhantomWrittenAsLitsReadsBack) {
  ScratchDir d("lits");
  std::vector<std::string> paths = write_phantom_dataset(d.str(), 21, 2, small());
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_TRUE(fs::exists(d.path / "volume-1.nii.gz"));
  EXPECT_TRUE(fs::exists(d.path / "segmentation-1.nii.gz"));
  auto ds = open_lits(d.str());
  ASSERT_EQ(ds->size(), 2);
  EXPECT_EQ(ds->item(1).id, "volume-1");
  for (int64_t i = 0; i < 2; ++i) {
    PhantomCase mem = make_phantom(21, i, small());
    Sample s = ds->load(i);
    EXPECT_EQ(s.units, Units::HU);
    EXPECT_EQ(s.image.data.dtype(), DType::F32);
    EXPECT_EQ(s.label.data.dtype(), DType::I32);
    EXPECT_EQ(s.image.data.numel(), mem.image.data.numel());
    // The reader may reorient the grid; the values (whole HU, stored as int16) survive exactly.
    EXPECT_EQ(sorted(s.image.data), sorted(mem.image.data));
    EXPECT_EQ(sorted(s.label.data), sorted(mem.label.data));
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(s.image.spacing[(size_t)k], mem.image.spacing[(size_t)k], 1e-4);
    // Without reorientation the file holds exactly the generated grid.
    ReadOptions raw;
    raw.reorient = false;
    Volume r = read_nifti(ds->item(i).image_path, raw);
    EXPECT_EQ(r.data.to_vector(), mem.image.data.to_vector());
  }
  EXPECT_EQ(open_dataset(d.str())->name(), "lits:" + d.str());
}

TEST(NiftiDatasets, MsdLayout) {
  ScratchDir d("msd");
  ScratchDir src("msd_src");
  write_phantom_dataset(src.str(), 4, 2, small());
  fs::create_directories(d.path / "imagesTr");
  fs::create_directories(d.path / "labelsTr");
  for (int i = 0; i < 2; ++i) {
    fs::copy_file(src.path / ("volume-" + std::to_string(i) + ".nii.gz"),
                  d.path / "imagesTr" / ("liver_" + std::to_string(i) + ".nii.gz"));
    fs::copy_file(src.path / ("segmentation-" + std::to_string(i) + ".nii.gz"),
                  d.path / "labelsTr" / ("liver_" + std::to_string(i) + ".nii.gz"));
  }
  std::ofstream(d.str("dataset.json"))
      << R"({"name": "Liver", "labels": {"0": "background", "1": "liver", "2": "cancer"},
            "numTraining": 2, "training": [
              {"image": "./imagesTr/liver_0.nii.gz", "label": "./labelsTr/liver_0.nii.gz"},
              {"image": "./imagesTr/liver_1.nii.gz", "label": "./labelsTr/liver_1.nii.gz"}],
            "test": []})";
  auto ds = open_dataset(d.str());
  EXPECT_EQ(ds->name(), "msd:" + d.str());
  ASSERT_EQ(ds->size(), 2);
  EXPECT_EQ(ds->item(1).case_id, "liver_1");
  EXPECT_EQ(ds->item(1).index, 1);
  Sample s = ds->load(1);
  EXPECT_EQ(sorted(s.label.data), sorted(make_phantom(4, 1, small()).label.data));

  // A listed file that is missing, and a label outside {0,1,2} in the label table.
  fs::remove(d.path / "labelsTr" / "liver_1.nii.gz");
  std::string e = error_of([&] { open_msd(d.str()); });
  EXPECT_NE(e.find("labelsTr/liver_1.nii.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("dataset.json"), std::string::npos) << e;
  std::ofstream(d.str("dataset.json")) << R"({"labels": {"0": "bg", "3": "x"}, "training": []})";
  e = error_of([&] { open_msd(d.str()); });
  EXPECT_NE(e.find("label 3"), std::string::npos) << e;
  std::ofstream(d.str("dataset.json")) << R"({"training": [)";
  e = error_of([&] { open_msd(d.str()); });
  EXPECT_NE(e.find("not valid JSON"), std::string::npos) << e;
}

TEST(NiftiDatasets, BadLitsInputsNameTheFiles) {
  ScratchDir d("lits_bad");
  write_phantom_dataset(d.str(), 8, 3, small());
  PhantomCase p = make_phantom(8, 0, small());
  // Label value 3 in case 0.
  Tensor bad = p.label.data.clone();
  for (int64_t i = 0; i < 10; ++i) bad.data<int32_t>()[i] = 3;
  write_label(d.str("segmentation-0.nii.gz"), bad, p.label.spacing);
  // Case 1: segmentation of another shape.
  write_label(d.str("segmentation-1.nii.gz"), Tensor::zeros({7, 40, 47}, DType::I32), p.label.spacing);
  // Case 2: segmentation with another slice spacing.
  PhantomCase p2 = make_phantom(8, 2, small());
  write_label(d.str("segmentation-2.nii.gz"), p2.label.data,
              {p2.label.spacing[0], p2.label.spacing[1], p2.label.spacing[2] + 1.0});
  auto ds = open_lits(d.str());
  std::string e = error_of([&] { ds->load(0); });
  EXPECT_NE(e.find("segmentation-0.nii.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("label value 3"), std::string::npos) << e;
  EXPECT_NE(e.find("(10 voxels"), std::string::npos) << e;
  e = error_of([&] { ds->load(1); });
  EXPECT_NE(e.find("segmentation-1.nii.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("volume-1.nii.gz"), std::string::npos) << e;
  e = error_of([&] { ds->load(2); });
  EXPECT_NE(e.find("spacing"), std::string::npos) << e;
  EXPECT_NE(e.find("volume-2.nii.gz"), std::string::npos) << e;

  // Missing segmentation; segmentation without its volume; empty and missing folders.
  fs::remove(d.path / "segmentation-2.nii.gz");
  e = error_of([&] { open_lits(d.str()); });
  EXPECT_NE(e.find("volume-2.nii.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("segmentation-2"), std::string::npos) << e;
  EXPECT_EQ(open_lits(d.str(), /*require_labels=*/false)->size(), 3);
  fs::copy_file(d.path / "segmentation-1.nii.gz", d.path / "segmentation-9.nii.gz");
  e = error_of([&] { open_lits(d.str(), false); });
  EXPECT_NE(e.find("segmentation-9.nii.gz"), std::string::npos) << e;
  ScratchDir empty("lits_empty");
  e = error_of([&] { open_lits(empty.str()); });
  EXPECT_NE(e.find("no volume-N.nii"), std::string::npos) << e;
  e = error_of([&] { open_lits(empty.str("absent")); });
  EXPECT_NE(e.find("absent"), std::string::npos) << e;
  EXPECT_NE(e.find("not found"), std::string::npos) << e;
}

TEST(NiftiDatasets, LoaderStreamsFromDisk) {
  ScratchDir d("lits_loader");
  write_phantom_dataset(d.str(), 31, 3, small());
  auto ds = open_lits(d.str());
  LoaderOptions o;
  o.batch_size = 5;
  o.pre.height = o.pre.width = 32;
  o.pre.channels = 3;
  o.pre.context_2p5d = true;
  o.augment = true;
  o.cache_volumes = 1;
  Loader a(*ds, o);
  a.start_epoch(0);
  std::vector<Batch> first;
  Batch b;
  while (a.next(b)) first.push_back(b);
  ASSERT_EQ(first.size(), 5u);  // 3 x 7 = 21 slices
  EXPECT_EQ(a.stats().max_cached, 1);
  EXPECT_EQ(a.stats().volume_loads, 3);
  a.start_epoch(0);
  for (size_t i = 0; a.next(b); ++i) {
    ASSERT_LT(i, first.size());
    EXPECT_EQ(b.ids, first[i].ids);
    EXPECT_EQ(std::memcmp(b.image.raw_data(), first[i].image.raw_data(), 4 * (size_t)b.image.numel()), 0);
  }
}

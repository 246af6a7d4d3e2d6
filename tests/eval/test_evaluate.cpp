// pipeline/evaluate.h: files matched by name, every bad input one clear error naming the file,
// slices pooled into cases, outputs written (and refused when present), on NIfTI and PNG files
// written here, and on the real LiTS slice masks when ../shared/data is present.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "golden_masks.h"
#include "io/image.h"
#include "io/nifti.h"
#include "pipeline/evaluate.h"

using namespace gb;
namespace fs = std::filesystem;
using gbtest::fill_box;
using gbtest::zeros3;

namespace {

std::string scratch(const std::string& tag) {
  auto p = fs::temp_directory_path() / ("gb_eval_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

void write_labels(const std::string& path, const Tensor& t, std::array<double, 3> spacing = {0.8, 0.8, 2.5}) {
  io::Volume v;
  v.data = t;
  v.spacing = spacing;
  io::WriteOptions wo;
  wo.dtype = io::NiftiDType::U8;
  io::write_nifti(path, v, wo);
}

// A liver box with a tumour inside; `shift` moves the tumour along x.
Tensor case_labels(int shift) {
  Tensor t = zeros3(8, 24, 24);
  fill_box(t, 1, 7, 2, 20, 2, 20, 1);
  fill_box(t, 2, 5, 6, 10, 6 + shift, 10 + shift, 2);
  return t;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Evaluate, MatchKeyRules) {
  EXPECT_EQ(pipeline::match_key("/a/volume-3_seg.nii.gz"), "volume-3");
  EXPECT_EQ(pipeline::match_key("volume-3_pred.nii.gz"), "volume-3");
  EXPECT_EQ(pipeline::match_key("segmentation-3.nii"), "volume-3");
  EXPECT_EQ(pipeline::match_key("liver_7.nii.gz"), "liver_7");
  EXPECT_EQ(pipeline::match_key("volume-3_slice_46_mask.png"), "volume-3_slice_46");
  EXPECT_EQ(pipeline::match_key("volume-3_slice_46_seg.png"), "volume-3_slice_46");
  EXPECT_EQ(pipeline::case_of_key("volume-3_slice_46"), "volume-3");
  EXPECT_EQ(pipeline::case_of_key("volume-3"), "volume-3");
}

TEST(Evaluate, ParseClass) {
  auto c = pipeline::parse_class("liver=1,2");
  EXPECT_EQ(c.name, "liver");
  EXPECT_EQ(c.labels, (std::vector<int32_t>{1, 2}));
  EXPECT_NE(error_of([] { pipeline::parse_class("liver"); }).find("NAME=LABEL"), std::string::npos);
  EXPECT_NE(error_of([] { pipeline::parse_class("liver=1,x"); }).find("'x'"), std::string::npos);
}

TEST(Evaluate, FolderModeScoresAndWritesCsvAndJson) {
  const std::string d = scratch("folder");
  fs::create_directories(d + "/truth");
  fs::create_directories(d + "/pred");
  for (int i = 0; i < 3; ++i) {
    write_labels(d + "/truth/segmentation-" + std::to_string(i) + ".nii.gz", case_labels(0));
    write_labels(d + "/truth/volume-" + std::to_string(i) + ".nii.gz", case_labels(0));  // a LiTS CT: skipped
    write_labels(d + "/pred/volume-" + std::to_string(i) + "_seg.nii.gz", case_labels(i));
  }
  pipeline::EvaluateOptions o;
  o.pred = d + "/pred", o.truth = d + "/truth", o.out = d + "/out", o.resamples = 100;
  std::vector<std::string> lines;
  auto r = pipeline::evaluate(o, [&](const std::string& l, bool) { lines.push_back(l); });
  ASSERT_EQ(r.models.size(), 1u);
  ASSERT_EQ(r.models[0].rows.size(), 6u);  // 3 cases x 2 classes
  EXPECT_EQ(lines.size(), 3u);
  // Case 0 is perfect; case 2's tumour is shifted by 2 voxels of 0.8 mm along x.
  EXPECT_DOUBLE_EQ(r.models[0].rows[0].dice, 1.0);
  const auto& t2 = r.models[0].rows[5];
  EXPECT_EQ(t2.case_id, "volume-2");
  EXPECT_EQ(t2.cls, "tumour");
  EXPECT_NEAR(t2.surface.msd, 1.6, 1e-5);  // NIfTI stores the spacing as float32
  EXPECT_DOUBLE_EQ(t2.dice, 2.0 * 24 / 96);
  // The CSV: header + one row per case and class; the JSON: the convention and the rows.
  std::ifstream csv(r.csv_path);
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header, eval::metrics_csv_header());
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 6);
  std::ifstream jf(r.json_path);
  nlohmann::json j = nlohmann::json::parse(jf);
  EXPECT_EQ(j["empty_mask_convention"], eval::kEmptyMaskConvention);
  EXPECT_EQ(j["distance_unit"], "mm");
  EXPECT_EQ(j["models"][0]["cases"].size(), 6u);
  EXPECT_NE(r.table.find("empty-mask convention"), std::string::npos);
  // Present outputs are refused without force, and left as they were.
  const auto before = fs::last_write_time(r.csv_path);
  EXPECT_NE(error_of([&] { pipeline::evaluate(o); }).find("metrics.csv: exists (use --force"), std::string::npos);
  EXPECT_EQ(fs::last_write_time(r.csv_path), before);
  o.force = true;
  EXPECT_NO_THROW(pipeline::evaluate(o));
  fs::remove_all(d);
}

TEST(Evaluate, MissingExtraAndMismatchedFilesAreErrorsNamingTheFile) {
  const std::string d = scratch("bad");
  fs::create_directories(d + "/truth");
  fs::create_directories(d + "/pred");
  write_labels(d + "/truth/segmentation-0.nii.gz", case_labels(0));
  write_labels(d + "/truth/segmentation-1.nii.gz", case_labels(0));
  write_labels(d + "/pred/volume-0_seg.nii.gz", case_labels(0));
  pipeline::EvaluateOptions o;
  o.pred = d + "/pred", o.truth = d + "/truth", o.out = d + "/out";
  std::string e = error_of([&] { pipeline::evaluate(o); });
  EXPECT_NE(e.find("segmentation-1.nii.gz: no prediction"), std::string::npos) << e;
  write_labels(d + "/pred/volume-1_seg.nii.gz", case_labels(0));
  write_labels(d + "/pred/volume-9_seg.nii.gz", case_labels(0));
  e = error_of([&] { pipeline::evaluate(o); });
  EXPECT_NE(e.find("volume-9_seg.nii.gz: extra prediction"), std::string::npos) << e;
  fs::remove(d + "/pred/volume-9_seg.nii.gz");
  // Geometry: another spacing on one side; the message names both files.
  write_labels(d + "/pred/volume-1_seg.nii.gz", case_labels(0), {0.8, 0.8, 5.0});
  e = error_of([&] { pipeline::evaluate(o); });
  EXPECT_NE(e.find("volume-1_seg.nii.gz"), std::string::npos) << e;
  EXPECT_NE(e.find("segmentation-1.nii.gz"), std::string::npos) << e;
  // Two files with one key.
  write_labels(d + "/pred/volume-1_seg.nii.gz", case_labels(0));
  write_labels(d + "/pred/volume-1_pred.nii.gz", case_labels(0));
  e = error_of([&] { pipeline::evaluate(o); });
  EXPECT_NE(e.find("both match the name 'volume-1'"), std::string::npos) << e;
  fs::remove(d + "/pred/volume-1_pred.nii.gz");
  // Neither mode, or both.
  pipeline::EvaluateOptions none;
  none.out = d + "/out";
  EXPECT_NE(error_of([&] { pipeline::evaluate(none); }).find("either --pred"), std::string::npos);
  EXPECT_NE(error_of([&] {
              pipeline::EvaluateOptions x = o;
              x.pred = d + "/nope";
              pipeline::evaluate(x);
            }).find("/nope: prediction folder does not exist"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(d + "/out/metrics.csv"));
  fs::remove_all(d);
}

TEST(Evaluate, PngSlicesPoolIntoTheirVolume) {
  const std::string d = scratch("png");
  fs::create_directories(d + "/truth/masks");
  fs::create_directories(d + "/pred");
  for (int s = 0; s < 4; ++s) {
    Tensor t = Tensor::zeros({16, 16}, DType::I32);
    fill_box(t, 0, 1, 2, 12, 2, 12, 1);
    if (s == 1) fill_box(t, 0, 1, 4, 7, 4, 7, 2);
    Tensor p = t.clone();
    if (s == 2) fill_box(p, 0, 1, 4, 7, 4, 7, 2);  // a false-positive tumour on a slice without
    const std::string name = "volume-5_slice_" + std::to_string(s * 2);
    io::write_png(d + "/truth/masks/" + name + "_mask.png", t);
    io::write_png(d + "/pred/" + name + "_seg.png", p);
  }
  pipeline::EvaluateOptions o;
  o.pred = d + "/pred", o.truth = d + "/truth", o.out = d + "/out", o.resamples = 0;
  auto r = pipeline::evaluate(o);
  ASSERT_EQ(r.models[0].rows.size(), 2u);  // one case, two classes
  const auto& tum = r.models[0].rows[1];
  EXPECT_EQ(tum.case_id, "volume-5");
  EXPECT_EQ(tum.tp, 9);
  EXPECT_EQ(tum.fp, 9);
  EXPECT_FALSE(tum.spacing_known);
  EXPECT_EQ(tum.surface_parts_skipped, 1);
  EXPECT_EQ(tum.lesions.truth, 1);
  EXPECT_EQ(tum.lesions.pred, 2);
  EXPECT_EQ(r.info.distance_unit, "voxel");
  fs::remove_all(d);
}

TEST(Evaluate, RealLitsSliceMasksAgainstThemselves) {
  const std::string data = std::string(GB_SHARED_DATA_DIR) + "/lits-slices";
  if (!fs::exists(data + "/masks")) GTEST_SKIP() << "shared data missing: " << data;
  // Volume 42's masks (a complete stack) copied as "predictions", scored against the real slice
  // folder (its masks/) restricted to that case: every figure is perfect.
  const std::string d = scratch("lits");
  fs::create_directories(d + "/pred");
  int n = 0;
  for (const auto& e : fs::directory_iterator(data + "/masks")) {
    const std::string f = e.path().filename().string();
    if (f.rfind("volume-42_", 0) != 0) continue;
    fs::copy_file(e.path(), d + "/pred/" + f);
    ++n;
  }
  ASSERT_GT(n, 10);
  pipeline::EvaluateOptions o;
  o.pred = d + "/pred", o.truth = data, o.out = d + "/out", o.resamples = 0, o.cases = {"volume-42"};
  auto r = pipeline::evaluate(o);
  ASSERT_EQ(r.models[0].rows.size(), 2u);
  for (const auto& row : r.models[0].rows) {
    EXPECT_EQ(row.case_id, "volume-42");
    EXPECT_EQ(row.tp + row.fp + row.fn + row.tn, (int64_t)n * 512 * 512);
    EXPECT_DOUBLE_EQ(row.dice, 1.0);
    if (row.surface.defined) {
      EXPECT_DOUBLE_EQ(row.surface.hd95, 0.0);
    }
  }
  EXPECT_GT(r.models[0].rows[0].lesions.truth, 0);
  // Without --cases, every other volume's masks lack a prediction: an error naming one of them.
  o.cases.clear();
  o.force = true;
  std::string e = error_of([&] { pipeline::evaluate(o); });
  EXPECT_NE(e.find("_mask.png: no prediction in"), std::string::npos) << e;
  fs::remove_all(d);
}

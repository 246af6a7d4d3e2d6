// `glassbox explain` as a user runs it: maps in the input's geometry, panels, metrics and a
// completeness line for IG; --list-layers; and one clear line with a non-zero exit for every bad
// input, with nothing written (or overwritten).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "../train/run_test_util.h"
#include "autograd/backends.h"
#include "cli_util.h"
#include "io/dicom.h"
#include "io/nifti.h"

extern char** environ;
namespace fs = std::filesystem;
using namespace gb;

namespace {

using gbcli::glassbox;
using gbcli::Result;

// A trained micro checkpoint and a phantom volume with labels, made once for the suite.
struct Fixture {
  std::string dir, ckpt, vol, seg;
  Fixture() {
    dir = gbrun::scratch("explain_cli");
    Result t = glassbox({"train", "--model", "micro", "--size", "32", "--data", "phantom:4:7", "--phantom-size", "32",
                         "--phantom-depth", "8", "--val-cases", "1", "--steps", "40", "--batch", "2", "--lr", "0.05",
                         "--val-every", "40", "--ckpt-every", "1000", "--threads", "1", "--out", dir + "/run"});
    EXPECT_EQ(t.code, 0) << t.out;
    Result p = glassbox({"phantom", "--out", dir + "/data", "--cases", "1", "--size", "48", "--depth", "6", "--seed", "3"});
    EXPECT_EQ(p.code, 0) << p.out;
    ckpt = dir + "/run/model.safetensors";
    vol = dir + "/data/volume-0.nii.gz";
    seg = dir + "/data/segmentation-0.nii.gz";
  }
  ~Fixture() { fs::remove_all(dir); }
};
const Fixture& fixture() {
  static Fixture f;
  return f;
}

int64_t csv_rows(const std::string& p) {
  std::ifstream f(p);
  int64_t n = -1;
  for (std::string l; std::getline(f, l);) ++n;
  return n;
}

}  // namespace

TEST(ExplainCli, VolumeMapsInTheInputGeometryPanelsAndMetrics) {
  const auto& fx = fixture();
  const std::string out = fx.dir + "/ex";
  Result r = glassbox({"explain", "--model", fx.ckpt, "--in", fx.vol, "--truth", fx.seg, "--region", "truth", "--method",
                       "gradcam,ig", "--method", "occlusion", "--steps", "8", "--slices", "2", "3", "--out", out});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("IG T(x)"), std::string::npos) << r.out;          // the completeness line
  EXPECT_NE(r.out.find("explain 6/6"), std::string::npos) << r.out;      // the progress line
  io::Volume in = io::read_nifti(fx.vol);
  for (const char* m : {"gradcam", "ig", "occlusion"}) {
    io::Volume map = io::read_nifti(out + "/volume-0_" + m + ".nii.gz");
    EXPECT_EQ(map.data.shape(), in.data.shape()) << m;  // a 3-D map at the input's resolution
    EXPECT_EQ(map.spacing, in.spacing) << m;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) EXPECT_NEAR(map.affine[i][j], in.affine[i][j], 1e-4) << m;
    // Unexplained slices are 0.
    for (double v : io::label_slice(map.data, 0).to_vector()) ASSERT_EQ(v, 0.0) << m;
    for (int k : {2, 3}) EXPECT_TRUE(fs::exists(out + "/volume-0_s" + std::to_string(k) + "_" + m + ".png")) << m;
  }
  // 2 slices x 3 methods, and per slice the two chance baselines (random and edge maps) scored alike.
  EXPECT_EQ(csv_rows(out + "/metrics.csv"), 10);
  std::ifstream jf(out + "/metrics.json");
  auto j = nlohmann::json::parse(jf);
  ASSERT_EQ(j.size(), 10u);
  int chance = 0;
  for (auto& e : j) chance += e["method"] == "chance-random" || e["method"] == "chance-edge";
  EXPECT_EQ(chance, 4);
  // Layers for the report's viewer: the CT with outlines, and each map as a transparent layer.
  for (int k : {2, 3}) {
    EXPECT_TRUE(fs::exists(out + "/volume-0_s" + std::to_string(k) + "_ct.png"));
    EXPECT_TRUE(fs::exists(out + "/volume-0_s" + std::to_string(k) + "_ig_layer.png"));
  }
  bool ig_seen = false;
  for (auto& e : j)
    if (e["method"] == "ig") {
      ig_seen = true;
      EXPECT_TRUE(e.contains("delta_rel"));
      EXPECT_TRUE(e.contains("roc_auc"));
    }
  EXPECT_TRUE(ig_seen);
}

TEST(ExplainCli, TransformerRolloutAndRelevance) {
  const auto& fx = fixture();
  const std::string out = fx.dir + "/ex_tr";
  Result r = glassbox({"explain", "--model", fx.ckpt, "--in", fx.vol, "--truth", fx.seg, "--region", "truth", "--method",
                       "rollout,gradrollout,relevance", "--slices", "2", "--out", out});
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream jf(out + "/metrics.json");
  auto j = nlohmann::json::parse(jf);
  int seen = 0;
  for (auto& e : j) {
    if (e["method"] == "relevance") {
      EXPECT_TRUE(e.contains("delta_rel")) << e.dump();  // conservation reported
    }
    seen += e["method"] == "rollout" || e["method"] == "gradrollout" || e["method"] == "relevance";
  }
  // The relevance pass may have nothing to propagate on this barely trained micro model: then that
  // one map is skipped with a warning, never the command.
  const bool relevance_skipped = r.out.find("relevance skipped: transformer_lrp") != std::string::npos;
  EXPECT_EQ(seen, relevance_skipped ? 2 : 3) << r.out;
  for (const char* m : {"rollout", "gradrollout"}) EXPECT_TRUE(fs::exists(out + "/volume-0_" + m + ".nii.gz")) << m;
}

// --device cuda and auto: on the GPU when there is one; here (no usable GPU) the CPU, saying why.
TEST(ExplainCli, DeviceOption) {
  const auto& fx = fixture();
  const bool gpu = init_backends().cuda_available;
  for (const std::string dev : {"cuda", "auto", "cpu"}) {
    const std::string out = fx.dir + "/ex_dev_" + dev;
    Result r = glassbox({"explain", "--model", fx.ckpt, "--in", fx.vol, "--truth", fx.seg, "--region", "truth", "--method",
                         "gradcam,gradient", "--device", dev, "--slices", "2", "--out", out});
    ASSERT_EQ(r.code, 0) << r.out;
    const bool noted = r.out.find("explain: --device " + dev + ": running on the CPU: ") != std::string::npos;
    EXPECT_EQ(noted, !gpu && dev != "cpu") << r.out;
    EXPECT_TRUE(fs::exists(out + "/volume-0_gradcam.nii.gz"));
  }
  Result bad = glassbox({"explain", "--model", fx.ckpt, "--in", fx.vol, "--device", "gpu", "--out", fx.dir + "/ex_bad_dev"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("--device"), std::string::npos) << bad.out;
  EXPECT_FALSE(fs::exists(fx.dir + "/ex_bad_dev"));
}

TEST(ExplainCli, ListLayers) {
  Result r = glassbox({"explain", "--model", "tiny", "--list-layers"});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("transformer.encoder.layer.2"), std::string::npos);
  EXPECT_NE(r.out.find("[1,64,96]"), std::string::npos) << r.out;  // tiny: 64 tokens (8 x 8 grid) of 96
  EXPECT_NE(r.out.find("automatic layer: decoder.blocks.1"), std::string::npos);
}

// One line "glassbox: error: <file or option>: <problem>", exit 1, and the output folder untouched.
TEST(ExplainCli, BadInputsGetOneClearLineAndWriteNothing) {
  const auto& fx = fixture();
  const std::string out = fx.dir + "/bad";
  auto expect_error = [&](std::vector<std::string> args, const std::string& what) {
    std::vector<std::string> all = {"explain", "--model", fx.ckpt, "--out", out};
    all.insert(all.end(), args.begin(), args.end());
    Result r = glassbox(all);
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(r.out.rfind("glassbox: error: ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find(what), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_FALSE(fs::exists(out)) << "wrote output for: " << r.out;
  };
  expect_error({"--in", fx.dir + "/missing.nii.gz"}, "missing.nii.gz: no such file");
  expect_error({"--in", fx.vol, "--method", "magic"}, "unknown method 'magic'");
  expect_error({"--in", fx.vol, "--layer", "no.such"}, "no layer 'no.such'");
  expect_error({"--in", fx.vol, "--slices", "99"}, "slice 99 out of range");
  expect_error({"--in", fx.vol, "--truth", fx.dir + "/run/log.csv"}, "log.csv");
  expect_error({"--in", fx.vol, "--region", "truth"}, "needs --truth");
  // An existing output folder that holds files is refused, its files untouched.
  fs::create_directories(out);
  { std::ofstream(out + "/keep.txt") << "mine"; }
  Result r = glassbox({"explain", "--model", fx.ckpt, "--in", fx.vol, "--out", out});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("already holds files"), std::string::npos) << r.out;
  EXPECT_EQ(gbrun::read_file(out + "/keep.txt"), "mine");
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 1);
}

// Real LiTS slices (8-bit JPEG + label PNG) when ../shared/data is present: a folder of slices with a
// folder of masks, and a single slice with its mask; maps as 1-slice NIfTI at the slice's size.
TEST(ExplainCli, RealSliceFolderAndSingleSlice) {
  const std::string src = std::string(GB_SHARED_DATA_DIR) + "/lits-slices";
  if (!fs::exists(src + "/manifest.csv")) GTEST_SKIP() << "no " << src;
  const std::string dir = gbrun::scratch("explain_slices");
  fs::create_directories(dir + "/sl/images");
  fs::create_directories(dir + "/sl/masks");
  // Slices with large tumours from three volumes, linked (the data is never copied).
  for (const char* s : {"volume-8_slice_370", "volume-9_slice_372", "volume-5_slice_452"}) {
    fs::create_symlink(src + "/images/" + s + ".jpg", dir + "/sl/images/" + s + ".jpg");
    fs::create_symlink(src + "/masks/" + s + "_mask.png", dir + "/sl/masks/" + s + "_mask.png");
  }
  Result t = glassbox({"train", "--model", "micro", "--size", "32", "--data", dir + "/sl", "--val-cases", "1", "--steps", "10",
                       "--batch", "1", "--val-every", "10", "--threads", "1", "--out", dir + "/run"});
  ASSERT_EQ(t.code, 0) << t.out;
  const std::string ck = dir + "/run/model.safetensors";
  Result r = glassbox({"explain", "--model", ck, "--in", dir + "/sl/images", "--truth", dir + "/sl/masks", "--region", "truth",
                       "--method", "layercam,gradxinput", "--out", dir + "/ex"});
  ASSERT_EQ(r.code, 0) << r.out;
  // volume-5's tumour has no pixel left on the 32 x 32 model grid: skipped, loudly, not failed.
  EXPECT_EQ(csv_rows(dir + "/ex/metrics.csv"), 8);  // 2 slices x (2 methods + 2 chance baselines)
  EXPECT_NE(r.out.find("WARNING: " + dir + "/sl/images/volume-5_slice_452.jpg slice 0: skipped"), std::string::npos) << r.out;
  io::Volume m = io::read_nifti(dir + "/ex/volume-8_slice_370_layercam.nii.gz");
  EXPECT_EQ(m.data.shape(), (Shape{1, 512, 512}));
  EXPECT_TRUE(fs::exists(dir + "/ex/volume-9_slice_372_s0_gradxinput.png"));
  Result one = glassbox({"explain", "--model", ck, "--in", dir + "/sl/images/volume-9_slice_372.jpg", "--method", "gradcam",
                         "--region", "whole", "--out", dir + "/ex1"});
  ASSERT_EQ(one.code, 0) << one.out;
  EXPECT_EQ(csv_rows(dir + "/ex1/metrics.csv"), 3);  // gradcam and the two chance baselines
  // The slice folder as a dataset (images/ + masks/, its masks the truth): slices without tumour are
  // passed over and counted in one line; the rest as above.
  fs::create_symlink(src + "/images/volume-0_slice_0.jpg", dir + "/sl/images/volume-0_slice_0.jpg");
  fs::create_symlink(src + "/masks/volume-0_slice_0_mask.png", dir + "/sl/masks/volume-0_slice_0_mask.png");
  Result ds = glassbox({"explain", "--model", ck, "--in", dir + "/sl", "--region", "truth", "--method", "gradcam", "--out",
                        dir + "/exds"});
  ASSERT_EQ(ds.code, 0) << ds.out;
  EXPECT_NE(ds.out.find("1 of the dataset's 4 slices hold no class 2 in the truth; not explained"), std::string::npos) << ds.out;
  EXPECT_EQ(csv_rows(dir + "/exds/metrics.csv"), 6);  // 2 slices x (gradcam + 2 chance baselines)
  EXPECT_TRUE(fs::exists(dir + "/exds/volume-8_slice_370_s0_gradcam.png"));
  // A model trained on 8-bit slices refuses a HU volume, before writing anything.
  Result hu = glassbox({"explain", "--model", ck, "--in", fixture().vol, "--out", dir + "/ex2"});
  EXPECT_EQ(hu.code, 1) << hu.out;
  EXPECT_FALSE(fs::exists(dir + "/ex2"));
  fs::remove_all(dir);
}

// A 3-D model (3D U-Net) explains volumes by windows of its patch size around each lesion: 3-D maps
// in the input's geometry, one row per window scored in 3-D and one per plane that holds the truth;
// a dataset given as --in (its labels the truth, --cases to narrow it) works for 2-D models too.
TEST(ExplainCli, ThreeDModelWindowsAndDatasetInput) {
  const auto& fx = fixture();
  const std::string dir = gbrun::scratch("explain_3d");
  Result t = glassbox({"train", "--model", "unet3d-tiny", "--data", "phantom:4:7", "--phantom-size", "32", "--phantom-depth",
                       "16", "--val-cases", "1", "--steps", "6", "--batch", "1", "--val-every", "6", "--ckpt-every", "100",
                       "--threads", "1", "--out", dir + "/run"});
  ASSERT_EQ(t.code, 0) << t.out;
  const std::string ck = dir + "/run/model.safetensors";
  // The fixture's phantom volume is 6 slices deep, the patch 16: the window is padded, as the sliding
  // window pads. The dataset folder (volume-0 + segmentation-0) is the input; its labels are the truth.
  Result r = glassbox({"explain", "--model", ck, "--in", fx.dir + "/data", "--region", "truth", "--method",
                       "gradcam,ig,occlusion", "--steps", "4", "--patch", "8", "--stride", "8", "--perturbation-steps",
                       "4", "--out", dir + "/ex"});
  ASSERT_EQ(r.code, 0) << r.out;
  io::Volume in = io::read_nifti(fx.vol);
  for (const char* m : {"gradcam", "ig", "occlusion"}) {
    io::Volume map = io::read_nifti(dir + "/ex/volume-0_" + m + ".nii.gz");
    EXPECT_EQ(map.data.shape(), in.data.shape()) << m;
    double mass = 0;
    for (double v : map.data.to_vector()) mass += std::fabs(v);
    // The window's signed maps landed in the volume (a 6-step model's Grad-CAM may be all ReLU-zero).
    if (std::string(m) != "gradcam") {
      EXPECT_GT(mass, 0) << m;
    }
  }
  std::ifstream jf(dir + "/ex/metrics.json");
  auto j = nlohmann::json::parse(jf);
  io::Volume seg = io::read_nifti(fx.seg);
  int64_t tumour_slices = 0;
  for (int64_t k = 0; k < seg.data.size(0); ++k) {
    bool any = false;
    for (double v : io::label_slice(seg.data, k).to_vector()) any = any || v == 2;
    tumour_slices += any;
  }
  ASSERT_GT(tumour_slices, 0);
  int64_t windows = 0, planes = 0, chance = 0, window_chance = 0;
  std::set<int64_t> tumour_planes;
  for (int64_t k = 0; k < seg.data.size(0); ++k)
    for (double v : io::label_slice(seg.data, k).to_vector())
      if (v == 2) tumour_planes.insert(k);
  // The perturbation AUCs of a row, NaN when absent or null.
  auto auc = [](const nlohmann::json& e, const char* k) {
    return e.contains(k) && e[k].is_number() ? e[k].get<double>() : std::nan("");
  };
  for (auto& e : j) {
    const bool is_chance = e["method"].get<std::string>().rfind("chance-", 0) == 0;
    if (e["scope"] == "window") {
      // Every window row, the chance rows included, is scored in 3-D with its deletion / insertion.
      EXPECT_EQ(e["slice"], -1);
      EXPECT_TRUE(e.contains("roc_auc"));
      EXPECT_EQ(e["window"].size(), 6u) << e.dump();
      EXPECT_TRUE(std::isfinite(auc(e, "deletion_auc"))) << e.dump();
      EXPECT_TRUE(std::isfinite(auc(e, "insertion_auc"))) << e.dump();
      if (is_chance) {
        window_chance += e["method"] == "chance-random";
      } else {
        ++windows;
      }
    } else if (e["method"] == "gradcam") {
      ++planes;
      EXPECT_TRUE(tumour_planes.count(e["slice"].get<int64_t>())) << e.dump();  // only planes holding the truth
      EXPECT_TRUE(fs::exists(dir + "/ex/volume-0_s" + std::to_string(e["slice"].get<int64_t>()) + "_gradcam.png"));
    }
    if (e["scope"] == "slice") chance += e["method"] == "chance-random";
  }
  EXPECT_GE(windows, 3);                 // at least one window x 3 methods
  EXPECT_EQ(windows % 3, 0);
  EXPECT_EQ(window_chance, windows / 3);  // one random (and one edge) chance row per window
  EXPECT_GE(planes, 1);
  EXPECT_EQ(chance, planes);
  // A 3-D model refuses slices and --slices; a dataset refuses --truth; --cases must exist.
  auto bad = [&](std::vector<std::string> args, const std::string& what) {
    std::vector<std::string> all = {"explain", "--out", dir + "/bad"};
    all.insert(all.end(), args.begin(), args.end());
    Result b = glassbox(all);
    EXPECT_EQ(b.code, 1) << b.out;
    EXPECT_NE(b.out.find(what), std::string::npos) << b.out;
    EXPECT_FALSE(fs::exists(dir + "/bad"));
  };
  bad({"--model", ck, "--in", fx.vol, "--slices", "2"}, "--slices is for 2-D models");
  bad({"--model", ck, "--in", fx.dir + "/data", "--truth", fx.seg}, "a dataset's own labels are the truth");
  bad({"--model", ck, "--in", fx.dir + "/data", "--cases", "volume-7"}, "has no case 'volume-7'");
  bad({"--model", ck, "--in", fx.vol, "--cases", "volume-0"}, "--cases selects cases of a dataset");
  bad({"--model", ck, "--in", fx.vol, "--perturbation-steps", "-1"}, "--perturbation-steps must be in 0..10000");
  // The 2-D micro model on the same dataset, narrowed to its one case: per-slice rows as before.
  Result d2 = glassbox({"explain", "--model", fx.ckpt, "--in", fx.dir + "/data", "--cases", "volume-0", "--region", "truth",
                        "--method", "gradcam", "--perturbation-steps", "4", "--out", dir + "/ex2d"});
  ASSERT_EQ(d2.code, 0) << d2.out;
  {  // deletion / insertion AUC on every row (maps and chance maps), only when asked for
    std::ifstream f2(dir + "/ex2d/metrics.json");
    for (auto& e : nlohmann::json::parse(f2)) {
      EXPECT_TRUE(e["deletion_auc"].is_number()) << e.dump();
      EXPECT_TRUE(e["insertion_auc"].is_number()) << e.dump();
    }
    // A 3-D model's planes have none (T belongs to the window), and without the option no row has any.
    for (auto& e : j) {
      if (e["scope"] == "slice") {
        EXPECT_TRUE(e["deletion_auc"].is_null()) << e.dump();
      }
    }
    Result n3 = glassbox({"explain", "--model", ck, "--in", fx.dir + "/data", "--region", "truth", "--method", "gradcam",
                          "--out", dir + "/ex3n"});
    ASSERT_EQ(n3.code, 0) << n3.out;
    std::ifstream f3(dir + "/ex3n/metrics.json");
    int64_t n3_rows = 0;
    for (auto& e : nlohmann::json::parse(f3)) {
      EXPECT_TRUE(e["deletion_auc"].is_null()) << e.dump();
      EXPECT_TRUE(e["insertion_auc"].is_null()) << e.dump();
      ++n3_rows;
    }
    EXPECT_GE(n3_rows, 3);  // a window's gradcam row and its two chance rows at least
  }
  const int64_t rows2d = csv_rows(dir + "/ex2d/metrics.csv");  // gradcam + 2 chance rows per explained tumour slice
  EXPECT_GE(rows2d, 3);
  EXPECT_EQ(rows2d % 3, 0);
  EXPECT_LE(rows2d, 3 * tumour_slices);
  fs::remove_all(dir);
}

// A real DICOM series (../shared/data/totalseg-example) explained like a NIfTI volume: the map lands
// on the series' own grid.
TEST(ExplainCli, RealDicomSeries) {
  const std::string src = std::string(GB_SHARED_DATA_DIR) + "/totalseg-example/example_ct_dicom";
  if (!fs::exists(src)) GTEST_SKIP() << "no " << src;
  const auto& fx = fixture();
  const std::string out = gbrun::scratch("explain_dicom");
  Result r = glassbox({"explain", "--model", fx.ckpt, "--in", src, "--region", "whole", "--class", "1", "--method", "gradcam",
                       "--slices", "3", "--out", out, "--force"});
  ASSERT_EQ(r.code, 0) << r.out;
  io::Volume map = io::read_nifti(out + "/example_ct_dicom_gradcam.nii.gz");
  io::Volume ct = io::read_dicom_series(src);
  EXPECT_EQ(map.data.shape(), ct.data.shape());
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(map.spacing[(size_t)i], ct.spacing[(size_t)i], 1e-4);
  EXPECT_TRUE(fs::exists(out + "/example_ct_dicom_s3_gradcam.png"));
  fs::remove_all(out);
}

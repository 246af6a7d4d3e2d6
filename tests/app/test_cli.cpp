// The commands as a user runs them (GB_GLASSBOX_BIN): SIGTERM mid-run then --resume equals the
// uninterrupted run bit for bit; segment keeps the input's exact geometry on the real CT (NIfTI and
// DICOM); every bad input gets one clear line and a non-zero exit, and nothing is overwritten.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../train/run_test_util.h"
#include "cli_util.h"
#include <fcntl.h>

#include "io/dicom.h"
#include "io/nifti.h"
#include "train/checkpoint.h"

extern char** environ;
namespace fs = std::filesystem;
using namespace gb;

namespace {

using gbcli::glassbox;
using gbcli::Result;

std::vector<std::string> train_args(const std::string& out) {
  return {"train", "--model", "micro", "--size", "32", "--data", "phantom:4:7", "--phantom-size", "32",
          "--phantom-depth", "8", "--val-cases", "1", "--steps", "60", "--batch", "2", "--lr", "0.05",
          "--val-every", "20", "--ckpt-every", "1000", "--threads", "1", "--out", out};
}

int64_t log_rows(const std::string& run) {
  std::ifstream f(run + "/log.csv");
  int64_t n = -1;
  for (std::string l; std::getline(f, l);) ++n;
  return n;
}

const std::string kData = GB_SHARED_DATA_DIR;

}  // namespace

TEST(Cli, SigtermThenResumeEqualsTheUninterruptedRun) {
  const std::string a = gbrun::scratch("cli_a"), b = gbrun::scratch("cli_b");
  Result ra = glassbox(train_args(a));
  ASSERT_EQ(ra.code, 0) << ra.out;
  Result rb = glassbox(train_args(b), [&](pid_t pid) {
    // Wait until the run is under way (some steps logged), then ask it to stop.
    for (int i = 0; i < 20000 && log_rows(b) < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    kill(pid, SIGTERM);
  });
  ASSERT_EQ(rb.code, 130) << rb.out;
  EXPECT_NE(rb.out.find("--resume"), std::string::npos) << rb.out;
  const std::string ck = train::latest_checkpoint(b);
  ASSERT_FALSE(ck.empty());
  EXPECT_LT(log_rows(b), 60) << "the run should have stopped early";
  Result rr = glassbox({"train", "--resume", b, "--threads", "2"});
  ASSERT_EQ(rr.code, 0) << rr.out;
  EXPECT_EQ(gbrun::log_losses(a), gbrun::log_losses(b));
  EXPECT_TRUE(gbrun::same_weights(a + "/model.safetensors", b + "/model.safetensors"));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Cli, PhantomTrainSegmentRoundTrip) {
  const std::string d = gbrun::scratch("cli_pts");
  Result p = glassbox({"phantom", "--out", d + "/data", "--cases", "3", "--size", "32", "--depth", "6", "--seed", "5"});
  ASSERT_EQ(p.code, 0) << p.out;
  EXPECT_TRUE(fs::exists(d + "/data/volume-2.nii.gz"));
  EXPECT_NE(glassbox({"phantom", "--out", d + "/data", "--cases", "3"}).out.find("use --force"), std::string::npos);
  Result t = glassbox({"train", "--model", "micro", "--size", "32", "--data", d + "/data", "--val-cases", "1",
                       "--steps", "3", "--batch", "2", "--out", d + "/run"});
  ASSERT_EQ(t.code, 0) << t.out;
  Result s = glassbox({"segment", "--model", d + "/run/model.safetensors", "--in", d + "/data/volume-1.nii.gz",
                       "--out", d + "/seg", "--probabilities", "--post"});
  ASSERT_EQ(s.code, 0) << s.out;
  io::Volume in = io::read_nifti(d + "/data/volume-1.nii.gz");
  io::Volume out = io::read_nifti(d + "/seg/volume-1_seg.nii.gz", {true});
  EXPECT_EQ(out.data.shape(), in.data.shape());
  io::check_same_geometry(in, out);
  EXPECT_TRUE(fs::exists(d + "/seg/volume-1_prob_tumour.nii.gz"));
  // The output exists now: refused without --force, and left as it was.
  const std::string before = gbrun::read_file(d + "/seg/volume-1_seg.nii.gz");
  Result again = glassbox({"segment", "--model", d + "/run/model.safetensors", "--in", d + "/data/volume-1.nii.gz",
                           "--out", d + "/seg"});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.out.find("already exists; use --force"), std::string::npos) << again.out;
  EXPECT_EQ(gbrun::read_file(d + "/seg/volume-1_seg.nii.gz"), before);
  // A LiTS-layout folder: the volumes are segmented, their label maps (segmentation-N) are not.
  Result all = glassbox({"segment", "--model", d + "/run/model.safetensors", "--in", d + "/data", "--out", d + "/segall"});
  ASSERT_EQ(all.code, 0) << all.out;
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(fs::exists(d + "/segall/volume-" + std::to_string(k) + "_seg.nii.gz")) << k;
  EXPECT_FALSE(fs::exists(d + "/segall/segmentation-0_seg.nii.gz"));
  fs::remove_all(d);
}

TEST(Cli, SegmentKeepsTheRealCtGeometry) {
  const std::string ct = kData + "/totalseg-example/example_ct.nii.gz";
  const std::string dcm = kData + "/totalseg-example/example_ct_dicom";
  if (!fs::exists(ct) || !fs::exists(dcm)) GTEST_SKIP() << "shared data missing: " << ct;
  const std::string d = gbrun::scratch("cli_real");
  auto m = models::make_model(models::named_config("micro", 32, 3, 1), 1);
  fs::create_directories(d);
  io::Preprocess pre;
  pre.height = pre.width = 32;
  train::save_checkpoint(d + "/m.safetensors", *m, pre);
  Result r = glassbox({"segment", "--model", d + "/m.safetensors", "--in", ct, "--out", d + "/a.nii.gz"});
  ASSERT_EQ(r.code, 0) << r.out;
  io::Volume in = io::read_nifti(ct), out = io::read_nifti(d + "/a.nii.gz", {true});
  io::check_same_geometry(in, out);
  // The raw headers agree too (dims, pixdim, sform), not only after reorientation.
  io::Volume in_raw = io::read_nifti(ct, {false, false}), out_raw = io::read_nifti(d + "/a.nii.gz", {true, false});
  EXPECT_EQ(in_raw.data.shape(), out_raw.data.shape());
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_NEAR(in_raw.affine[i][j], out_raw.affine[i][j], 1e-4);
  Result rd = glassbox({"segment", "--model", d + "/m.safetensors", "--in", dcm, "--out", d + "/dcm"});
  ASSERT_EQ(rd.code, 0) << rd.out;
  io::Volume series = io::read_dicom_series(dcm);
  io::Volume dout = io::read_nifti(d + "/dcm/example_ct_dicom_seg.nii.gz", {true});
  EXPECT_EQ(dout.data.shape(), series.data.shape());
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_NEAR(dout.affine[i][j], series.affine[i][j], 1e-3) << i << "," << j;
  fs::remove_all(d);
}

TEST(Cli, BadInputGetsOneClearLine) {
  const std::string d = gbrun::scratch("cli_bad");
  fs::create_directories(d + "/empty");
  auto m = models::make_model(models::named_config("micro", 32, 3, 1), 1);
  io::Preprocess pre;
  pre.height = pre.width = 32;
  train::save_checkpoint(d + "/m.safetensors", *m, pre);
  io::Preprocess pix = pre;
  pix.units = io::Units::Pixel8;
  train::save_checkpoint(d + "/pix.safetensors", *m, pix);
  // a small volume and a tiny one
  io::Volume v;
  v.data = Tensor::zeros({4, 40, 40});
  io::write_nifti(d + "/ct.nii.gz", v);
  v.data = Tensor::zeros({4, 8, 8});
  io::write_nifti(d + "/tiny.nii.gz", v);
  {
    std::string bytes = gbrun::read_file(d + "/m.safetensors");
    std::ofstream(d + "/trunc.safetensors", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    std::ofstream(d + "/notours.safetensors", std::ios::binary) << "hello, not a checkpoint";
  }
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::string M = d + "/m.safetensors";
  std::vector<Case> cases = {
      {{"train", "--data", d + "/missing", "--out", d + "/r1"}, "missing: no such data folder"},
      {{"train", "--data", d + "/empty", "--out", d + "/r2"}, "empty: the data folder is empty"},
      {{"train", "--data", d, "--out", d + "/r3"}, d},  // a folder of an unknown layout
      {{"train", "--resume", d + "/empty"}, "holds no glassbox run"},
      {{"train", "--data", "phantom:3", "--out", d + "/ct.nii.gz/x", "--steps", "1"}, "cannot create the run folder"},
      {{"train", "--model", "tiny", "--init", d + "/notours.safetensors", "--data", "phantom:3", "--out", d + "/r4",
        "--steps", "1", "--phantom-size", "32", "--size", "32"}, "notours.safetensors"},
      {{"segment", "--model", d + "/trunc.safetensors", "--in", d + "/ct.nii.gz", "--out", d + "/o1"}, "trunc.safetensors"},
      {{"segment", "--model", d + "/notours.safetensors", "--in", d + "/ct.nii.gz", "--out", d + "/o2"}, "notours.safetensors"},
      {{"segment", "--model", M, "--in", d + "/nope.nii.gz", "--out", d + "/o3"}, "nope.nii.gz: no such file"},
      {{"segment", "--model", M, "--in", d + "/empty", "--out", d + "/o4"}, "the folder is empty"},
      {{"segment", "--model", M, "--in", d + "/tiny.nii.gz", "--out", d + "/o5"}, "too small for the model"},
      {{"segment", "--model", d + "/pix.safetensors", "--in", d + "/ct.nii.gz", "--out", d + "/o6"},
       "the model expects 8-bit pixel slices"},
      {{"segment", "--model", M, "--in", d + "/ct.nii.gz", "--out", d + "/ct.nii.gz/x"}, "cannot create the output folder"},
      {{"phantom", "--out", d + "/p", "--cases", "0"}, "--cases 0"},
  };
  for (auto& c : cases) {
    Result r = glassbox(c.args);
    EXPECT_NE(r.code, 0) << r.out;
    EXPECT_LT(r.code, 128) << "crashed: " << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << r.out;
    EXPECT_NE(r.out.find("glassbox: error: "), std::string::npos) << r.out;
  }
  fs::remove_all(d);
}

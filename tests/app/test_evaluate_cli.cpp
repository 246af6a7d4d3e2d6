// `glassbox evaluate` as a user runs it (GB_GLASSBOX_BIN): phantom -> train -> segment -> evaluate
// --pred/--truth, and two checkpoints compared on the data; bad input gets one line and exit 1.
#include <gtest/gtest.h>

#include "autograd/backends.h"
#include "cli_util.h"
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

extern char** environ;
namespace fs = std::filesystem;

namespace {

using CliRun = gbcli::Result;
inline CliRun gb_run(const std::vector<std::string>& args) { return gbcli::glassbox(args); }

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string scratch(const std::string& tag) {
  auto p = fs::temp_directory_path() / ("gb_evcli_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

int64_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

}  // namespace

TEST(EvaluateCli, BadInputIsOneLineAndExitOne) {
  const std::string d = scratch("bad");
  CliRun r = gb_run({"evaluate", "--pred", d + "/nope", "--truth", d + "/nope", "--out", d + "/out"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("glassbox: error: " + d + "/nope: prediction folder does not exist"), std::string::npos) << r.out;
  r = gb_run({"evaluate", "--out", d + "/out"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("either --pred DIR --truth DIR or --model CKPT --data PATH"), std::string::npos) << r.out;
  r = gb_run({"evaluate", "--model", d + "/missing.safetensors", "--data", "phantom:2", "--out", d + "/out"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("missing.safetensors"), std::string::npos) << r.out;
  r = gb_run({"evaluate", "--pred", d, "--truth", d, "--out", d + "/out", "--class", "liver"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("NAME=LABEL"), std::string::npos) << r.out;
  fs::remove_all(d);
}

TEST(EvaluateCli, SegmentThenEvaluateAndCompareTwoCheckpoints) {
  const std::string d = scratch("flow");
  CliRun p = gb_run({"phantom", "--out", d + "/data", "--cases", "3", "--size", "32", "--depth", "6", "--seed", "5"});
  ASSERT_EQ(p.code, 0) << p.out;
  CliRun t = gb_run({"train", "--model", "micro", "--size", "32", "--data", d + "/data", "--val-cases", "1", "--steps",
                  "4", "--batch", "2", "--ckpt-every", "2", "--keep-last", "2", "--out", d + "/run"});
  ASSERT_EQ(t.code, 0) << t.out;
  for (int i = 0; i < 3; ++i) {
    const std::string v = "volume-" + std::to_string(i);
    CliRun s = gb_run({"segment", "--model", d + "/run/model.safetensors", "--in", d + "/data/" + v + ".nii.gz",
                       "--out", d + "/seg", "--probabilities"});
    ASSERT_EQ(s.code, 0) << s.out;
  }

  // Folder mode over segment's output (probability maps beside the labels are skipped).
  CliRun e = gb_run({"evaluate", "--pred", d + "/seg", "--truth", d + "/data", "--out", d + "/ev1"});
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_NE(e.out.find("liver (3 cases"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("empty-mask convention:"), std::string::npos) << e.out;
  EXPECT_NE(e.out.find("evaluate: 3/3 cases"), std::string::npos) << e.out;  // the progress line
  const std::string csv = slurp(d + "/ev1/metrics.csv");
  EXPECT_EQ(lines(csv), 1 + 3 * 2) << csv;
  // Written again only with --force.
  CliRun again = gb_run({"evaluate", "--pred", d + "/seg", "--truth", d + "/data", "--out", d + "/ev1"});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.out.find("exists (use --force"), std::string::npos) << again.out;

  // Model mode, two checkpoints of the run: one comparison table.
  CliRun m = gb_run({"evaluate", "--model", d + "/run/model.safetensors", "--model",
                  d + "/run/checkpoints/step-00000002.safetensors", "--data", d + "/data", "--out", d + "/ev2",
                  "--bootstrap", "200"});
  ASSERT_EQ(m.code, 0) << m.out;
  EXPECT_NE(m.out.find("model - step-00000002"), std::string::npos) << m.out;
  // --device auto (the default) without a usable GPU: the CPU, said once for both checkpoints.
  if (!gb::init_backends().cuda_available) {
    const std::string note = "evaluate: --device auto: running on the CPU: ";
    const auto at = m.out.find(note);
    EXPECT_NE(at, std::string::npos) << m.out;
    EXPECT_EQ(m.out.find(note, at + 1), std::string::npos) << m.out;
  }
  nlohmann::json j = nlohmann::json::parse(slurp(d + "/ev2/metrics.json"));
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][0]["cases"].size(), 6u);
  EXPECT_EQ(j["comparisons"].size(), 2u * 14u);  // one pair x 2 classes x 14 figures
  EXPECT_EQ(j["comparisons"][0]["n"], 3);
  EXPECT_EQ(lines(slurp(d + "/ev2/metrics.csv")), 1 + 2 * 3 * 2);
  // The final model's scores equal the folder-mode scores of its own segmentation.
  nlohmann::json j1 = nlohmann::json::parse(slurp(d + "/ev1/metrics.json"));
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(j1["models"][0]["cases"][i]["tp"], j["models"][0]["cases"][i]["tp"]) << i;
    EXPECT_EQ(j1["models"][0]["cases"][i]["fp"], j["models"][0]["cases"][i]["fp"]) << i;
  }

  // A prediction in another geometry: one line naming both files.
  fs::create_directories(d + "/bad");
  for (const auto& f : fs::directory_iterator(d + "/seg"))
    if (f.path().string().find("_seg.nii.gz") != std::string::npos) fs::copy_file(f.path(), d + "/bad/" + f.path().filename().string());
  fs::copy_file(d + "/data/volume-0.nii.gz", d + "/bad/volume-1_seg.nii.gz", fs::copy_options::overwrite_existing);
  CliRun g = gb_run({"evaluate", "--pred", d + "/bad", "--truth", d + "/data", "--out", d + "/ev3"});
  EXPECT_EQ(g.code, 1) << g.out;
  const auto at = g.out.find("glassbox: error: ");
  ASSERT_NE(at, std::string::npos) << g.out;
  const std::string err = g.out.substr(at);
  EXPECT_EQ(lines(err), 1) << g.out;  // after the progress line of the case before it
  EXPECT_NE(err.find("bad/volume-1_seg.nii.gz"), std::string::npos) << err;
  EXPECT_NE(err.find("data/segmentation-1.nii.gz"), std::string::npos) << err;
  EXPECT_NE(err.find("geometry"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(d + "/ev3/metrics.csv"));
  fs::remove_all(d);
}

TEST(EvaluateCli, ModelOnRealLitsSlicesPoolsSlicesIntoTheVolume) {
  const std::string data = std::string(GB_SHARED_DATA_DIR) + "/lits-slices";
  if (!fs::exists(data + "/manifest.csv")) GTEST_SKIP() << "shared data missing: " << data;
  const std::string d = scratch("lits");
  CliRun t = gb_run({"train", "--model", "micro", "--size", "32", "--data", data, "--val-cases", "1", "--steps", "2",
                     "--batch", "2", "--val-every", "100", "--out", d + "/run"});
  ASSERT_EQ(t.code, 0) << t.out;
  CliRun e = gb_run({"evaluate", "--model", d + "/run/model.safetensors", "--data", data, "--cases", "volume-0",
                     "volume-29", "--out", d + "/ev", "--bootstrap", "50"});
  ASSERT_EQ(e.code, 0) << e.out;
  nlohmann::json j = nlohmann::json::parse(slurp(d + "/ev/metrics.json"));
  const auto& cases = j["models"][0]["cases"];
  ASSERT_EQ(cases.size(), 4u);  // 2 volumes x 2 classes, each pooled over its slices
  EXPECT_EQ(cases[0]["case"], "volume-0");
  EXPECT_EQ(cases[0]["distance_unit"], "voxel");  // 8-bit slices carry no spacing
  EXPECT_EQ(j["distance_unit"], "voxel");
  // volume-0 has 15 slices of 512 x 512: its counts cover them all.
  const int64_t total = cases[0]["tp"].get<int64_t>() + cases[0]["fp"].get<int64_t>() + cases[0]["fn"].get<int64_t>() +
                        cases[0]["tn"].get<int64_t>();
  EXPECT_EQ(total, 15 * 512 * 512);
  CliRun bad = gb_run({"evaluate", "--model", d + "/run/model.safetensors", "--data", data, "--cases", "volume-999",
                       "--out", d + "/ev2"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("no case 'volume-999'"), std::string::npos) << bad.out;
  fs::remove_all(d);
}

// glassbox report on real outputs of train, evaluate and explain (made here by the program itself, on
// a small phantom), then opened in headless Chromium: no console error, every image decoded, every
// chart drew; a screenshot is kept. Skips the browser part, saying so, where Chromium is missing.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../train/run_test_util.h"
#include "report/report.h"
#include "tensor/error.h"

namespace fs = std::filesystem;
using namespace gb;

namespace {

int sh(const std::string& cmd) { return std::system((cmd + " > /dev/null 2>&1").c_str()); }

std::string chromium() {
  for (const char* c : {"chromium", "chromium-browser", "google-chrome"})
    if (sh(std::string("command -v ") + c) == 0) return c;
  return "";
}

// The outputs a user would have: a run, an evaluation of it, explanations of a held-out volume.
struct Outputs {
  std::string root, run, eval, explain;
};
const Outputs& outputs() {
  static Outputs o = [] {
    Outputs r;
    r.root = gbrun::scratch("report");
    const std::string g = std::string("\"") + GB_GLASSBOX_BIN + "\"";
    r.run = r.root + "/run";
    r.eval = r.root + "/eval";
    r.explain = r.root + "/explain";
    EXPECT_EQ(sh(g + " phantom --out " + r.root + "/data --cases 3 --size 64 --depth 10"), 0);
    EXPECT_EQ(sh(g + " train --model tiny --data " + r.root + "/data --steps 8 --batch 2 --size 64 --val-every 4 --out " +
                 r.run + " --device cpu"),
              0);
    const std::string val = gbrun::read_file(r.run + "/val_cases.txt").substr(0, 8);  // volume-N
    EXPECT_EQ(sh(g + " evaluate --model " + r.run + "/model.safetensors --data " + r.root + "/data --out " + r.eval), 0);
    std::string seg = val;
    seg.replace(0, 6, "segmentation");
    EXPECT_EQ(sh(g + " explain --model " + r.run + "/model.safetensors --in " + r.root + "/data/" + val +
                 ".nii.gz --truth " + r.root + "/data/" + seg + ".nii.gz --region truth --method gradcam,ig --steps 8 --out " +
                 r.explain),
              0);
    return r;
  }();
  return o;
}

report::ReportResult make(const std::string& out, const std::vector<std::string>& in) {
  report::ReportOptions o;
  o.inputs = in;
  o.out = out;
  o.force = true;
  return report::write_report(o);
}

// Opens the page in headless Chromium with #selftest and returns the page's verdict.
nlohmann::json selftest(const std::string& browser, const std::string& html) {
  const std::string dom = html + ".dom.txt";
  const std::string cmd = browser + " --headless=new --no-sandbox --disable-gpu --virtual-time-budget=20000 --dump-dom \"file://" +
                          fs::absolute(html).string() + "#selftest\" > \"" + dom + "\" 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string text = gbrun::read_file(dom);
  const size_t at = text.find("<pre id=\"gb-selftest\"");
  if (at == std::string::npos) return nlohmann::json();
  const size_t open = text.find('>', at), close = text.find("</pre>", at);
  if (open == std::string::npos || close == std::string::npos || close <= open + 1) return nlohmann::json();
  return nlohmann::json::parse(text.substr(open + 1, close - open - 1));
}

}  // namespace

TEST(Report, OnePageFromRunEvaluateAndExplainFolders) {
  const Outputs& o = outputs();
  const std::string html = o.root + "/report.html";
  const auto r = make(html, {o.run, o.eval, o.explain});
  EXPECT_EQ(r.charts, 3);
  EXPECT_EQ(r.viewers, 1);
  EXPECT_GE(r.images, 2);
  EXPECT_GE(r.tables, 4);
  const std::string text = gbrun::read_file(html);
  EXPECT_EQ((int64_t)text.size(), r.bytes);
  for (const char* want : {"Training run: run", "Evaluation: eval", "/explain</h2>", "How to read this",
                           "data:image/png;base64,", "Chart.js v", "empty_mask_convention", "chance-random"})
    EXPECT_NE(text.find(want), std::string::npos) << want;
  // Self-contained: nothing is fetched.
  EXPECT_EQ(text.find("src=\"http"), std::string::npos);
  EXPECT_EQ(text.find("<link"), std::string::npos);
}

TEST(Report, BadInputsGetOneClearLineAndNothingIsOverwritten) {
  const Outputs& o = outputs();
  const std::string dir = gbrun::scratch("report_bad");
  fs::create_directories(dir + "/empty");
  report::ReportOptions opt;
  opt.inputs = {dir + "/empty"};
  opt.out = dir + "/r.html";
  try {
    report::write_report(opt);
    FAIL() << "an empty folder was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a glassbox run, evaluate or explain folder"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(opt.out));
  { std::ofstream(opt.out) << "mine"; }
  opt.inputs = {o.run};
  EXPECT_THROW(report::write_report(opt), Error);  // exists, no force
  EXPECT_EQ(gbrun::read_file(opt.out), "mine");
  fs::create_directories(dir + "/broken");
  { std::ofstream(dir + "/broken/metrics.json") << "{ not json"; }
  opt.inputs = {o.run, dir + "/broken"};
  opt.force = true;
  try {
    report::write_report(opt);
    FAIL() << "broken JSON was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broken/metrics.json: not valid JSON"), std::string::npos) << e.what();
  }
  EXPECT_EQ(gbrun::read_file(opt.out), "mine");  // checked before anything was written
}

TEST(Report, OpensInHeadlessChromiumWithoutErrors) {
  const std::string browser = chromium();
  if (browser.empty()) GTEST_SKIP() << "chromium is not installed (scripts/test.sh installs it): browser check skipped";
  const Outputs& o = outputs();
  const std::string html = o.root + "/report_browser.html";
  const auto r = make(html, {o.run, o.eval, o.explain});
  const auto v = selftest(browser, html);
  ASSERT_TRUE(v.is_object()) << "the page wrote no self-test verdict";
  EXPECT_TRUE(v["done"].get<bool>());
  EXPECT_TRUE(v["errors"].empty()) << v["errors"].dump();
  EXPECT_EQ(v["broken"].get<int>(), 0);
  EXPECT_GE(v["images"].get<int64_t>(), r.images);
  EXPECT_EQ(v["chartsDrawn"].get<int>(), 3);
  EXPECT_EQ(v["chartsExpected"].get<int>(), 3);
  // A screenshot, kept next to the report for people to look at.
  const std::string shot = o.root + "/report.png";
  const std::string cmd = browser + " --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1300,1600 "
                          "--virtual-time-budget=5000 --screenshot=\"" + shot + "\" \"file://" + fs::absolute(html).string() +
                          "\" > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_GT(fs::exists(shot) ? fs::file_size(shot) : 0, 10000u) << shot;
}

TEST(Report, TheBrowserCheckCatchesABrokenImage) {
  const std::string browser = chromium();
  if (browser.empty()) GTEST_SKIP() << "chromium is not installed: browser check skipped";
  const Outputs& o = outputs();
  const std::string dir = gbrun::scratch("report_corrupt") + "/explain";
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(o.explain)) fs::copy(e.path(), dir + "/" + e.path().filename().string());
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().string().find("_ct.png") != std::string::npos) {
      std::ofstream(e.path().string(), std::ios::trunc) << "not a png";
      break;
    }
  const std::string html = dir + "/../r.html";
  make(html, {dir});
  const auto v = selftest(browser, html);
  ASSERT_TRUE(v.is_object());
  EXPECT_GE(v["broken"].get<int>(), 1);
}

// Training curves drawn with PLplot (draw/plot.h): the PNG exists, decodes at the asked size, has
// content, and bad requests are clear errors that write nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <thread>

#include "draw/plot.h"
#include "../datasets/datasets_test_util.h"
#include "io/image.h"

using namespace gb;
using namespace gb::draw;
using gbtest::error_of;
using gbtest::ScratchDir;

namespace {

// A plausible run: noisy exponentially decaying loss, its running average, poly-decay lr, and a
// validation every 100 steps with rising Dice.
TrainingCurves sample_run(int steps = 1000) {
  TrainingCurves c;
  c.title = "TransUNet tiny, phantom CT";
  double avg = 0;
  for (int s = 0; s < steps; ++s) {
    double noise = 0.25 * std::sin(s * 12.9898) * std::cos(s * 78.233);
    double loss = (0.08 + 1.1 * std::exp(-s / 180.0)) * (1 + noise);
    avg = s == 0 ? loss : 0.95 * avg + 0.05 * loss;
    c.step.push_back(s);
    c.loss.push_back(loss);
    c.loss_smooth.push_back(avg);
    c.lr.push_back(0.02 * std::pow(1.0 - (double)s / steps, 0.9));
  }
  for (int s = 100; s <= steps; s += 100) {
    c.val_step.push_back(s);
    c.val_liver_dice.push_back(0.95 - 0.6 * std::exp(-s / 200.0));
    c.val_tumour_dice.push_back(0.7 - 0.65 * std::exp(-s / 350.0));
  }
  return c;
}

size_t distinct_colours(const Tensor& rgb) {
  const int64_t n = rgb.size(1) * rgb.size(2);
  const uint8_t* p = rgb.data<uint8_t>();
  std::set<uint32_t> seen;
  for (int64_t i = 0; i < n; ++i) seen.insert((uint32_t)p[i] << 16 | (uint32_t)p[n + i] << 8 | p[2 * n + i]);
  return seen.size();
}

}  // namespace

TEST(TrainingCurves, WritesADecodablePngQuietly) {
  ScratchDir d("plot");
  const std::string png = d.str("curves.png");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  write_training_curves(png, sample_run());
  std::string out = testing::internal::GetCapturedStdout(), err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
  Tensor img = io::read_image(png);
  ASSERT_EQ(img.shape(), (Shape{3, 900, 1200}));
  // Lines in six colours plus anti-aliasing: far from a blank page.
  EXPECT_GT(distinct_colours(img), 20u);
  EXPECT_FALSE(std::filesystem::exists(png + ".tmp"));
  // The asked size.
  PlotOptions o;
  o.width = 640, o.height = 480;
  write_training_curves(d.str("small.png"), sample_run(), o);
  EXPECT_EQ(io::read_image(d.str("small.png")).shape(), (Shape{3, 480, 640}));
}

TEST(TrainingCurves, AwkwardSeriesStillPlot) {
  ScratchDir d("plot_awkward");
  // Loss only, one point.
  TrainingCurves one;
  one.step = {0};
  one.loss = {0.7};
  write_training_curves(d.str("one.png"), one);
  // A loss that reaches 0 (falls back to a linear axis), NaN steps, no lr, no validation.
  TrainingCurves c = sample_run(200);
  c.loss[0] = 0.0;
  c.loss[5] = std::nan("");
  c.loss_smooth[7] = INFINITY;
  c.lr.clear();
  c.val_step.clear(), c.val_liver_dice.clear(), c.val_tumour_dice.clear();
  testing::internal::CaptureStderr();
  write_training_curves(d.str("awkward.png"), c);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_GT(distinct_colours(io::read_image(d.str("awkward.png"))), 5u);
  EXPECT_EQ(io::read_image(d.str("one.png")).size(2), 1200);
}

TEST(TrainingCurves, BadRequestsAreClearErrors) {
  ScratchDir d("plot_bad");
  const std::string png = d.str("bad.png");
  std::string e = error_of([&] { write_training_curves(png, TrainingCurves{}); });
  EXPECT_EQ(e.rfind(png, 0), 0u) << e;
  EXPECT_NE(e.find("empty"), std::string::npos) << e;
  TrainingCurves c = sample_run(50);
  c.lr.pop_back();
  e = error_of([&] { write_training_curves(png, c); });
  EXPECT_NE(e.find("lr has 49 values but step has 50"), std::string::npos) << e;
  c = sample_run(300);
  c.val_tumour_dice.clear();
  EXPECT_NE(error_of([&] { write_training_curves(png, c); }).find("val_tumour_dice"), std::string::npos);
  c = sample_run(3);
  for (double& v : c.loss) v = std::nan("");
  EXPECT_NE(error_of([&] { write_training_curves(png, c); }).find("no finite loss"), std::string::npos);
  PlotOptions tiny;
  tiny.width = 10;
  EXPECT_NE(error_of([&] { write_training_curves(png, sample_run(5), tiny); }).find("10x900"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(png));
  // An unwritable place: named in the error, nothing printed, the process goes on.
  const std::string nowhere = d.str("no/such/folder/curves.png");
  testing::internal::CaptureStderr();
  e = error_of([&] { write_training_curves(nowhere, sample_run(5)); });
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(e.rfind(nowhere, 0), 0u) << e;
  EXPECT_NE(e.find("No such file"), std::string::npos) << e;
}

TEST(TrainingCurves, ConcurrentCallsAndManyStreams) {
  ScratchDir d("plot_threads");
  PlotOptions o;
  o.width = 320, o.height = 240;
  std::vector<std::thread> ts;
  std::vector<std::string> errors(4);
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      try {
        for (int k = 0; k < 3; ++k)
          write_training_curves(d.str("t" + std::to_string(t) + "_" + std::to_string(k) + ".png"), sample_run(100), o);
      } catch (const std::exception& e) {
        errors[(size_t)t] = e.what();
      }
    });
  for (auto& t : ts) t.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(errors[(size_t)t], "");
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(io::read_image(d.str("t" + std::to_string(t) + "_" + std::to_string(k) + ".png")).shape(),
                (Shape{3, 240, 320}));
  }
  // PLplot has a fixed number of stream slots (100): each call must give its slot back.
  for (int k = 0; k < 110; ++k) write_training_curves(d.str("again.png"), sample_run(20), o);
  EXPECT_EQ(io::read_image(d.str("again.png")).shape(), (Shape{3, 240, 320}));
}

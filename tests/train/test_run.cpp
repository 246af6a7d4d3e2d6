// The training run (train/run.h): the loss falls, one seed gives one run, a stopped run resumed gives
// the uninterrupted run bit for bit (on another thread count too), a NaN stops the run and keeps the
// last good checkpoint, and bad input gives one clear error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>

#include "run_test_util.h"
#include "tensor/cpu/parallel.h"
#include "train/checkpoint.h"

using namespace gb;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Run, LossFallsAndFilesAreWritten) {
  const std::string d = gbrun::scratch("falls");
  auto o = gbrun::micro_run(d, 40);
  train::RunResult r = train::start_run(o);
  ASSERT_EQ((int64_t)r.steps.size(), 40);
  double first = 0, last = 0;
  for (int i = 0; i < 8; ++i) first += r.steps[i].loss, last += r.steps[32 + i].loss;
  EXPECT_LT(last, first * 0.85) << "mean loss of the last 8 steps should be clearly below the first 8";
  for (const char* f : {"run.json", "log.csv", "log.jsonl", "curves.png", "train_cases.txt", "val_cases.txt",
                        "best.safetensors", "model.safetensors"})
    EXPECT_TRUE(fs::exists(fs::path(d) / f)) << f;
  // keep_last = 2 step checkpoints
  int n = 0;
  for (auto& e : fs::directory_iterator(fs::path(d) / "checkpoints")) n += e.path().extension() == ".safetensors";
  EXPECT_EQ(n, 2);
  EXPECT_EQ(gbrun::read_file(d + "/val_cases.txt").size() > 0, true);
  // The checkpoint says how to feed the model.
  train::Checkpoint c = train::load_checkpoint(d + "/model.safetensors");
  EXPECT_TRUE(c.preprocess_stored);
  EXPECT_EQ(c.pre.height, 32);
  EXPECT_EQ(c.pre.units, io::Units::HU);
  fs::remove_all(d);
}

TEST(Run, OneSeedOneRunAndResumeIsBitIdentical) {
  const std::string a = gbrun::scratch("a"), b = gbrun::scratch("b"), c = gbrun::scratch("c");
  train::start_run(gbrun::micro_run(a));
  train::start_run(gbrun::micro_run(b));
  EXPECT_EQ(gbrun::log_losses(a), gbrun::log_losses(b));
  EXPECT_TRUE(gbrun::same_weights(a + "/model.safetensors", b + "/model.safetensors"));
  // Stop after step 6 (between checkpoints), then resume on 2 threads.
  std::atomic<bool> stop{false};
  train::RunEvents ev;
  ev.step = [&](const train::StepRecord& r, int64_t, double) {
    if (r.step == 6) stop = true;
  };
  train::RunResult r1 = train::start_run(gbrun::micro_run(c), ev, &stop);
  ASSERT_TRUE(r1.interrupted);
  EXPECT_EQ(r1.steps_done, 7);
  EXPECT_EQ(train::latest_checkpoint(c), c + "/checkpoints/step-00000007.safetensors");
  train::RunResult r2 = train::resume_run(c, {}, nullptr, 2);
  EXPECT_FALSE(r2.interrupted);
  EXPECT_EQ(r2.steps.front().step, 7);
  cpu::set_num_threads(1);
  EXPECT_EQ(gbrun::log_losses(a), gbrun::log_losses(c));
  EXPECT_TRUE(gbrun::same_weights(a + "/model.safetensors", c + "/model.safetensors"));
  EXPECT_TRUE(gbrun::same_weights(a + "/best.safetensors", c + "/best.safetensors"));
  // A different seed is a different run.
  auto od = gbrun::micro_run(b);
  od.seed = 99;
  od.force = true;
  train::start_run(od);
  EXPECT_NE(gbrun::log_losses(a), gbrun::log_losses(b));
  for (auto& d : {a, b, c}) fs::remove_all(d);
}

TEST(Run, ResumeWithAdamWIsBitIdentical) {
  const std::string a = gbrun::scratch("adam_a"), c = gbrun::scratch("adam_c");
  auto oa = gbrun::micro_run(a, 10), oc = gbrun::micro_run(c, 10);
  oa.optimizer = oc.optimizer = "adamw";
  oa.lr = oc.lr = 1e-3;
  train::start_run(oa);
  std::atomic<bool> stop{false};
  train::RunEvents ev;
  ev.step = [&](const train::StepRecord& r, int64_t, double) { stop = r.step == 4; };
  ASSERT_TRUE(train::start_run(oc, ev, &stop).interrupted);
  train::resume_run(c);
  EXPECT_EQ(gbrun::log_losses(a), gbrun::log_losses(c));
  EXPECT_TRUE(gbrun::same_weights(a + "/model.safetensors", c + "/model.safetensors"));
  fs::remove_all(a);
  fs::remove_all(c);
}

TEST(Run, NanStopsAndKeepsTheLastGoodCheckpoint) {
  const std::string d = gbrun::scratch("nan");
  auto o = gbrun::micro_run(d);
  o.fault_nan_at_step = 10;  // checkpoints at 4 and 8
  std::string e = error_of([&] { train::start_run(o); });
  EXPECT_NE(e.find("at step 10"), std::string::npos) << e;
  EXPECT_EQ(train::latest_checkpoint(d), d + "/checkpoints/step-00000008.safetensors");
  EXPECT_FALSE(fs::exists(d + "/model.safetensors"));
  // The run can be resumed from there (the fault hook is part of the options, so it fires again).
  EXPECT_NE(error_of([&] { train::resume_run(d); }).find("at step 10"), std::string::npos);
  fs::remove_all(d);
}

TEST(Run, EpochsCountWholeBatches) {
  const std::string d = gbrun::scratch("epochs");
  auto o = gbrun::micro_run(d, 0);
  o.epochs = 2;
  o.slices = "all";  // 3 training volumes x 8 slices = 24 samples = 12 batches of 2
  train::RunResult r = train::start_run(o);
  EXPECT_EQ(r.total_steps, 24);
  EXPECT_EQ(r.steps.back().epoch, 1);
  fs::remove_all(d);
}

TEST(Run, ValListHoldsOutTheNamedCases) {
  const std::string d = gbrun::scratch("vallist");
  auto o = gbrun::micro_run(d + "/run", 2);
  o.val_cases = -1;
  o.val_list = {"volume-2", "volume-0"};
  train::RunResult r = train::start_run(o);
  EXPECT_EQ(r.val_cases, (std::vector<std::string>{"volume-0", "volume-2"}));
  EXPECT_EQ(gbrun::read_file(d + "/run/val_cases.txt"), "volume-0\nvolume-2\n");
  EXPECT_EQ(gbrun::read_file(d + "/run/train_cases.txt"), "volume-1\nvolume-3\n");
  // run.json keeps the list, so --resume holds out the same cases.
  auto j = nlohmann::json::parse(gbrun::read_file(d + "/run/run.json"));
  EXPECT_EQ(j["options"]["val_list"], nlohmann::json::array({"volume-2", "volume-0"}));
  fs::remove_all(d);
}

TEST(Run, BadInputIsOneClearError) {
  const std::string d = gbrun::scratch("bad");
  auto o = gbrun::micro_run(d);
  auto expect = [&](train::RunOptions x, const std::string& part) {
    std::string e = error_of([&] { train::start_run(x); });
    EXPECT_NE(e.find(part), std::string::npos) << "expected '" << part << "' in: " << e;
  };
  auto x = o;
  x.data = d + "/missing";
  expect(x, "missing: no such data folder");
  fs::create_directories(d + "/empty");
  x.data = d + "/empty";
  expect(x, "empty: the data folder is empty");
  fs::create_directories(d + "/odd");
  std::ofstream(d + "/odd/readme.txt") << "hello";
  x.data = d + "/odd";
  expect(x, "odd");
  x = o;
  x.model = "no-such-model";
  expect(x, "no-such-model");
  x = o;
  x.data = "phantom:1";
  expect(x, "phantom:1");
  x = o;
  x.optimizer = "rmsprop";
  expect(x, "--optimizer");
  x = o;
  x.class_weights = {1, 2};
  expect(x, "--class-weights has 2 values but the model has 3 classes");
  x.class_weights = {1, 0, 2};
  expect(x, "--class-weights must be in (0, 1000]");
  x = o;
  x.val_cases = -1;
  x.val_list = {"volume-9"};
  expect(x, "--val-list: phantom:4:7 has no case 'volume-9'");
  x.val_list = {"volume-1", "volume-1"};
  expect(x, "names 'volume-1' twice");
  x.val_list = {"volume-0", "volume-1", "volume-2", "volume-3"};
  expect(x, "none is left to train on");
  x.val_list = {"volume-1"};
  x.val_cases = 1;
  expect(x, "not both");
  x = o;
  x.out = d + "/file/run";
  std::ofstream(d + "/file") << "x";
  expect(x, "cannot create the run folder");
  // An existing run is not overwritten without force.
  train::start_run(gbrun::micro_run(d + "/run", 2));
  const std::string before = gbrun::read_file(d + "/run/log.csv");
  expect(gbrun::micro_run(d + "/run", 2), "already holds a run");
  EXPECT_EQ(gbrun::read_file(d + "/run/log.csv"), before);
  // --resume of folders that hold no run
  EXPECT_NE(error_of([&] { train::resume_run(d + "/odd"); }).find("holds no glassbox run"), std::string::npos);
  EXPECT_NE(error_of([&] { train::resume_run(d + "/nothing"); }).find("no such run folder"), std::string::npos);
  fs::remove_all(d);
}

TEST(Run, InitFromSafetensorsReportsWhatWasLoaded) {
  const std::string d = gbrun::scratch("init");
  std::filesystem::create_directories(d);
  // Weights of the same architecture, seeded differently: all of them load.
  auto m = models::make_model(models::named_config("micro", 32, 3, 1), 42);
  train::save_checkpoint(d + "/w.safetensors", *m);
  auto o = gbrun::micro_run(d + "/run", 2);
  o.init = d + "/w.safetensors";
  std::string said;
  train::RunEvents ev;
  ev.message = [&](const std::string& s) { said += s + "\n"; };
  train::start_run(o, ev);
  const std::string want = "loaded " + std::to_string(m->state_dict().size()) + " tensors, skipped 0 missing";
  EXPECT_NE(said.find(want), std::string::npos) << said;
  // Another model's weights: nothing matches, one clear error.
  auto u = models::make_model(models::named_config("unet2d-tiny", 32, 3, 1), 1);
  train::save_checkpoint(d + "/u.safetensors", *u);
  o.init = d + "/u.safetensors";
  o.out = d + "/run2";
  EXPECT_NE(error_of([&] { train::start_run(o); }).find("u.safetensors: no weight matched"), std::string::npos);
  fs::remove_all(d);
}

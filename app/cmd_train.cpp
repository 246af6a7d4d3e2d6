// `glassbox train`: trains a model in a run folder (train/run.h does the work); `--resume RUNDIR`
// continues an interrupted run bit for bit. Ctrl-C / SIGTERM: a checkpoint is written, then exit 130.
#include <csignal>
#include <cstdio>

#include "app/command.h"
#include "train/progress.h"
#include "train/run.h"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }

struct TrainArgs {
  gb::train::RunOptions o;
  std::string resume;
  std::vector<std::string> argv;
};

int run_train(TrainArgs& a) {
  using namespace gb::train;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  Progress prog;
  RunEvents ev;
  ev.message = [&](const std::string& s) { prog.message(s); };
  ev.step = [&](const StepRecord& r, int64_t total, double eta) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "step %lld/%lld  loss %.4f  lr %.5f  %.1f img/s  ETA %s", (long long)r.step + 1,
                  (long long)total, r.loss, r.lr, r.images_per_s, format_duration(eta).c_str());
    prog.update(buf, r.step + 1 == total);
    if (r.validated) {
      std::snprintf(buf, sizeof buf, "validation at step %lld: Dice liver %.3f, tumour %.3f", (long long)r.step + 1,
                    r.val_liver, r.val_tumour);
      prog.message(buf);
    }
  };
  RunResult res;
  try {
    res = a.resume.empty() ? start_run(a.o, ev, &g_stop) : resume_run(a.resume, ev, &g_stop, a.o.threads);
  } catch (...) {
    prog.finish();
    throw;
  }
  prog.finish();
  const std::string dir = a.resume.empty() ? a.o.out : a.resume;
  if (res.interrupted) return 130;
  std::printf("trained %lld steps -> %s\n", (long long)res.steps_done, res.final_checkpoint.c_str());
  if (res.best_step >= 0)
    std::printf("best validation (step %lld): Dice liver %.3f, tumour %.3f -> %s/best.safetensors\n",
                (long long)res.best_step, res.best_liver, res.best_tumour, dir.c_str());
  std::printf("log: %s/log.csv, curves: %s/curves.png, run: %s/run.json\n", dir.c_str(), dir.c_str(), dir.c_str());
  return 0;
}

gb::app::Register reg("train", "train a segmentation model on LiTS, MSD, a slice folder or phantom data",
                      [](CLI::App& sub) {
  auto a = std::make_shared<TrainArgs>();  // owned by the action below (freed at exit)
  auto& o = a->o;
  o.steps = 0;
  sub.add_option("--model", o.model, "model config: r50-vit-b16, vit-b16, tiny, tiny-vit, micro, unet2d, unet2d-tiny, unet3d, unet3d-small, unet3d-tiny")->capture_default_str();
  sub.add_option("--config", o.config_file, "model config JSON file (instead of --model)");
  sub.add_option("--data", o.data, "data folder (LiTS, MSD Task03 or images/+masks/ slices; detected), phantom:N[:SEED], or stacks:FOLDER[:SIZE] (a slice folder's complete stacks as volumes)");
  sub.add_option("--out", o.out, "run folder");
  sub.add_option("--resume", a->resume, "continue the run in this folder from its last checkpoint");
  sub.add_option("--init", o.init, "start from weights: the official R50+ViT-B_16.npz or a safetensors");
  sub.add_option("--size", o.size, "input size (2-D) or patch edge (3-D); 0 = the config's")->capture_default_str();
  sub.add_option("--patch", o.patch, "3-D patch D H W")->expected(3);
  sub.add_option("--val-cases", o.val_cases, "cases held out for validation (default: --val-fraction)");
  sub.add_option("--val-list", o.val_list, "these cases held out for validation, e.g. volume-35,volume-37 (the same volumes across datasets)")
      ->delimiter(',');
  sub.add_option("--val-fraction", o.val_fraction, "fraction of cases held out for validation")->capture_default_str();
  sub.add_option("--seed", o.seed, "seed: split, initial weights, dropout, augmentation")->capture_default_str();
  sub.add_option("--steps", o.steps, "optimiser steps");
  sub.add_option("--epochs", o.epochs, "epochs (2-D models; instead of --steps)");
  sub.add_option("--batch", o.batch, "batch size")->capture_default_str();
  sub.add_option("--optimizer", o.optimizer, "sgd or adamw")->capture_default_str();
  sub.add_option("--lr", o.lr, "base learning rate")->capture_default_str();
  sub.add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str();
  sub.add_option("--weight-decay", o.weight_decay, "weight decay")->capture_default_str();
  sub.add_flag("!--no-poly", o.poly, "constant learning rate instead of poly decay");
  sub.add_option("--slices", o.slices, "volumes: train on 'liver' slices or 'all'")->capture_default_str();
  sub.add_option("--oversample", o.oversample, "times each tumour slice is seen per epoch")->capture_default_str();
  sub.add_option("--class-weights", o.class_weights,
                 "loss weight per class, comma-separated (e.g. 1,1,3: tumour errors cost 3x); default all 1")
      ->delimiter(',');
  sub.add_option("--foreground-fraction", o.foreground_fraction, "3-D: share of patches forced onto foreground")->capture_default_str();
  sub.add_flag("!--no-augment", o.augment, "no augmentation");
  sub.add_option("--window-lo", o.window_lo, "HU window low")->capture_default_str();
  sub.add_option("--window-hi", o.window_hi, "HU window high")->capture_default_str();
  sub.add_option("--channels", o.channels, "model input channels (1 or 3)")->capture_default_str();
  sub.add_flag("--context", o.context_2p5d, "2.5-D input: slices k-1, k, k+1 as 3 channels");
  sub.add_option("--val-every", o.val_every, "steps between validations (0: 10 per run)")->capture_default_str();
  sub.add_option("--ckpt-every", o.ckpt_every, "steps between checkpoints (0: 10 per run)")->capture_default_str();
  sub.add_option("--keep-last", o.keep_last, "step checkpoints kept")->capture_default_str();
  sub.add_option("--threads", o.threads, "CPU threads (results do not depend on it)")->capture_default_str();
  sub.add_option("--device", o.device, "cpu, cuda or auto (the CPU, saying why, without a usable GPU)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  sub.add_option("--phantom-size", o.phantom_size, "phantom: data, in-plane size")->capture_default_str();
  sub.add_option("--phantom-depth", o.phantom_depth, "phantom: data, slices per volume")->capture_default_str();
  sub.add_flag("--force", o.force, "replace a run that is already in --out");
  sub.add_option("--fault-nan-at-step", o.fault_nan_at_step, "testing: make this step's loss NaN")->group("");
  return [a] {
    a->o.command_line = gb::app::command_line();
    if (!a->resume.empty()) {
      GB_CHECK(a->o.data.empty() && a->o.out.empty(), "train: --resume takes the run folder alone (its run.json holds the rest)");
    } else {
      GB_CHECK(!a->o.data.empty(), "train: --data is required");
      GB_CHECK(!a->o.out.empty(), "train: --out RUNDIR is required");
      if (a->o.steps == 0 && a->o.epochs == 0) a->o.steps = 1000;
    }
    return run_train(*a);
  };
});

}  // namespace

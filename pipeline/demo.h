// `glassbox demo`: the whole paper on built-in phantom data, with no download, through the same
// library calls as the commands:
//   1. a seeded phantom CT dataset in the LiTS layout                          -> <out>/data/
//   2. TransUNet (the small R50-ViT layout) and the U-Net baseline trained on the same split with
//      the same preprocessing, each in a run folder                            -> <out>/runs/<model>/
//   3. the held-out cases segmented by each model and scored as LiTS does (per-case and global Dice,
//      surface distances, lesion detection), with the paired comparison        -> <out>/evaluate/
//   4. every held-out tumour explained with Grad-CAM and Integrated Gradients by each model (per
//      tumour, the slice where it is largest; target = tumour logits over the true tumour), with the
//      saliency metrics against the tumour beside the random and edge baselines -> <out>/explain/<model>/<case>/
//   5. one self-contained report.html of all of it                            -> <out>/report.html
// Steps are timed; what to open is returned for the command to print.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace gb::pipeline {

struct DemoModel {
  std::string config = "tiny";  // a named config (models/config.h)
  int64_t steps = 1500, batch = 4;  // 1500: tumour Dice >= 0.60 on the held-out phantoms in ~4.5 min
  std::string optimizer = "adamw";
  double lr = 1e-3;
};

struct DemoOptions {
  std::string out = "glassbox-demo";
  int64_t cases = 12, size = 128, depth = 24;  // phantom volumes, in-plane size (= model input), slices
  // Smallest tumour radius of the demo's phantoms (mm). The generator reaches down to 4 mm, which at
  // the demo's ~3 mm pixels is a lesion of one or two pixels that no model at this resolution sees.
  double min_tumour_mm = 10.0;
  // HU window of the preprocessing: a liver window. Against the default [-200, 250] it doubles the
  // contrast of 20-40 HU lesions in 60 HU liver (measured: held-out tumour Dice 0.25 -> 0.41).
  double window_lo = -50, window_hi = 200;
  uint64_t seed = 1234;
  std::vector<DemoModel> models;   // empty: default_demo_models()
  int64_t oversample = 4;          // tumour slices seen this many times per epoch
  std::vector<double> class_weights;  // loss weight per class (train --class-weights; empty: all 1)
  double val_fraction = 0.25;      // held-out cases
  int64_t ig_steps = 32;           // Gauss-Legendre nodes
  int64_t max_tumours = 6;         // explained per held-out case (the largest first)
  std::string device = "cpu";     // cpu | cuda | auto: training, evaluation and explanations (train/device.h)
  std::string command;             // for run.json and the report
};
std::vector<DemoModel> default_demo_models();

struct DemoScore {
  std::string model;
  double liver_dice = 0, tumour_dice = 0;          // per-case means over the held-out cases
  double liver_global = 0, tumour_global = 0;      // pooled
  double train_seconds = 0;
};

struct DemoResult {
  std::string data, evaluate, report;
  std::vector<std::string> runs, explains;
  std::vector<DemoScore> scores;
  std::vector<std::string> val_cases;
  int64_t explained_tumours = 0;
  double seconds = 0;
};

struct DemoEvents {
  std::function<void(const std::string&)> message;                 // one-off lines
  std::function<void(const std::string& line, bool done)> progress;  // live lines (training, explaining)
};

DemoResult run_demo(const DemoOptions& opt, const DemoEvents& ev = {});

}  // namespace gb::pipeline

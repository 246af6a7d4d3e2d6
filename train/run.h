// A training run in a run folder: what `glassbox train` does, as a library call.
//
// RUNDIR/
//   run.json             everything needed to reproduce the run: command line, options, resolved model
//                        config, preprocessing, split, seed, engine version, threads
//   train_cases.txt      the split, one case id a line
//   val_cases.txt
//   log.csv, log.jsonl   one row per step (loss, CE, Dice loss, lr, seconds, images/s; validation
//                        Dice on the rows where it ran); the step number is the first field
//   curves.png           loss and validation Dice (PLplot), redrawn at each validation
//   checkpoints/step-NNNNNNNN.safetensors   every ckpt_every steps and at a stop; the last keep_last
//                        are kept. Each holds the weights, the optimiser state, the step, the loader
//                        position (epoch, batch) and the dropout RNG offsets, so --resume continues
//                        bit for bit (CPU results do not depend on the thread count).
//   best.safetensors     the checkpoint with the best validation tumour Dice (ties: liver Dice)
//   model.safetensors    the final model
// Every file is written to a temporary file, fsynced and renamed: a crash leaves the old file or the
// new one, never half of one. A non-finite loss stops the run with an error naming the step before
// anything is written for it, so the last good checkpoint stays as it was.
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "io/dataset.h"
#include "io/preprocess_spec.h"
#include "models/config.h"

namespace gb::train {

struct RunOptions {
  // model
  std::string model = "tiny";  // a named config (models::config_names())
  std::string config_file;     // or a ModelConfig JSON file (overrides model)
  int64_t size = 0;            // 2-D input size (0: the config's); 3-D models: patch edge (see patch)
  std::vector<int64_t> patch;  // 3-D models: patch D, H, W (empty: the config's size)
  std::string init;            // weights to start from: official R50+ViT-B_16.npz or a safetensors
  // data
  std::string data;            // LiTS / MSD / slice folder, or "phantom:N[:SEED]"
  int64_t phantom_size = 128, phantom_depth = 32;  // for phantom: data
  int64_t val_cases = -1;      // cases held out for validation (-1: use val_fraction)
  double val_fraction = 0.2;
  std::vector<std::string> val_list;  // these cases held out (overrides val_cases / val_fraction), so
                                      // runs on different datasets can hold out the same volumes
  uint64_t seed = 1234;        // names the split, the initial weights, dropout and augmentation
  // schedule
  int64_t steps = 0, epochs = 0;  // exactly one > 0 (epochs: 2-D models)
  int64_t batch = 24;
  std::string optimizer = "sgd";  // sgd (official TransUNet) or adamw
  double lr = 0.01, momentum = 0.9, weight_decay = 1e-4;
  bool poly = true;               // lr * (1 - step / steps)^0.9
  // sampling
  std::string slices = "liver";   // volumes: "liver" (slices showing liver) or "all"
  int64_t oversample = 1;         // tumour slices seen this many times per epoch
  std::vector<double> class_weights;  // loss weight per class (empty: all 1, the official recipe)
  double foreground_fraction = 1.0 / 3.0;  // 3-D: patches forced to contain foreground
  bool augment = true;
  // preprocessing (units come from the data)
  float window_lo = -200.f, window_hi = 250.f;
  int channels = 1;
  bool context_2p5d = false;
  // bookkeeping
  int64_t val_every = 0;      // steps between validations (0: 10 per run)
  int64_t ckpt_every = 0;     // steps between checkpoints (0: 10 per run)
  int64_t keep_last = 3;      // step checkpoints kept
  int threads = 0;            // 0: as configured (GB_THREADS / hardware)
  std::string out;            // the run folder
  bool force = false;         // allow a run folder that already holds a run (it is replaced)
  std::string device = "auto";  // cpu | cuda | auto (train/device.h): the CPU, saying why, without a usable GPU
  std::string command_line;   // for run.json
  // Test hook: make the loss of this step NaN (-1: never). Used to check the NaN stop.
  int64_t fault_nan_at_step = -1;

  std::string to_json() const;
  static RunOptions from_json(const std::string& json, const std::string& where);
};

struct StepRecord {
  int64_t step = 0, epoch = 0;
  double loss = 0, ce = 0, dice = 0, lr = 0, seconds = 0, images_per_s = 0;
  bool validated = false;
  double val_liver = 0, val_tumour = 0;
};

struct RunEvents {
  std::function<void(const std::string&)> message;    // one-off lines (what was loaded, where files are)
  std::function<void(const StepRecord&, int64_t total, double eta_s)> step;  // after each step
};

struct RunResult {
  int64_t steps_done = 0, total_steps = 0;
  bool interrupted = false;  // stopped by the stop flag; a checkpoint was written
  bool has_validation = false;
  double best_tumour = -1, best_liver = -1;
  int64_t best_step = -1;
  std::string final_checkpoint;  // model.safetensors (or the stop checkpoint when interrupted)
  std::vector<std::string> val_cases;  // the held-out cases (as in val_cases.txt)
  std::vector<StepRecord> steps;  // this invocation's steps
};

// Starts a new run in opt.out. `stop` (may be null) is polled after every step; when it becomes
// true a checkpoint is written and the call returns with interrupted = true.
RunResult start_run(const RunOptions& opt, const RunEvents& ev = {}, const std::atomic<bool>* stop = nullptr);
// Continues the run in `rundir` from its latest checkpoint. Options come from its run.json; `threads`
// (> 0) may differ, results do not.
RunResult resume_run(const std::string& rundir, const RunEvents& ev = {}, const std::atomic<bool>* stop = nullptr,
                     int threads = 0);

// The dataset a --data string names: a folder (layout detected), phantom:N[:SEED], or
// stacks:FOLDER[:SIZE] (the complete stacks of a slice folder as volumes, io::open_slice_stacks).
std::unique_ptr<io::Dataset> open_data(const std::string& data, uint64_t default_seed, int64_t phantom_size,
                                       int64_t phantom_depth);

// The latest checkpoints/step-*.safetensors of a run folder ("" when none).
std::string latest_checkpoint(const std::string& rundir);

const char* engine_version();

}  // namespace gb::train

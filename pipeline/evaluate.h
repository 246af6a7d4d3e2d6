// "Evaluate a folder" and "evaluate models on a dataset": the library behind `glassbox evaluate`.
//
// Two ways in:
//   pred + truth   two folders of label maps matched by name (match_key): NIfTI (.nii, .nii.gz) or
//                  PNG slices. A truth folder may also be a dataset (LiTS: its segmentation-N files;
//                  MSD: labelsTr/; slice folder: masks/). A prediction without truth, or truth
//                  without prediction, is an error naming the file; so is a pair whose geometry
//                  differs (the message names both files).
//   models + data  each checkpoint segments the dataset's cases (the same inference as `glassbox
//                  segment`) and is scored; several models give one comparison table with a paired
//                  Wilcoxon test and bootstrap intervals per figure (eval/compare.h).
// A case is a volume; slices (PNG, or the items of a slice-folder dataset) named <case>_slice_<S>
// are pooled into their case (eval/metrics.h CaseScorer). Outputs: <out>/metrics.csv and
// <out>/metrics.json (refused when present unless force; written to a temporary name and renamed)
// and the console table.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "eval/report_table.h"

namespace gb::pipeline {

struct EvaluateOptions {
  std::string pred, truth;              // folder mode
  std::vector<std::string> models;      // model mode: checkpoints
  std::string data;                     // model mode: dataset folder or phantom:N[:SEED]
  int64_t phantom_size = 128, phantom_depth = 32;
  std::vector<std::string> cases;       // restrict to these case ids (default: all)
  std::string out;                      // folder for metrics.csv and metrics.json
  bool force = false;
  std::vector<eval::ClassDef> classes = eval::lits_classes();
  eval::MetricOptions metrics;
  int64_t resamples = 1000;             // bootstrap resamples
  uint64_t seed = 1234;                 // bootstrap seed (Philox)
  int64_t batch = 8;                    // slices per forward pass
  std::string device = "cpu";           // model mode: cpu | cuda | auto (train/device.h), per checkpoint;
                                        // the CPU, saying why (message), without a usable GPU
  std::string command;                  // the command line, recorded in metrics.json
};

struct EvaluateResult {
  std::vector<eval::ModelScores> models;
  std::vector<eval::Comparison> comparisons;
  eval::ReportInfo info;
  std::string table;               // eval::format_table
  std::string csv_path, json_path;
  std::vector<std::string> devices;  // model mode: where each checkpoint ran ("cpu", "cuda")
};

// progress(line, done): one line per step of the work (a case scored). message(line): a line that
// stays, said before the work starts (why a checkpoint runs on the CPU although --device asked for a
// GPU; each distinct note once).
using EvaluateProgress = std::function<void(const std::string& line, bool done)>;
using EvaluateMessage = std::function<void(const std::string& line)>;
EvaluateResult evaluate(const EvaluateOptions& opt, const EvaluateProgress& progress = {},
                        const EvaluateMessage& message = {});

// File name -> the key pred and truth files are matched by: the name without .nii.gz / .nii / .png,
// without a trailing _seg, _pred, _mask or _label, and "segmentation-N" read as "volume-N" (LiTS), so
// volume-3_seg.nii.gz (glassbox segment), volume-3_pred.nii.gz (glassbox demo) and
// segmentation-3.nii match, and so do volume-3_slice_46_seg.png and volume-3_slice_46_mask.png.
std::string match_key(const std::string& filename);
// The case a key belongs to: "<case>_slice_<S>" -> "<case>", else the key itself.
std::string case_of_key(const std::string& key);

struct FilePair {
  std::string key, pred, truth;
};
// Label files of both folders paired by key (sorted by key); probability maps (*_prob_*) of glassbox
// segment are skipped. Throws naming the first unmatched or duplicated file. With `cases`, only files
// of those cases (case_of_key) are paired and checked; the rest of both folders is ignored.
std::vector<FilePair> match_files(const std::string& pred_dir, const std::string& truth_dir,
                                  const std::vector<std::string>& cases = {});

// "liver=1,2" -> {liver, {1, 2}}; throws one line for a malformed spec.
eval::ClassDef parse_class(const std::string& spec);

}  // namespace gb::pipeline

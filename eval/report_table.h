// What `glassbox evaluate` writes: the console table, metrics.csv (one row per model, case and
// class) and metrics.json (everything: rows, summaries, comparisons, the conventions). Undefined
// figures are "-" on the console, empty in the CSV, null in the JSON. Every output states the
// empty-mask convention (eval/metrics.h) and the distance unit.
#pragma once
#include <string>
#include <vector>

#include "eval/compare.h"

namespace gb::eval {

struct ReportInfo {
  std::string command;        // the command line
  std::string source;         // "pred: DIR, truth: DIR" or "data: PATH"
  std::string distance_unit;  // "mm", or "voxel" when some case had no spacing
  std::vector<ClassDef> classes;
  int64_t resamples = 1000;
  uint64_t seed = 1234;
};

std::string format_table(const std::vector<ModelScores>& models, const std::vector<Comparison>& comparisons,
                         const ReportInfo& info);
// Both write to a temporary name and rename (io/safetensors.h write_file_atomically).
void write_metrics_csv(const std::string& path, const std::vector<ModelScores>& models);
void write_metrics_json(const std::string& path, const std::vector<ModelScores>& models,
                        const std::vector<Comparison>& comparisons, const ReportInfo& info);

// The CSV's header line (for tests and readers).
std::string metrics_csv_header();

}  // namespace gb::eval

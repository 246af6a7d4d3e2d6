// Several models scored on the same cases: per-model summaries and, for every pair of models, a
// paired comparison per class and figure over the cases where both are defined: the mean
// difference (a - b) with a 95% bootstrap interval and the Wilcoxon signed-rank test (eval/stats.h).
#pragma once
#include <string>
#include <vector>

#include "eval/metrics.h"

namespace gb::eval {

struct ModelScores {
  std::string name;                  // what the tables call it (checkpoint path or "prediction")
  std::vector<ClassScore> rows;      // one per case and class
  std::vector<ClassSummary> summary; // one per class, in class order
};

struct Comparison {
  std::string a, b, cls, metric;
  int64_t n = 0;  // cases paired (both defined)
  double mean_a = SurfaceMetrics::kNaN, mean_b = SurfaceMetrics::kNaN, mean_diff = SurfaceMetrics::kNaN;
  Interval diff_ci;
  Wilcoxon test;
};

// Fills m.summary for each model (classes in the given order).
void summarise_models(std::vector<ModelScores>& models, const std::vector<ClassDef>& classes, int64_t resamples,
                      uint64_t seed);
// Pairs (i < j) in model order, then classes, then case_metric_names().
std::vector<Comparison> compare_models(const std::vector<ModelScores>& models, const std::vector<ClassDef>& classes,
                                       int64_t resamples, uint64_t seed);

}  // namespace gb::eval

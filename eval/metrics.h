// Every figure of one class on one case, and the same pooled over cases (DESIGN.md §6).
//
// Per case and class, from the voxel counts TP, FP, FN, TN:
//   Dice = 2TP / (2TP + FP + FN)      IoU = TP / (TP + FP + FN)      VOE = 1 - IoU
//   sensitivity = TP / (TP + FN)      specificity = TN / (TN + FP)   precision = TP / (TP + FP)
//   RVD = (|P| - |G|) / |G|
// plus ASSD, MSD, HD95 (eval/surface.h; mm when the spacing is known, else voxels) and lesion
// detection (eval/lesions.h).
// Empty-mask convention (kEmptyMaskConvention, written into every output): truth and prediction
// both empty -> Dice = IoU = 1, VOE = 0; exactly one empty -> Dice = IoU = 0, VOE = 1. Any other
// ratio whose denominator is 0 (sensitivity, precision, RVD with an empty truth ...) is undefined,
// and so are the surface distances whenever either mask is empty: undefined is NaN here, empty in
// metrics.csv, null in metrics.json, "-" on the console; never 0. The rule applied is kept per row
// (EmptyRule) and counted per class (ClassSummary).
//
// Pooled over cases: global figures from the counts summed over all voxels of all cases (the
// global Dice LiTS ranks by), beside the mean over cases of each per-case figure (cases where it is
// undefined left out, their number given) with a bootstrap interval.
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include "eval/labels.h"
#include "eval/lesions.h"
#include "eval/stats.h"
#include "eval/surface.h"

namespace gb::eval {

extern const char* const kEmptyMaskConvention;

enum class EmptyRule { None, BothEmpty, TruthEmpty, PredEmpty };
const char* empty_rule_name(EmptyRule r);  // "", "both_empty", "truth_empty", "pred_empty"

struct MetricOptions {
  bool surface = true;
  bool lesions = true;
  double lesion_iou = 0.5;
};

struct ClassScore {
  std::string case_id, cls;
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  EmptyRule empty = EmptyRule::None;
  double dice = SurfaceMetrics::kNaN, iou = SurfaceMetrics::kNaN, voe = SurfaceMetrics::kNaN;
  double sensitivity = SurfaceMetrics::kNaN, specificity = SurfaceMetrics::kNaN, precision = SurfaceMetrics::kNaN;
  double rvd = SurfaceMetrics::kNaN;
  SurfaceMetrics surface;     // undefined when either mask is empty (or surface metrics are off)
  bool surface_computed = false;
  bool spacing_known = true;  // false: distances in voxels (slices without spacing)
  int64_t surface_parts_skipped = 0;  // slices with the class on one side only (see CaseScorer)
  LesionScore lesions;
  bool lesions_computed = false;
};

// The overlap figures from counts, with the empty-mask convention.
void finish_overlap(ClassScore& s);

// Scores one class of one case from one or more parts (a volume, or the slices of a volume, whose
// counts, surface-distance sets and lesions are pooled: 2-D surfaces and 8-connected lesions per slice).
// Surface distances are undefined when the case's truth or prediction is empty; a slice where the
// class is on one side only has no 2-D distance to measure: it adds nothing to the pooled distance
// sets and is counted in surface_parts_skipped (0 for a volume scored whole).
class CaseScorer {
 public:
  CaseScorer(std::string case_id, ClassDef cls, MetricOptions opt = {});
  // pred, truth: i32 label maps of one shape, [H, W] or [D, H, W]; spacing_xyz mm (x = W, y = H, z = D).
  void add(const Tensor& pred, const Tensor& truth, const std::array<double, 3>& spacing_xyz, bool spacing_known = true);
  ClassScore finish() const;

 private:
  ClassScore s_;
  ClassDef cls_;
  MetricOptions opt_;
  std::vector<double> a_to_b_, b_to_a_;
  bool any_part_ = false;
};

// Scores every class of one case given as a single part.
std::vector<ClassScore> score_case(const std::string& case_id, const Tensor& pred, const Tensor& truth,
                                   const std::array<double, 3>& spacing_xyz, const std::vector<ClassDef>& classes,
                                   const MetricOptions& opt = {});

// The per-case figures by name, in table order ("dice", "iou", ..., "hd95", "lesion_f1", ...).
const std::vector<std::string>& case_metric_names();
double metric_value(const ClassScore& s, const std::string& name);  // NaN when undefined
bool lower_is_better(const std::string& name);                     // distances, VOE, |RVD|

struct MetricMean {
  double mean = SurfaceMetrics::kNaN;
  int64_t n = 0;  // cases where the figure is defined
  Interval ci;    // bootstrap 95% interval of the mean
};

struct ClassSummary {
  std::string cls;
  int64_t cases = 0;
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;  // summed over cases
  double global_dice = SurfaceMetrics::kNaN, global_iou = SurfaceMetrics::kNaN;
  double global_sensitivity = SurfaceMetrics::kNaN, global_precision = SurfaceMetrics::kNaN;
  std::map<std::string, MetricMean> mean;  // by case_metric_names()
  int64_t both_empty = 0, truth_empty = 0, pred_empty = 0;  // cases each rule applied to
  int64_t surface_undefined = 0;  // cases without surface distances
  LesionScore lesions;            // pooled over cases
};

// rows: ClassScores of one class (any order). resamples 0 skips the intervals.
ClassSummary summarise_class(const std::vector<ClassScore>& rows, const std::string& cls, int64_t resamples = 1000,
                             uint64_t seed = 1234);

// u8 0/1 mask of the voxels whose label is in `values` ([numel] of the contiguous labels).
std::vector<uint8_t> class_mask_u8(const Tensor& labels, const std::vector<int32_t>& values);

}  // namespace gb::eval

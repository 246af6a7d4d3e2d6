#include "eval/metrics.h"

#include <algorithm>
#include <cmath>

namespace gb::eval {

namespace {
constexpr double kNaN = SurfaceMetrics::kNaN;
double ratio(int64_t a, int64_t b) { return b ? (double)a / (double)b : kNaN; }
}  // namespace

const char* const kEmptyMaskConvention =
    "truth and prediction both empty: Dice = IoU = 1, VOE = 0; exactly one empty: Dice = IoU = 0, VOE = 1; "
    "other ratios with a zero denominator (sensitivity, precision, RVD, lesion recall/precision) and all surface "
    "distances of an empty mask are undefined (not 0)";

const char* empty_rule_name(EmptyRule r) {
  switch (r) {
    case EmptyRule::BothEmpty: return "both_empty";
    case EmptyRule::TruthEmpty: return "truth_empty";
    case EmptyRule::PredEmpty: return "pred_empty";
    default: return "";
  }
}

void finish_overlap(ClassScore& s) {
  const int64_t P = s.tp + s.fp, G = s.tp + s.fn;
  s.empty = P == 0 && G == 0 ? EmptyRule::BothEmpty : G == 0 ? EmptyRule::TruthEmpty : P == 0 ? EmptyRule::PredEmpty
                                                                                             : EmptyRule::None;
  if (s.empty == EmptyRule::BothEmpty) {
    s.dice = s.iou = 1.0;
  } else {
    s.dice = 2.0 * (double)s.tp / (double)(P + G);
    s.iou = (double)s.tp / (double)(s.tp + s.fp + s.fn);
  }
  s.voe = 1.0 - s.iou;
  s.sensitivity = ratio(s.tp, G);
  s.specificity = ratio(s.tn, s.tn + s.fp);
  s.precision = ratio(s.tp, P);
  s.rvd = G ? (double)(P - G) / (double)G : kNaN;
}

std::vector<uint8_t> class_mask_u8(const Tensor& labels, const std::vector<int32_t>& values) {
  GB_CHECK(labels.defined() && labels.dtype() == DType::I32, "class_mask_u8: expected i32 labels, got ",
           labels.defined() ? labels.desc() : "undefined");
  Tensor x = labels.contiguous();
  const int32_t* p = x.data<int32_t>();
  // Lookup for small label values (the usual case), search otherwise.
  int32_t hi = 0;
  for (int32_t v : values) hi = std::max(hi, v);
  std::vector<uint8_t> lut(std::min<int32_t>(hi, 255) + 1, 0);
  for (int32_t v : values)
    if (v >= 0 && v < (int32_t)lut.size()) lut[v] = 1;
  std::vector<uint8_t> m((size_t)x.numel());
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    const int32_t v = p[i];
    m[i] = v >= 0 && v < (int32_t)lut.size() ? lut[v] : std::find(values.begin(), values.end(), v) != values.end();
  }
  return m;
}

CaseScorer::CaseScorer(std::string case_id, ClassDef cls, MetricOptions opt) : cls_(std::move(cls)), opt_(opt) {
  s_.case_id = std::move(case_id);
  s_.cls = cls_.name;
}

void CaseScorer::add(const Tensor& pred, const Tensor& truth, const std::array<double, 3>& spacing_xyz, bool spacing_known) {
  GB_CHECK(pred.defined() && truth.defined() && pred.shape() == truth.shape() && (pred.dim() == 2 || pred.dim() == 3),
           "CaseScorer: ", s_.case_id, ": prediction ", pred.defined() ? pred.desc() : "undefined", " and truth ",
           truth.defined() ? truth.desc() : "undefined", " must be label maps of one shape");
  const auto mp = class_mask_u8(pred, cls_.labels), mt = class_mask_u8(truth, cls_.labels);
  for (size_t i = 0; i < mp.size(); ++i) {
    const int c = mp[i] * 2 + mt[i];
    s_.tp += c == 3, s_.fp += c == 2, s_.fn += c == 1, s_.tn += c == 0;
  }
  any_part_ = true;
  if (!spacing_known) s_.spacing_known = false;
  const int ndim = (int)pred.dim();
  if (opt_.surface) {
    s_.surface_computed = true;
    const std::array<int64_t, 3> dims{ndim == 3 ? pred.size(0) : 1, pred.size(ndim - 2), pred.size(ndim - 1)};
    DirectedDistances d =
        surface_distances(mp.data(), mt.data(), dims, ndim, {spacing_xyz[2], spacing_xyz[1], spacing_xyz[0]});
    const bool p_any = std::find(mp.begin(), mp.end(), 1) != mp.end();
    const bool t_any = std::find(mt.begin(), mt.end(), 1) != mt.end();
    if (p_any != t_any) ++s_.surface_parts_skipped;
    a_to_b_.insert(a_to_b_.end(), d.a_to_b.begin(), d.a_to_b.end());
    b_to_a_.insert(b_to_a_.end(), d.b_to_a.begin(), d.b_to_a.end());
  }
  if (opt_.lesions) {
    s_.lesions_computed = true;
    const std::array<int64_t, 3> dims{ndim == 3 ? pred.size(0) : 1, pred.size(ndim - 2), pred.size(ndim - 1)};
    s_.lesions.add(detect_lesions(mp.data(), mt.data(), dims, ndim, opt_.lesion_iou));
  }
}

ClassScore CaseScorer::finish() const {
  GB_CHECK(any_part_, "CaseScorer: ", s_.case_id, ": nothing added");
  ClassScore s = s_;
  finish_overlap(s);
  const bool both_present = s.tp + s.fp > 0 && s.tp + s.fn > 0;
  if (opt_.surface && both_present) s.surface = summarise_surface(a_to_b_, b_to_a_);
  s.surface.border_a = (int64_t)a_to_b_.size(), s.surface.border_b = (int64_t)b_to_a_.size();
  return s;
}

std::vector<ClassScore> score_case(const std::string& case_id, const Tensor& pred, const Tensor& truth,
                                   const std::array<double, 3>& spacing_xyz, const std::vector<ClassDef>& classes,
                                   const MetricOptions& opt) {
  std::vector<ClassScore> out;
  for (const auto& c : classes) {
    CaseScorer sc(case_id, c, opt);
    sc.add(pred, truth, spacing_xyz);
    out.push_back(sc.finish());
  }
  return out;
}

const std::vector<std::string>& case_metric_names() {
  static const std::vector<std::string> n = {"dice", "iou", "sensitivity", "specificity", "precision", "voe", "rvd",
                                             "assd", "msd", "hd95", "lesion_recall", "lesion_precision", "lesion_f1",
                                             "lesion_dice"};
  return n;
}

double metric_value(const ClassScore& s, const std::string& n) {
  if (n == "dice") return s.dice;
  if (n == "iou") return s.iou;
  if (n == "sensitivity") return s.sensitivity;
  if (n == "specificity") return s.specificity;
  if (n == "precision") return s.precision;
  if (n == "voe") return s.voe;
  if (n == "rvd") return s.rvd;
  if (n == "assd") return s.surface.assd;
  if (n == "msd") return s.surface.msd;
  if (n == "hd95") return s.surface.hd95;
  if (!s.lesions_computed) return kNaN;
  if (n == "lesion_recall") return s.lesions.recall();
  if (n == "lesion_precision") return s.lesions.precision();
  if (n == "lesion_f1") return s.lesions.f1();
  if (n == "lesion_dice") return s.lesions.mean_lesion_dice();
  GB_CHECK(false, "metric_value: unknown metric ", n);
  return kNaN;
}

bool lower_is_better(const std::string& n) { return n == "voe" || n == "assd" || n == "msd" || n == "hd95"; }

ClassSummary summarise_class(const std::vector<ClassScore>& rows, const std::string& cls, int64_t resamples,
                             uint64_t seed) {
  ClassSummary s;
  s.cls = cls;
  std::vector<const ClassScore*> mine;
  for (const auto& r : rows)
    if (r.cls == cls) mine.push_back(&r);
  s.cases = (int64_t)mine.size();
  for (const ClassScore* r : mine) {
    s.tp += r->tp, s.fp += r->fp, s.fn += r->fn, s.tn += r->tn;
    s.both_empty += r->empty == EmptyRule::BothEmpty;
    s.truth_empty += r->empty == EmptyRule::TruthEmpty;
    s.pred_empty += r->empty == EmptyRule::PredEmpty;
    s.surface_undefined += !r->surface.defined;
    if (r->lesions_computed) s.lesions.add(r->lesions);
  }
  ClassScore pooled;
  pooled.tp = s.tp, pooled.fp = s.fp, pooled.fn = s.fn, pooled.tn = s.tn;
  if (s.cases) {
    finish_overlap(pooled);
    s.global_dice = pooled.dice, s.global_iou = pooled.iou;
    s.global_sensitivity = pooled.sensitivity, s.global_precision = pooled.precision;
  }
  const auto& names = case_metric_names();
  for (size_t k = 0; k < names.size(); ++k) {
    std::vector<double> v;
    for (const ClassScore* r : mine) {
      const double x = metric_value(*r, names[k]);
      if (!std::isnan(x)) v.push_back(x);
    }
    MetricMean m;
    m.n = (int64_t)v.size();
    if (!v.empty()) {
      double sum = 0;
      for (double x : v) sum += x;
      m.mean = sum / (double)v.size();
      // One Philox stream per metric, so adding a metric never moves another's interval.
      m.ci = bootstrap_mean_ci(v, resamples, seed, k);
    }
    s.mean[names[k]] = m;
  }
  return s;
}

}  // namespace gb::eval

#include "eval/report_table.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "io/safetensors.h"

namespace gb::eval {

namespace {

std::string num(double v, const char* fmt = "%.6g", const char* undefined = "") {
  if (std::isnan(v)) return undefined;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char b[64];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}
std::string jnum(double v) { return std::isfinite(v) ? num(v, "%.10g") : "null"; }
std::string jstr(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if ((unsigned char)c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else o += c;
  }
  return o + "\"";
}
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}
std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

}  // namespace

std::string metrics_csv_header() {
  std::string h = "model,case,class,tp,fp,fn,tn,pred_voxels,truth_voxels";
  for (const auto& n : case_metric_names()) h += "," + n;
  h += ",distance_unit,border_pred,border_truth,surface_parts_skipped,lesions_truth,lesions_pred,lesions_found,"
       "empty_rule,empty_mask_convention";
  return h;
}

void write_metrics_csv(const std::string& path, const std::vector<ModelScores>& models) {
  std::ostringstream o;
  o << metrics_csv_header() << "\n";
  for (const auto& m : models)
    for (const auto& r : m.rows) {
      o << csv_field(m.name) << "," << csv_field(r.case_id) << "," << csv_field(r.cls) << "," << r.tp << "," << r.fp
        << "," << r.fn << "," << r.tn << "," << r.tp + r.fp << "," << r.tp + r.fn;
      for (const auto& n : case_metric_names()) o << "," << num(metric_value(r, n), "%.10g");
      o << "," << (r.spacing_known ? "mm" : "voxel") << "," << r.surface.border_a << "," << r.surface.border_b << ","
        << r.surface_parts_skipped << ",";
      if (r.lesions_computed) o << r.lesions.truth << "," << r.lesions.pred << "," << r.lesions.found;
      else o << ",,";
      // The convention is spelled out on the rows it decided (and named in the header on all).
      o << "," << empty_rule_name(r.empty) << "," << (r.empty == EmptyRule::None ? "" : csv_field(kEmptyMaskConvention))
        << "\n";
    }
  const std::string text = o.str();
  io::write_file_atomically(path, "metrics.csv", [&](std::FILE* f) { std::fwrite(text.data(), 1, text.size(), f); });
}

void write_metrics_json(const std::string& path, const std::vector<ModelScores>& models,
                        const std::vector<Comparison>& comparisons, const ReportInfo& info) {
  std::ostringstream o;
  o << "{\n  \"format\": \"glassbox-metrics\",\n  \"command\": " << jstr(info.command)
    << ",\n  \"source\": " << jstr(info.source) << ",\n  \"empty_mask_convention\": " << jstr(kEmptyMaskConvention)
    << ",\n  \"distance_unit\": " << jstr(info.distance_unit)
    << ",\n  \"surface\": " << jstr("border = foreground voxels with a background face neighbour (6 in 3-D, 4 in 2-D) "
                                    "or on the volume edge; ASSD = mean of both directed distance sets pooled; MSD = "
                                    "max; HD95 = 95th percentile of both directed sets pooled (linear interpolation)")
    << ",\n  \"lesions\": " << jstr("connected components (26-connectivity in 3-D, 8 in 2-D); a true lesion is found "
                                    "when a predicted component overlaps it with IoU > 0.5; per-lesion Dice against "
                                    "the predicted components touching it")
    << ",\n  \"statistics\": " << jstr("per-case means with 95% bootstrap percentile intervals (Philox seed " +
                                       std::to_string(info.seed) + ", " + std::to_string(info.resamples) +
                                       " resamples); paired Wilcoxon signed-rank, zeros dropped, exact for n <= 25 "
                                       "without ties, else normal approximation with tie correction")
    << ",\n  \"classes\": [";
  for (size_t i = 0; i < info.classes.size(); ++i) {
    o << (i ? ", " : "") << "{\"name\": " << jstr(info.classes[i].name) << ", \"labels\": [";
    for (size_t k = 0; k < info.classes[i].labels.size(); ++k) o << (k ? ", " : "") << info.classes[i].labels[k];
    o << "]}";
  }
  o << "],\n  \"models\": [";
  for (size_t mi = 0; mi < models.size(); ++mi) {
    const auto& m = models[mi];
    o << (mi ? "," : "") << "\n    {\"name\": " << jstr(m.name) << ",\n     \"summary\": [";
    for (size_t si = 0; si < m.summary.size(); ++si) {
      const auto& s = m.summary[si];
      o << (si ? "," : "") << "\n      {\"class\": " << jstr(s.cls) << ", \"cases\": " << s.cases
        << ", \"global_dice\": " << jnum(s.global_dice) << ", \"global_iou\": " << jnum(s.global_iou)
        << ", \"global_sensitivity\": " << jnum(s.global_sensitivity)
        << ", \"global_precision\": " << jnum(s.global_precision) << ", \"tp\": " << s.tp << ", \"fp\": " << s.fp
        << ", \"fn\": " << s.fn << ", \"tn\": " << s.tn << ", \"both_empty_cases\": " << s.both_empty
        << ", \"truth_empty_cases\": " << s.truth_empty << ", \"pred_empty_cases\": " << s.pred_empty
        << ", \"surface_undefined_cases\": " << s.surface_undefined << ",\n       \"lesions\": {\"truth\": "
        << s.lesions.truth << ", \"pred\": " << s.lesions.pred << ", \"found\": " << s.lesions.found
        << ", \"recall\": " << jnum(s.lesions.recall()) << ", \"precision\": " << jnum(s.lesions.precision())
        << ", \"f1\": " << jnum(s.lesions.f1()) << ", \"mean_lesion_dice\": " << jnum(s.lesions.mean_lesion_dice())
        << "},\n       \"mean\": {";
      bool first = true;
      for (const auto& n : case_metric_names()) {
        const auto& mm = s.mean.at(n);
        o << (first ? "" : ", ") << jstr(n) << ": {\"mean\": " << jnum(mm.mean) << ", \"n\": " << mm.n
          << ", \"ci95\": [" << jnum(mm.ci.lo) << ", " << jnum(mm.ci.hi) << "]}";
        first = false;
      }
      o << "}}";
    }
    o << "],\n     \"cases\": [";
    for (size_t ri = 0; ri < m.rows.size(); ++ri) {
      const auto& r = m.rows[ri];
      o << (ri ? "," : "") << "\n      {\"case\": " << jstr(r.case_id) << ", \"class\": " << jstr(r.cls)
        << ", \"tp\": " << r.tp << ", \"fp\": " << r.fp << ", \"fn\": " << r.fn << ", \"tn\": " << r.tn
        << ", \"empty_rule\": " << (r.empty == EmptyRule::None ? "null" : jstr(empty_rule_name(r.empty)))
        << ", \"distance_unit\": " << jstr(r.spacing_known ? "mm" : "voxel");
      for (const auto& n : case_metric_names()) o << ", " << jstr(n) << ": " << jnum(metric_value(r, n));
      if (r.lesions_computed) {
        o << ", \"lesions_truth\": " << r.lesions.truth << ", \"lesions_pred\": " << r.lesions.pred
          << ", \"lesions_found\": " << r.lesions.found << ", \"lesion_dice_each\": [";
        for (size_t k = 0; k < r.lesions.lesion_dice.size(); ++k) o << (k ? ", " : "") << jnum(r.lesions.lesion_dice[k]);
        o << "]";
      }
      o << "}";
    }
    o << "]}";
  }
  o << "],\n  \"comparisons\": [";
  for (size_t i = 0; i < comparisons.size(); ++i) {
    const auto& c = comparisons[i];
    o << (i ? "," : "") << "\n    {\"a\": " << jstr(c.a) << ", \"b\": " << jstr(c.b) << ", \"class\": " << jstr(c.cls)
      << ", \"metric\": " << jstr(c.metric) << ", \"n\": " << c.n << ", \"mean_a\": " << jnum(c.mean_a)
      << ", \"mean_b\": " << jnum(c.mean_b) << ", \"mean_diff\": " << jnum(c.mean_diff) << ", \"diff_ci95\": ["
      << jnum(c.diff_ci.lo) << ", " << jnum(c.diff_ci.hi) << "], \"wilcoxon\": {\"n\": " << c.test.n
      << ", \"zeros\": " << c.test.zeros << ", \"statistic\": " << jnum(c.test.statistic) << ", \"p\": "
      << jnum(c.test.p) << ", \"method\": " << jstr(c.test.n == 0 ? "none" : c.test.exact ? "exact" : "normal") << "}}";
  }
  o << "]\n}\n";
  const std::string text = o.str();
  io::write_file_atomically(path, "metrics.json", [&](std::FILE* f) { std::fwrite(text.data(), 1, text.size(), f); });
}

std::string format_table(const std::vector<ModelScores>& models, const std::vector<Comparison>& comparisons,
                         const ReportInfo& info) {
  std::ostringstream o;
  const std::string unit = info.distance_unit;
  auto label = [&](const std::string& n) {
    return n == "assd" || n == "msd" || n == "hd95" ? n + " (" + unit + ")" : n;
  };
  auto cell = [](const MetricMean& m) {
    if (std::isnan(m.mean)) return std::string("-");
    std::string s = num(m.mean, "%.4f");
    if (!std::isnan(m.ci.lo)) s += " [" + num(m.ci.lo, "%.3f") + ", " + num(m.ci.hi, "%.3f") + "]";
    return s;
  };
  const size_t W0 = 24, W = 28;
  for (size_t ci = 0; ci < info.classes.size(); ++ci) {
    const std::string& cls = info.classes[ci].name;
    const ClassSummary& s0 = models.front().summary[ci];
    o << "\n" << cls << " (" << s0.cases << " cases; per-case mean [95% bootstrap interval])\n";
    o << pad("", W0);
    for (const auto& m : models) o << pad(m.name, W);
    o << "\n";
    for (const auto& n : case_metric_names()) {
      o << pad(label(n), W0);
      for (const auto& m : models) {
        const auto& mm = m.summary[ci].mean.at(n);
        o << pad(cell(mm) + (mm.n < m.summary[ci].cases && mm.n > 0 ? " n=" + std::to_string(mm.n) : ""), W);
      }
      o << "\n";
    }
    o << pad("global dice", W0);
    for (const auto& m : models) o << pad(num(m.summary[ci].global_dice, "%.4f", "-"), W);
    o << "\n" << pad("lesions found/true", W0);
    for (const auto& m : models) {
      const auto& l = m.summary[ci].lesions;
      o << pad(std::to_string(l.found) + "/" + std::to_string(l.truth) + " (pred " + std::to_string(l.pred) + ")", W);
    }
    o << "\n" << pad("empty: both/truth/pred", W0);
    for (const auto& m : models) {
      const auto& s = m.summary[ci];
      o << pad(std::to_string(s.both_empty) + "/" + std::to_string(s.truth_empty) + "/" + std::to_string(s.pred_empty) +
                   " (no surface: " + std::to_string(s.surface_undefined) + ")",
               W);
    }
    o << "\n";
    bool header = false;
    for (const auto& c : comparisons) {
      if (c.cls != cls || c.n == 0) continue;
      if (c.metric != "dice" && c.metric != "assd" && c.metric != "hd95" && c.metric != "lesion_f1") continue;
      if (!header) {
        o << "  paired over cases (every figure in metrics.json): mean difference a - b [95% bootstrap], "
             "Wilcoxon signed-rank p\n";
        header = true;
      }
      o << "  " << pad(label(c.metric), W0 - 2) << pad(c.a + " - " + c.b, W)
        << pad(num(c.mean_diff, "%+.4f") + " [" + num(c.diff_ci.lo, "%+.3f", "-") + ", " +
                   num(c.diff_ci.hi, "%+.3f", "-") + "]",
               W);
      if (c.test.n == 0)
        o << "p = - (all " << c.n << " pairs equal)\n";
      else
        o << "p = " << num(c.test.p, "%.4g", "-") << " (" << (c.test.exact ? "exact" : "normal") << "; " << c.test.n
          << " of " << c.n << " pairs differ)\n";
    }
  }
  o << "\nempty-mask convention: " << kEmptyMaskConvention << "\n";
  return o.str();
}

}  // namespace gb::eval

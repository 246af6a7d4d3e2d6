#include "eval/compare.h"

#include <cmath>
#include <map>

namespace gb::eval {

void summarise_models(std::vector<ModelScores>& models, const std::vector<ClassDef>& classes, int64_t resamples,
                      uint64_t seed) {
  for (auto& m : models) {
    m.summary.clear();
    for (const auto& c : classes) m.summary.push_back(summarise_class(m.rows, c.name, resamples, seed));
  }
}

std::vector<Comparison> compare_models(const std::vector<ModelScores>& models, const std::vector<ClassDef>& classes,
                                       int64_t resamples, uint64_t seed) {
  std::vector<Comparison> out;
  const auto& names = case_metric_names();
  uint64_t stream = 1000;  // distinct from summarise_class's streams (0 .. metrics - 1)
  for (size_t i = 0; i < models.size(); ++i)
    for (size_t j = i + 1; j < models.size(); ++j)
      for (const auto& c : classes) {
        // case id -> row, for model j
        std::map<std::string, const ClassScore*> bj;
        for (const auto& r : models[j].rows)
          if (r.cls == c.name) bj[r.case_id] = &r;
        for (const auto& name : names) {
          Comparison cmp;
          cmp.a = models[i].name, cmp.b = models[j].name, cmp.cls = c.name, cmp.metric = name;
          std::vector<double> x, y, d;
          for (const auto& r : models[i].rows) {
            if (r.cls != c.name) continue;
            auto it = bj.find(r.case_id);
            if (it == bj.end()) continue;
            const double va = metric_value(r, name), vb = metric_value(*it->second, name);
            if (std::isnan(va) || std::isnan(vb)) continue;
            x.push_back(va), y.push_back(vb), d.push_back(va - vb);
          }
          cmp.n = (int64_t)d.size();
          if (cmp.n) {
            double sa = 0, sb = 0;
            for (size_t k = 0; k < x.size(); ++k) sa += x[k], sb += y[k];
            cmp.mean_a = sa / (double)cmp.n, cmp.mean_b = sb / (double)cmp.n, cmp.mean_diff = cmp.mean_a - cmp.mean_b;
            cmp.diff_ci = bootstrap_mean_ci(d, resamples, seed, stream);
            cmp.test = wilcoxon_signed_rank(x, y);
          }
          ++stream;
          out.push_back(cmp);
        }
      }
  return out;
}

}  // namespace gb::eval

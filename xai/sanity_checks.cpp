#include "xai/sanity_checks.h"

#include <cmath>
#include <set>

#include "xai/saliency_metrics.h"

namespace gb::xai {

MapCorrelation compare_maps(const Tensor& a, const Tensor& b) {
  GB_CHECK(a.defined() && b.defined(), "compare_maps: undefined map");
  GB_CHECK(a.numel() == b.numel(), "compare_maps: ", a.desc(), " against ", b.desc(), " (element counts differ)");
  std::vector<double> va = a.to(Device::CPU).to_vector(), vb = b.to(Device::CPU).to_vector();
  MapCorrelation c;
  c.spearman_signed = spearman(va, vb);
  for (double& e : va) e = std::fabs(e);
  for (double& e : vb) e = std::fabs(e);
  c.spearman_abs = spearman(va, vb);
  return c;
}

void reinit_scale_matched(const std::string& name, Tensor& param, Generator& gen) {
  GB_CHECK(param.dtype() == DType::F64 && param.is_contiguous(), "reinit_scale_matched: ", name,
           " must arrive as contiguous f64, got ", param.desc());
  const double* p = param.data<double>();
  double ss = 0;
  for (int64_t i = 0; i < param.numel(); ++i) ss += p[i] * p[i];
  const double a = param.numel() ? std::sqrt(3.0 * ss / (double)param.numel()) : 0.0;
  if (a == 0) return;  // all zeros: nothing to match
  gen.uniform_(param, -a, a);
}

std::vector<std::string> cascade_layers(const nn::Module& model) {
  std::vector<std::string> owners;
  for (const auto& [name, t] : model.named_parameters()) {
    (void)t;
    const size_t dot = name.rfind('.');
    const std::string owner = dot == std::string::npos ? "" : name.substr(0, dot);
    if (owners.empty() || owners.back() != owner) owners.push_back(owner);
  }
  return std::vector<std::string>(owners.rbegin(), owners.rend());
}

namespace {

// Puts the trained values back into the randomised parameters when the cascade ends, however it ends.
struct Restore {
  std::vector<std::pair<Tensor, Tensor>> saved;  // (parameter, trained copy)
  ~Restore() {
    for (auto& [param, copy] : saved) param.copy_from(copy);
  }
};

bool under(const std::string& name, const std::string& layer) {
  return layer.empty() || (name.size() > layer.size() && name.compare(0, layer.size(), layer) == 0 &&
                           name[layer.size()] == '.');
}

}  // namespace

CascadeResult cascading_randomisation(nn::Module& model, const ExplainFn& explain, const CascadeOptions& opt) {
  GB_CHECK(static_cast<bool>(explain), "cascading_randomisation: no explain function");
  const std::vector<std::string> layers = opt.layers.empty() ? cascade_layers(model) : opt.layers;
  for (const std::string& l : layers)
    GB_CHECK(l.empty() || model.find_module(l) != nullptr, "cascading_randomisation: no module '", l, "' in the model");
  const ReinitFn reinit = opt.reinit ? opt.reinit : ReinitFn(reinit_scale_matched);
  const nn::NamedTensors params = model.named_parameters();

  CascadeResult r;
  r.original = explain().detach().clone();
  Restore restore;
  std::set<size_t> done;  // indices into params already randomised
  for (const std::string& layer : layers) {
    RandomisationStep st;
    st.layer = layer;
    for (size_t i = 0; i < params.size(); ++i) {
      if (done.count(i) || !under(params[i].first, layer)) continue;
      Tensor p = params[i].second;
      restore.saved.emplace_back(p, p.clone());
      // Work on a host f64 copy so the rule sees one dtype and device; write back in the parameter's own.
      Tensor host = p.to(Device::CPU).to(DType::F64).contiguous().clone();
      Generator gen(opt.seed, (uint64_t)i);
      reinit(params[i].first, host, gen);
      GB_CHECK(host.shape() == p.shape(), "cascading_randomisation: reinit changed the shape of ", params[i].first);
      p.copy_from(host.to(p.dtype()).to(p.device()));
      done.insert(i);
      ++st.tensors;
      st.values += p.numel();
    }
    Tensor map = explain().detach();
    st.correlation = compare_maps(r.original, map);
    if (opt.keep_maps) st.map = map.clone();
    r.steps.push_back(std::move(st));
  }
  return r;
}

DataRandomisationResult data_randomisation_check(const std::vector<Tensor>& trained,
                                                 const std::vector<Tensor>& permuted) {
  GB_CHECK(trained.size() == permuted.size(), "data_randomisation_check: ", trained.size(), " trained maps against ",
           permuted.size(), " permuted-label maps");
  GB_CHECK(!trained.empty(), "data_randomisation_check: no maps");
  DataRandomisationResult r;
  double ss = 0, sa = 0;
  int64_t ns = 0, na = 0;
  for (size_t i = 0; i < trained.size(); ++i) {
    MapCorrelation c = compare_maps(trained[i], permuted[i]);
    r.per_map.push_back(c);
    if (std::isnan(c.spearman_signed) || std::isnan(c.spearman_abs)) ++r.undefined;
    if (!std::isnan(c.spearman_signed)) ss += c.spearman_signed, ++ns;
    if (!std::isnan(c.spearman_abs)) sa += c.spearman_abs, ++na;
  }
  if (ns) r.mean.spearman_signed = ss / (double)ns;
  if (na) r.mean.spearman_abs = sa / (double)na;
  return r;
}

std::vector<int64_t> label_permutation(int64_t n, uint64_t seed) {
  GB_CHECK(n >= 0, "label_permutation: n must be >= 0, got ", n);
  std::vector<int64_t> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  Generator g(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[g.next_int(0, i + 1)]);
  return p;
}

}  // namespace gb::xai

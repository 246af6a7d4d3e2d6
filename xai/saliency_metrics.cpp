#include "xai/saliency_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gb::xai {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The map read once: S' (transformed, host f64) and the pixel indices in ascending order of S'
// (equal values in ascending index, a total order, so every later pass is deterministic).
struct Prepared {
  std::vector<double> s;     // [N] S', row-major
  std::vector<int64_t> asc;  // [N] permutation: s[asc[0]] <= s[asc[1]] <= ...
  int64_t n = 0;
};

std::vector<double> read_map(const Tensor& map, const char* op) {
  GB_CHECK(map.defined(), op, ": map is undefined");
  GB_CHECK(map.dim() == 2 || map.dim() == 3, op, ": map must be [H, W] or [D, H, W], got ", map.desc());
  check_float(map, op, "map");
  GB_CHECK(map.numel() > 0, op, ": map is empty");
  std::vector<double> v = map.to(Device::CPU).to_vector();
  for (size_t i = 0; i < v.size(); ++i)
    GB_CHECK(std::isfinite(v[i]), op, ": map value ", v[i], " at flat index ", i, " is not finite");
  return v;
}

Prepared prepare(const Tensor& map, const SaliencyOptions& opt, const char* op) {
  Prepared p;
  p.s = read_map(map, op);
  for (double& e : p.s) e = opt.sign == MapSign::Abs ? std::fabs(e) : std::max(e, 0.0);
  p.n = (int64_t)p.s.size();
  p.asc.resize(p.s.size());
  std::iota(p.asc.begin(), p.asc.end(), int64_t(0));
  const std::vector<double>& s = p.s;
  std::sort(p.asc.begin(), p.asc.end(), [&s](int64_t a, int64_t b) { return s[a] < s[b] || (s[a] == s[b] && a < b); });
  return p;
}

// mask [same shape as map] -> [N] 0/1
std::vector<uint8_t> read_mask(const Tensor& mask, const Tensor& map, const char* op) {
  GB_CHECK(mask.defined(), op, ": mask is undefined");
  GB_CHECK(mask.shape() == map.shape(), op, ": mask ", mask.desc(), " does not match the map ", map.desc());
  std::vector<double> v = mask.to(Device::CPU).to_vector();
  std::vector<uint8_t> m(v.size());
  for (size_t i = 0; i < v.size(); ++i) m[i] = v[i] != 0 ? 1 : 0;
  return m;
}

int64_t count(const std::vector<uint8_t>& m) { return std::accumulate(m.begin(), m.end(), int64_t(0)); }

// [lo, hi): the run of asc positions whose values equal s[asc[pos]].
std::pair<int64_t, int64_t> tie_run(const Prepared& p, int64_t pos) {
  const double v = p.s[p.asc[pos]];
  int64_t lo = pos, hi = pos + 1;
  while (lo > 0 && p.s[p.asc[lo - 1]] == v) --lo;
  while (hi < p.n && p.s[p.asc[hi]] == v) ++hi;
  return {lo, hi};
}

double pointing_impl(const Prepared& p, const std::vector<uint8_t>& m, int64_t nm) {
  if (nm == 0) return kNaN;
  auto [lo, hi] = tie_run(p, p.n - 1);
  int64_t in = 0;
  for (int64_t i = lo; i < hi; ++i) in += m[p.asc[i]];
  return (double)in / (double)(hi - lo);
}

double mass_impl(const Prepared& p, const std::vector<uint8_t>& m, int64_t nm) {
  if (nm == 0) return kNaN;
  double all = 0, inside = 0;
  for (int64_t i = 0; i < p.n; ++i) {
    all += p.s[i];
    if (m[i]) inside += p.s[i];
  }
  return all > 0 ? inside / all : kNaN;
}

double rank_accuracy_impl(const Prepared& p, const std::vector<uint8_t>& m, int64_t nm) {
  if (nm == 0) return kNaN;
  // The |M|-th largest value sits at ascending position N - |M|; its tie run [lo, hi) straddles the cut.
  auto [lo, hi] = tie_run(p, p.n - nm);
  double above_in = 0, tied_in = 0;
  for (int64_t i = hi; i < p.n; ++i) above_in += m[p.asc[i]];
  for (int64_t i = lo; i < hi; ++i) tied_in += m[p.asc[i]];
  const double above = (double)(p.n - hi), tied = (double)(hi - lo);
  const double take = (double)nm - above;  // how many of the tied pixels the top-|M| holds, 1..tied
  return (above_in + take * tied_in / tied) / (double)nm;
}

double auc_impl(const Prepared& p, const std::vector<uint8_t>& m, int64_t nm) {
  const int64_t nneg = p.n - nm;
  if (nm == 0 || nneg == 0) return kNaN;
  // 2U = sum over in-M pixels of 2 * (#outside pixels below it) + (#outside pixels tied with it):
  // integer arithmetic, exact for any N below 2^31.
  int64_t two_u = 0, neg_below = 0;
  for (int64_t lo = 0; lo < p.n;) {
    int64_t hi = lo + 1;
    while (hi < p.n && p.s[p.asc[hi]] == p.s[p.asc[lo]]) ++hi;
    int64_t pos = 0;
    for (int64_t i = lo; i < hi; ++i) pos += m[p.asc[i]];
    const int64_t neg = (hi - lo) - pos;
    two_u += 2 * pos * neg_below + pos * neg;
    neg_below += neg;
    lo = hi;
  }
  return (double)two_u / (2.0 * (double)nm * (double)nneg);
}

// Otsu over an ascending sample: returns the threshold and leaves `split` = number of values in the
// low class (N when there is no split).
double otsu_sorted(const std::vector<double>& v, int64_t& split) {
  const int64_t n = (int64_t)v.size();
  split = n;
  if (n == 0) return kNaN;
  double total = 0;
  for (double e : v) total += e;
  double best = -1, t = v.back(), s0 = 0;
  for (int64_t i = 0; i < n; ++i) {
    s0 += v[i];
    if (i + 1 == n || v[i + 1] == v[i]) continue;  // split only between distinct values
    const double n0 = (double)(i + 1), n1 = (double)(n - i - 1);
    const double mu0 = s0 / n0, mu1 = (total - s0) / n1;
    const double var = (n0 / n) * (n1 / n) * (mu0 - mu1) * (mu0 - mu1);
    if (var > best) {
      best = var;
      split = i + 1;
      t = 0.5 * (v[i] + v[i + 1]);
    }
  }
  return t;
}

// F = the pixels at ascending positions [first_selected, N) against M.
Overlap overlap(const Prepared& p, const std::vector<uint8_t>& m, int64_t nm, int64_t first_selected,
                double threshold) {
  Overlap o;
  o.threshold = threshold;
  o.selected = p.n - first_selected;
  if (nm == 0) return o;
  int64_t inter = 0;
  for (int64_t i = first_selected; i < p.n; ++i) inter += m[p.asc[i]];
  const double uni = (double)(o.selected + nm - inter);
  o.iou = (double)inter / uni;
  o.dice = 2.0 * (double)inter / (double)(o.selected + nm);
  return o;
}

Overlap otsu_impl(const Prepared& p, const std::vector<uint8_t>& m, int64_t nm) {
  std::vector<double> sorted(p.n);
  for (int64_t i = 0; i < p.n; ++i) sorted[i] = p.s[p.asc[i]];
  int64_t split = 0;
  const double t = otsu_sorted(sorted, split);
  return overlap(p, m, nm, split, t);
}

Overlap topk_impl(const Prepared& p, const std::vector<uint8_t>& m, int64_t nm, double k) {
  GB_CHECK(k > 0 && k <= 1, "saliency: topk_fraction must be in (0, 1], got ", k);
  // ceil(k N), without 0.05 * 400 = 20.000000000000004 turning into 21.
  const double kn = k * (double)p.n;
  int64_t nk = (int64_t)std::llround(kn);
  if (std::fabs(kn - (double)nk) > 1e-9 * std::max(1.0, kn)) nk = (int64_t)std::ceil(kn);
  nk = std::min(std::max<int64_t>(nk, 1), p.n);
  auto [lo, hi] = tie_run(p, p.n - nk);
  (void)hi;
  return overlap(p, m, nm, lo, p.s[p.asc[p.n - nk]]);
}

double gini_impl(const Prepared& p) {
  double l1 = 0, weighted = 0;
  const double n = (double)p.n;
  for (int64_t i = 0; i < p.n; ++i) {
    const double c = p.s[p.asc[i]];
    l1 += c;
    weighted += c * (n - (double)(i + 1) + 0.5);  // rank i + 1 in 1..N
  }
  return l1 > 0 ? 1.0 - 2.0 * weighted / (l1 * n) : kNaN;
}

// ---- deletion / insertion ----

struct ProbeData {
  std::vector<double> image, baseline;  // [C, N] each
  int64_t channels = 0;
  Shape batch_shape;                    // [b, C, *spatial] with b filled in per call
};

ProbeData read_probe(const Tensor& map, const PerturbationProbe& probe, const char* op) {
  GB_CHECK(probe.image.defined(), op, ": probe image is undefined");
  GB_CHECK(static_cast<bool>(probe.score), op, ": probe has no scoring function");
  GB_CHECK(probe.options.steps >= 1, op, ": steps must be >= 1, got ", probe.options.steps);
  GB_CHECK(probe.options.batch >= 1, op, ": batch must be >= 1, got ", probe.options.batch);
  const Tensor& x = probe.image;
  const int64_t sd = map.dim();
  const bool batched = x.dim() == sd + 2 && x.size(0) == 1;
  GB_CHECK(batched || x.dim() == sd + 1, op, ": image must be [1, C, *spatial] or [C, *spatial] for a map ",
           map.desc(), ", got ", x.desc());
  const int64_t lead = x.dim() - sd;
  for (int64_t d = 0; d < sd; ++d)
    GB_CHECK(x.size(lead + d) == map.size(d), op, ": image ", x.desc(), " does not match the map ", map.desc());
  check_float(x, op, "image");
  ProbeData pd;
  pd.channels = x.size(lead - 1);
  pd.image = x.to(Device::CPU).to_vector();
  const Tensor& b = probe.baseline;
  if (!b.defined()) {
    pd.baseline.assign(pd.image.size(), 0.0);
  } else if (b.numel() == 1) {
    pd.baseline.assign(pd.image.size(), b.to(Device::CPU).to_vector()[0]);
  } else {
    GB_CHECK(b.shape() == x.shape(), op, ": baseline ", b.desc(), " must be one value or the image's shape ", x.desc());
    pd.baseline = b.to(Device::CPU).to_vector();
  }
  pd.batch_shape = {0, pd.channels};
  for (int64_t d = 0; d < sd; ++d) pd.batch_shape.push_back(map.size(d));
  return pd;
}

// Moves pixels from `start` towards `target` most-salient first; T is read after 0, k_1, ..., N pixels.
PerturbationCurve perturb(const Tensor& map, const PerturbationProbe& probe, const SaliencyOptions& opt, bool deletion,
                          const char* op) {
  Prepared p = prepare(map, opt, op);
  ProbeData pd = read_probe(map, probe, op);
  const int64_t n = p.n, C = pd.channels, steps = probe.options.steps, bmax = probe.options.batch;
  // Most salient first; equal values in ascending pixel index (reverse each tie run of asc).
  std::vector<int64_t> desc(p.asc.rbegin(), p.asc.rend());
  for (int64_t lo = 0; lo < n;) {
    int64_t hi = lo + 1;
    while (hi < n && p.s[desc[hi]] == p.s[desc[lo]]) ++hi;
    std::reverse(desc.begin() + lo, desc.begin() + hi);
    lo = hi;
  }
  std::vector<double> cur = deletion ? pd.image : pd.baseline;
  const std::vector<double>& target = deletion ? pd.baseline : pd.image;

  PerturbationCurve c;
  std::vector<double> buf;  // [b, C, N]
  buf.reserve((size_t)(std::min(bmax, steps + 1) * C * n));
  int64_t in_buf = 0, moved = 0;
  auto flush = [&] {
    Shape s = pd.batch_shape;
    s[0] = in_buf;
    Tensor batch = Tensor::from_vector(buf, s).to(probe.image.dtype());
    if (probe.image.device() != Device::CPU) batch = batch.to(probe.image.device());
    std::vector<double> t = probe.score(batch);
    GB_CHECK((int64_t)t.size() == in_buf, op, ": the scoring function returned ", t.size(), " values for a batch of ",
             in_buf);
    c.score.insert(c.score.end(), t.begin(), t.end());
    buf.clear();
    in_buf = 0;
  };
  for (int64_t i = 0; i <= steps; ++i) {
    const int64_t k = (2 * i * n + steps) / (2 * steps);  // round(i N / steps)
    for (; moved < k; ++moved) {
      const int64_t px = desc[moved];
      for (int64_t ch = 0; ch < C; ++ch) cur[ch * n + px] = target[ch * n + px];
    }
    c.fraction.push_back((double)k / (double)n);
    buf.insert(buf.end(), cur.begin(), cur.end());
    if (++in_buf == bmax || i == steps) flush();
  }
  c.auc = 0;
  for (size_t i = 1; i < c.score.size(); ++i)
    c.auc += (c.fraction[i] - c.fraction[i - 1]) * 0.5 * (c.score[i] + c.score[i - 1]);
  return c;
}

}  // namespace

SaliencyScores score_map(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt) {
  const char* op = "score_map";
  Prepared p = prepare(map, opt, op);
  std::vector<uint8_t> m = read_mask(mask, map, op);
  const int64_t nm = count(m);
  SaliencyScores r;
  r.pixels = p.n;
  r.mask_pixels = nm;
  r.pointing_game = pointing_impl(p, m, nm);
  r.mass_in_mask = mass_impl(p, m, nm);
  r.rank_accuracy = rank_accuracy_impl(p, m, nm);
  r.roc_auc = auc_impl(p, m, nm);
  r.otsu = otsu_impl(p, m, nm);
  r.topk = topk_impl(p, m, nm, opt.topk_fraction);
  r.gini = gini_impl(p);
  return r;
}

SaliencyScores score_map(const Tensor& map, const Tensor& mask, const PerturbationProbe& probe,
                         const SaliencyOptions& opt) {
  SaliencyScores r = score_map(map, mask, opt);
  r.deletion = deletion_curve(map, probe, opt);
  r.insertion = insertion_curve(map, probe, opt);
  r.deletion_auc = r.deletion.auc;
  r.insertion_auc = r.insertion.auc;
  return r;
}

double pointing_game(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt) {
  Prepared p = prepare(map, opt, "pointing_game");
  auto m = read_mask(mask, map, "pointing_game");
  return pointing_impl(p, m, count(m));
}
double mass_in_mask(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt) {
  Prepared p = prepare(map, opt, "mass_in_mask");
  auto m = read_mask(mask, map, "mass_in_mask");
  return mass_impl(p, m, count(m));
}
double rank_accuracy(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt) {
  Prepared p = prepare(map, opt, "rank_accuracy");
  auto m = read_mask(mask, map, "rank_accuracy");
  return rank_accuracy_impl(p, m, count(m));
}
double roc_auc(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt) {
  Prepared p = prepare(map, opt, "roc_auc");
  auto m = read_mask(mask, map, "roc_auc");
  return auc_impl(p, m, count(m));
}
Overlap overlap_at_otsu(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt) {
  Prepared p = prepare(map, opt, "overlap_at_otsu");
  auto m = read_mask(mask, map, "overlap_at_otsu");
  return otsu_impl(p, m, count(m));
}
Overlap overlap_at_topk(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt) {
  Prepared p = prepare(map, opt, "overlap_at_topk");
  auto m = read_mask(mask, map, "overlap_at_topk");
  return topk_impl(p, m, count(m), opt.topk_fraction);
}
double gini(const Tensor& map, const SaliencyOptions& opt) { return gini_impl(prepare(map, opt, "gini")); }

PerturbationCurve deletion_curve(const Tensor& map, const PerturbationProbe& probe, const SaliencyOptions& opt) {
  return perturb(map, probe, opt, true, "deletion_curve");
}
PerturbationCurve insertion_curve(const Tensor& map, const PerturbationProbe& probe, const SaliencyOptions& opt) {
  return perturb(map, probe, opt, false, "insertion_curve");
}

double otsu_threshold(const std::vector<double>& values) {
  for (double v : values) GB_CHECK(std::isfinite(v), "otsu_threshold: value ", v, " is not finite");
  GB_CHECK(!values.empty(), "otsu_threshold: no values");
  std::vector<double> v = values;
  std::sort(v.begin(), v.end());
  int64_t split = 0;
  return otsu_sorted(v, split);
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  const int64_t n = (int64_t)values.size();
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), int64_t(0));
  std::sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
    return values[a] < values[b] || (values[a] == values[b] && a < b);
  });
  std::vector<double> r(n);
  for (int64_t lo = 0; lo < n;) {
    int64_t hi = lo + 1;
    while (hi < n && values[idx[hi]] == values[idx[lo]]) ++hi;
    const double avg = 0.5 * (double)(lo + 1 + hi);  // mean of ranks lo+1 .. hi
    for (int64_t i = lo; i < hi; ++i) r[idx[i]] = avg;
    lo = hi;
  }
  return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  GB_CHECK(a.size() == b.size(), "spearman: ", a.size(), " values against ", b.size());
  for (size_t i = 0; i < a.size(); ++i)
    GB_CHECK(std::isfinite(a[i]) && std::isfinite(b[i]), "spearman: non-finite value at index ", i);
  const size_t n = a.size();
  if (n < 2) return kNaN;
  std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
  const double mean = 0.5 * (double)(n + 1);  // the mean of average ranks is always (n + 1) / 2
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    const double da = ra[i] - mean, db = rb[i] - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa == 0 || sbb == 0) return kNaN;
  return sab / std::sqrt(saa * sbb);
}

double spearman(const Tensor& a, const Tensor& b) {
  GB_CHECK(a.defined() && b.defined(), "spearman: undefined tensor");
  GB_CHECK(a.numel() == b.numel(), "spearman: ", a.desc(), " against ", b.desc(), " (element counts differ)");
  return spearman(a.to(Device::CPU).to_vector(), b.to(Device::CPU).to_vector());
}

}  // namespace gb::xai

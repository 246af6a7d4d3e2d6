#include "xai/occlusion.h"

#include <algorithm>

#include "xai/gradients.h"

namespace gb::xai {

namespace {
std::vector<int64_t> starts(int64_t size, int64_t patch, int64_t stride) {
  std::vector<int64_t> s;
  for (int64_t p = 0; p + patch <= size; p += stride) s.push_back(p);
  if (s.empty() || s.back() + patch < size) s.push_back(size - patch);
  return s;
}
std::vector<int64_t> per_axis(const std::vector<int64_t>& v, int64_t nd, const char* what) {
  GB_CHECK(v.size() == 1 || (int64_t)v.size() == nd, "occlusion: ", what, " needs 1 or ", nd, " values, got ", v.size());
  std::vector<int64_t> r(nd, v[0]);
  if ((int64_t)v.size() == nd) r = v;
  for (int64_t e : r) GB_CHECK(e >= 1, "occlusion: ", what, " must be >= 1, got ", e);
  return r;
}
}  // namespace

OcclusionResult occlusion(models::SegmentationModel& model, const Tensor& x, const Tensor& baseline,
                          const Target& target, const OcclusionOptions& opt) {
  GB_CHECK((x.dim() == 4 || x.dim() == 5) && x.size(0) == 1, "occlusion: input must be [1, C, *spatial], got ", x.desc());
  GB_CHECK(baseline.shape() == x.shape(), "occlusion: baseline ", baseline.desc(), " does not match ", x.desc());
  const int64_t nd = x.dim() - 2, C = x.size(1);
  const Shape spatial(x.shape().begin() + 2, x.shape().end());
  const auto patch = per_axis(opt.patch, nd, "patch"), stride = per_axis(opt.stride, nd, "stride");
  for (int64_t d = 0; d < nd; ++d)
    GB_CHECK(patch[d] <= spatial[d], "occlusion: patch ", patch[d], " larger than the input axis ", spatial[d]);
  // Every patch origin, axis 0 slowest.
  std::vector<std::vector<int64_t>> axis(nd);
  for (int64_t d = 0; d < nd; ++d) axis[d] = starts(spatial[d], patch[d], stride[d]);
  std::vector<std::vector<int64_t>> origins{{}};
  for (int64_t d = 0; d < nd; ++d) {
    std::vector<std::vector<int64_t>> next;
    for (auto& o : origins)
      for (int64_t s : axis[d]) {
        auto e = o;
        e.push_back(s);
        next.push_back(e);
      }
    origins = next;
  }
  int64_t P = 1;
  for (int64_t s : spatial) P *= s;
  const auto xv = x.contiguous().to_vector(), bv = baseline.contiguous().to_vector();
  // Calls f(flat spatial index) for every pixel of patch o.
  auto for_patch = [&](const std::vector<int64_t>& o, auto&& f) {
    std::vector<int64_t> c(o);
    while (true) {
      int64_t off = 0;
      for (int64_t d = 0; d < nd; ++d) off = off * spatial[d] + c[d];
      f(off);
      int64_t d = nd - 1;
      while (d >= 0 && ++c[d] == o[d] + patch[d]) c[d] = o[d], --d;
      if (d < 0) break;
    }
  };
  const Shape chw(x.shape().begin() + 1, x.shape().end());
  auto make = [&](int64_t s) {  // s == 0: x itself; s >= 1: patch s - 1 occluded
    std::vector<double> v = xv;
    if (s > 0)
      for_patch(origins[s - 1], [&](int64_t p) {
        for (int64_t c = 0; c < C; ++c) v[c * P + p] = bv[c * P + p];
      });
    return Tensor::from_vector(v, chw).to(x.dtype());
  };
  OcclusionResult r;
  r.patches = (int64_t)origins.size();
  r.batch = opt.batch > 0 ? opt.batch
                          : batch_for_budget(opt.memory_mb, bytes_per_sample(model, x, true), r.patches + 1);
  const auto T = target_values(model, r.patches + 1, make, target, r.batch);
  r.T_input = T[0];
  std::vector<double> sum(P, 0.0), cnt(P, 0.0);
  for (int64_t j = 0; j < r.patches; ++j) {
    const double d = T[0] - T[j + 1];
    for_patch(origins[j], [&](int64_t p) { sum[p] += d, cnt[p] += 1; });
  }
  for (int64_t p = 0; p < P; ++p) sum[p] = cnt[p] > 0 ? sum[p] / cnt[p] : 0.0;
  r.map = Tensor::from_vector(sum, spatial);
  return r;
}

}  // namespace gb::xai

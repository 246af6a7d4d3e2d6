#include "io/patch_loader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace gb::io {
namespace {

const char* kWhat = "patch loader";

// Origin range [lo, hi] of a patch of size p along an axis of size n: inside the volume when it fits,
// else the volume centred in the patch (lo == hi < 0: -lo voxels of padding before it).
struct Range {
  int64_t lo, hi;
};
Range origin_range(int64_t n, int64_t p) {
  if (n >= p) return {0, n - p};
  const int64_t before = -((p - n) / 2);
  return {before, before};
}

// Copies the part of vol [D, H, W] (contiguous) inside the box at origin o of size p into out
// [p0, p1, p2] (contiguous, prefilled with the pad value).
template <class T>
void crop(const Tensor& vol, const std::array<int64_t, 3>& o, const std::array<int64_t, 3>& p, T* out) {
  const int64_t D = vol.size(0), H = vol.size(1), W = vol.size(2);
  const T* src = vol.data<T>();
  const int64_t x0 = std::max<int64_t>(0, o[2]), x1 = std::min(W, o[2] + p[2]);
  if (x1 <= x0) return;
  for (int64_t z = std::max<int64_t>(0, o[0]); z < std::min(D, o[0] + p[0]); ++z)
    for (int64_t y = std::max<int64_t>(0, o[1]); y < std::min(H, o[1] + p[1]); ++y)
      std::memcpy(out + ((z - o[0]) * p[1] + (y - o[1])) * p[2] + (x0 - o[2]), src + (z * H + y) * W + x0,
                  sizeof(T) * (size_t)(x1 - x0));
}

void shuffle(std::vector<int64_t>& v, Generator& g) {
  for (int64_t i = (int64_t)v.size() - 1; i >= 1; --i) std::swap(v[(size_t)i], v[(size_t)g.next_int(0, i + 1)]);
}

}  // namespace

int64_t first_forced(int64_t batch_size, double foreground_fraction) {
  return (int64_t)std::llround((double)batch_size * (1.0 - foreground_fraction));
}

PatchLoader::PatchLoader(const Dataset& ds, std::vector<int64_t> items, const PatchLoaderOptions& opt)
    : ds_(ds), items_(std::move(items)), opt_(opt) {
  GB_CHECK(ds.is_volume(), kWhat, ": ", ds.name(), " holds 2-D slices; 3-D patches need a volume dataset");
  GB_CHECK(!items_.empty(), kWhat, ": ", ds.name(), ": the item list is empty (an empty split?)");
  GB_CHECK(opt.batch_size >= 1, kWhat, ": batch_size must be >= 1, got ", opt.batch_size);
  GB_CHECK(opt.patch[0] >= 1 && opt.patch[1] >= 1 && opt.patch[2] >= 1, kWhat,
           ": patch size must be positive, got ", opt.patch[0], "x", opt.patch[1], "x", opt.patch[2]);
  GB_CHECK(opt.foreground_fraction >= 0 && opt.foreground_fraction <= 1, kWhat,
           ": foreground_fraction must be in [0, 1], got ", opt.foreground_fraction);
  GB_CHECK(opt.foreground_label >= 0, kWhat, ": foreground_label must be >= 0 (0 = any label >= 1), got ",
           opt.foreground_label);
  GB_CHECK(opt.cache_volumes >= 1, kWhat, ": cache_volumes must be >= 1, got ", opt.cache_volumes);
  GB_CHECK(opt.steps_per_group >= 1, kWhat, ": steps_per_group must be >= 1, got ", opt.steps_per_group);
  for (int64_t u : items_) {
    GB_CHECK(u >= 0 && u < ds.size(), kWhat, ": item ", u, " out of range for ", ds.name(), " (", ds.size(), " items)");
    GB_CHECK(!ds.item(u).label_path.empty() || ds.item(u).image_path.empty(), ds.item(u).image_path,
             ": patch loader needs labelled items, this one has no label");
  }
}

std::vector<int64_t> PatchLoader::group_items(int64_t step) const {
  GB_CHECK(step >= 0, kWhat, ": step must be >= 0, got ", step);
  const int64_t n = (int64_t)items_.size(), K = std::min(opt_.cache_volumes, n);
  const int64_t groups = (n + K - 1) / K;  // per round; the last may be smaller
  const int64_t g = step / opt_.steps_per_group, round = g / groups, chunk = g % groups;
  std::vector<int64_t> order = items_;
  Generator gr(opt_.seed, kPatchRoundStream + (uint64_t)round);
  shuffle(order, gr);
  return std::vector<int64_t>(order.begin() + chunk * K, order.begin() + std::min(n, (chunk + 1) * K));
}

std::shared_ptr<const PatchLoader::Cached> PatchLoader::volume(int64_t item) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = lru_.begin(); it != lru_.end(); ++it)
    if (it->first == item) {
      lru_.splice(lru_.begin(), lru_, it);
      ++stats_.cache_hits;
      return lru_.front().second;
    }
  // Evict before loading so that at most K volumes are ever resident here (callers may still hold one).
  while ((int64_t)lru_.size() >= opt_.cache_volumes) lru_.pop_back();
  Sample s = ds_.load(item);
  const std::string& path = s.info.image_path.empty() ? s.info.id : s.info.image_path;
  GB_CHECK(s.label.data.defined(), path, ": patch loader needs a label volume");
  GB_CHECK(s.image.data.dim() == 3 && s.label.data.shape() == s.image.data.shape(), path,
           ": expected image and label [D, H, W] of one shape, got ", s.image.data.desc(), " and ", s.label.data.desc());
  auto c = std::make_shared<Cached>();
  c->image01 = to_unit_range(s.image.data.to(DType::F32), s.units, opt_.window).contiguous();
  c->label = s.label.data.to(DType::I32).contiguous();
  const int32_t* lab = c->label.data<int32_t>();
  const int32_t want = opt_.foreground_label;
  for (int64_t i = 0; i < c->label.numel(); ++i)
    if (want == 0 ? lab[i] >= 1 : lab[i] == want) c->fg.push_back(i);
  lru_.push_front({item, c});
  ++stats_.volume_loads;
  stats_.max_cached = std::max<int64_t>(stats_.max_cached, (int64_t)lru_.size());
  return c;
}

Batch PatchLoader::batch(int64_t step) {
  const std::vector<int64_t> group = group_items(step);
  const int64_t B = opt_.batch_size;
  const std::array<int64_t, 3>& p = opt_.patch;
  const int64_t pn = p[0] * p[1] * p[2];
  Batch out;
  out.index = step;
  out.image = Tensor::zeros({B, 1, p[0], p[1], p[2]}, DType::F32);  // 0 = windowed air: the padding
  out.label = Tensor::zeros({B, p[0], p[1], p[2]}, DType::I32);
  Generator g(opt_.seed, kPatchStream + (uint64_t)step);
  const int64_t forced_from = first_forced(B, opt_.foreground_fraction);
  int64_t forced = 0, fallback = 0;
  for (int64_t i = 0; i < B; ++i) {
    const int64_t item = group[(size_t)g.next_int(0, (int64_t)group.size())];
    auto v = volume(item);
    const std::array<int64_t, 3> n{v->image01.size(0), v->image01.size(1), v->image01.size(2)};
    std::array<int64_t, 3> o{};
    const bool force = i >= forced_from;
    forced += force;
    if (force && !v->fg.empty()) {
      int64_t c = v->fg[(size_t)g.next_int(0, (int64_t)v->fg.size())];
      const std::array<int64_t, 3> cz{c / (n[1] * n[2]), (c / n[2]) % n[1], c % n[2]};
      for (int a = 0; a < 3; ++a) {
        const Range r = origin_range(n[a], p[a]);
        o[a] = std::clamp(cz[a] - p[a] / 2, r.lo, r.hi);  // centred on the voxel, shifted inward at borders
      }
    } else {
      fallback += force;
      for (int a = 0; a < 3; ++a) {
        const Range r = origin_range(n[a], p[a]);
        o[a] = r.lo + g.next_int(0, r.hi - r.lo + 1);
      }
    }
    crop<float>(v->image01, o, p, out.image.data<float>() + i * pn);
    crop<int32_t>(v->label, o, p, out.label.data<int32_t>() + i * pn);
    out.ids.push_back(ds_.item(item).id + "@" + std::to_string(o[0]) + "," + std::to_string(o[1]) + "," +
                      std::to_string(o[2]));
  }
  std::lock_guard<std::mutex> l(mu_);
  stats_.forced += forced;
  stats_.forced_fallback += fallback;
  return out;
}

PatchLoaderStats PatchLoader::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace gb::io

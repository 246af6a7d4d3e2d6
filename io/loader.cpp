#include "io/loader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

namespace gb::io {

// label i32 [D, H, W]: does slice k hold a voxel >= min_label?
static bool slice_has_label(const Tensor& label, int64_t k, int32_t min_label) {
  if (!label.defined()) return false;
  const int64_t hw = label.size(1) * label.size(2);
  const int32_t* p = label.contiguous().data<int32_t>() + k * hw;
  for (int64_t i = 0; i < hw; ++i)
    if (p[i] >= min_label) return true;
  return false;
}
// label i32 [D, H, W]: does slice k hold a voxel == value?
static bool slice_has_exact_label(const Tensor& label, int64_t k, int32_t value) {
  if (!label.defined()) return false;
  const int64_t hw = label.size(1) * label.size(2);
  const int32_t* p = label.contiguous().data<int32_t>() + k * hw;
  for (int64_t i = 0; i < hw; ++i)
    if (p[i] == value) return true;
  return false;
}
namespace {

template <class T> void shuffle(std::vector<T>& v, Generator& g) {
  for (int64_t i = (int64_t)v.size() - 1; i >= 1; --i) std::swap(v[(size_t)i], v[(size_t)g.next_int(0, i + 1)]);
}

}  // namespace

Loader::Loader(const Dataset& ds, const LoaderOptions& opt) : ds_(ds), opt_(opt) {
  GB_CHECK(opt.batch_size >= 1, "loader: batch_size must be >= 1, got ", opt.batch_size);
  opt.pre.validate("loader");
  GB_CHECK(opt.pre.depth == 0, "loader: this loader makes 2-D slices; 3-D models use io/patch_loader.h");
  GB_CHECK(ds.units() == opt.pre.units, "loader: ", ds.name(), " holds ", units_name(ds.units()),
           " data but the preprocessing expects ", units_name(opt.pre.units));
  GB_CHECK(opt.cache_volumes >= 1, "loader: cache_volumes must be >= 1, got ", opt.cache_volumes);
  GB_CHECK(opt.queue_batches >= 1, "loader: queue_batches must be >= 1, got ", opt.queue_batches);
  if (opt.items.empty())
    for (int64_t i = 0; i < ds.size(); ++i) units_.push_back(i);
  else
    units_ = opt.items;
  GB_CHECK(!units_.empty(), "loader: ", ds.name(), " has no items to load");
  for (int64_t u : units_) {
    GB_CHECK(u >= 0 && u < ds.size(), "loader: item ", u, " out of range for ", ds.name(), " (", ds.size(), " items)");
    GB_CHECK(!ds.item(u).label_path.empty() || ds.item(u).image_path.empty(), ds.item(u).image_path,
             ": loader needs labelled items, this one has no label");
  }
  if (!ds.is_volume() && opt.pre.context_2p5d) {
    // Neighbours among ALL items of the dataset (not only the chosen ones): same case, adjacent slice.
    std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> by_case;  // case -> (slice, item)
    for (int64_t i = 0; i < ds.size(); ++i) by_case[ds.item(i).case_id].push_back({ds.item(i).slice, i});
    for (auto& [c, v] : by_case) {
      std::sort(v.begin(), v.end());
      for (size_t k = 0; k < v.size(); ++k)
        neighbours_[v[k].second] = {v[k == 0 ? 0 : k - 1].second, v[k + 1 < v.size() ? k + 1 : k].second};
    }
  }
}

Loader::~Loader() { stop(); }

void Loader::stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_put_.notify_all();
  cv_get_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Loader::start_epoch(int64_t epoch, int64_t skip_batches) {
  GB_CHECK(epoch >= 0, "loader: epoch must be >= 0, got ", epoch);
  GB_CHECK(skip_batches >= 0, "loader: skip_batches must be >= 0, got ", skip_batches);
  stop();
  std::lock_guard<std::mutex> l(mu_);
  queue_.clear();
  done_ = stop_ = false;
  error_ = nullptr;
  stats_.samples = 0;
  worker_ = std::thread([this, epoch, skip_batches] { run(epoch, skip_batches); });
}

bool Loader::next(Batch& out) {
  std::unique_lock<std::mutex> l(mu_);
  GB_CHECK(worker_.joinable(), "loader: next() before start_epoch()");
  cv_get_.wait(l, [&] { return !queue_.empty() || done_ || error_ || stop_; });
  if (!queue_.empty()) {
    out = std::move(queue_.front());
    queue_.pop_front();
    cv_put_.notify_all();
    return true;
  }
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
  return false;
}

int64_t Loader::count_epoch_samples() {
  start_epoch(0, std::numeric_limits<int64_t>::max() / (opt_.batch_size + 1));
  Batch b;
  while (next(b)) {
  }
  return stats().samples;
}

LoaderStats Loader::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

int64_t Loader::samples_per_epoch() const {
  if (!ds_.is_volume()) return (int64_t)units_.size();
  std::lock_guard<std::mutex> l(mu_);
  int64_t n = 0;
  for (int64_t u : units_) {
    auto it = depth_.find(u);
    if (it == depth_.end()) return -1;
    n += it->second;
  }
  return n;
}

void Loader::push(Batch&& b) {
  std::unique_lock<std::mutex> l(mu_);
  cv_put_.wait(l, [&] { return (int64_t)queue_.size() < opt_.queue_batches || stop_; });
  if (stop_) return;
  queue_.push_back(std::move(b));
  stats_.max_queued = std::max<int64_t>(stats_.max_queued, (int64_t)queue_.size());
  cv_get_.notify_all();
}

std::shared_ptr<const Loader::Cached> Loader::volume(int64_t item) {
  for (auto it = lru_.begin(); it != lru_.end(); ++it)
    if (it->first == item) {
      lru_.splice(lru_.begin(), lru_, it);  // most recently used first
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.cache_hits;
      return lru_.front().second;
    }
  // Evict before loading so that at most K volumes are ever resident.
  while ((int64_t)lru_.size() >= opt_.cache_volumes) lru_.pop_back();
  Sample s = ds_.load(item);
  GB_CHECK(s.label.data.defined(), s.info.image_path, ": loader needs a label volume");
  auto c = std::make_shared<Cached>();
  c->image01 = pre_intensities(s.image.data, opt_.pre);
  c->label = s.label.data.contiguous();
  lru_.push_front({item, c});
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.volume_loads;
  stats_.max_cached = std::max<int64_t>(stats_.max_cached, (int64_t)lru_.size());
  depth_[item] = c->image01.size(0);
  return c;
}

Tensor Loader::slice_image(int64_t item) {
  Sample s = ds_.load(item);
  return match_channels(pre_intensities(s.image.data, opt_.pre), 1);
}

void Loader::make_sample(int64_t item, int64_t slice, int64_t n, int64_t epoch, Tensor& img, Tensor& lab) {
  if (ds_.is_volume()) {
    auto v = volume(item);
    img = pre_slice(v->image01, slice, opt_.pre);
    lab = label_slice(v->label, slice);
  } else {
    Sample s = ds_.load(item);
    lab = s.label.data;
    Tensor centre = pre_intensities(s.image.data, opt_.pre);
    if (opt_.pre.context_2p5d) {
      // Grey neighbours as channels: (previous, this, next) exported slice of the same volume.
      auto nb = neighbours_.at(item);
      Tensor prev = nb.first == item ? match_channels(centre, 1) : slice_image(nb.first);
      Tensor next = nb.second == item ? match_channels(centre, 1) : slice_image(nb.second);
      Tensor mid = match_channels(centre, 1);
      const int64_t h = mid.size(1), w = mid.size(2);
      for (const Tensor* t : {&prev, &next})
        GB_CHECK(t->size(1) == h && t->size(2) == w, ds_.item(item).image_path,
                 ": neighbouring slice has a different size (", t->desc(), " vs ", mid.desc(), ")");
      img = Tensor::empty({3, h, w}, DType::F32);
      img.view_slice(0, 0, 1).copy_from(prev);
      img.view_slice(0, 1, 2).copy_from(mid);
      img.view_slice(0, 2, 3).copy_from(next);
    } else {
      img = centre;
    }
    img = pre_channels(img, opt_.pre);
  }
  if (opt_.augment) {
    Generator g(opt_.seed, kAugmentStream + ((uint64_t)epoch << 32) + (uint64_t)n);
    augment(img, lab, g, opt_.aug);
  }
  img = pre_resize_image(img, opt_.pre);
  lab = pre_resize_label(lab, opt_.pre);
}

void Loader::run(int64_t epoch, int64_t skip_batches) {
  try {
    std::vector<int64_t> units = units_;
    Generator ge(opt_.seed, kLoaderStream + (uint64_t)epoch);
    if (opt_.shuffle) shuffle(units, ge);
    const int64_t B = opt_.batch_size, C = opt_.pre.channels, H = opt_.pre.height, W = opt_.pre.width;
    const int64_t skip_samples = skip_batches * B;
    Batch cur;
    int64_t in_batch = 0, n = 0, batch_index = 0;
    auto flush = [&](bool last) {
      if (in_batch == 0) return;
      if (!cur.image.defined()) return;  // the tail of a fully skipped epoch
      if (last && in_batch < B) {
        if (opt_.drop_last) return;
        cur.image = cur.image.view_slice(0, 0, in_batch).contiguous();
        cur.label = cur.label.view_slice(0, 0, in_batch).contiguous();
      }
      cur.index = batch_index++;
      push(std::move(cur));
      cur = Batch();
      in_batch = 0;
    };
    auto add = [&](int64_t item, int64_t slice) {
      if (n < skip_samples) {  // a resumed epoch: this batch was consumed before the stop
        ++n;
        {
          std::lock_guard<std::mutex> l(mu_);
          stats_.samples = n;
        }
        if (++in_batch == B) in_batch = 0, ++batch_index;
        return;
      }
      if (in_batch == 0) {
        cur.image = Tensor::empty({B, C, H, W}, DType::F32);
        cur.label = Tensor::empty({B, H, W}, DType::I32);
      }
      Tensor img, lab;
      make_sample(item, slice, n, epoch, img, lab);
      std::memcpy(cur.image.data<float>() + in_batch * C * H * W, img.contiguous().data<float>(),
                  sizeof(float) * (size_t)(C * H * W));
      std::memcpy(cur.label.data<int32_t>() + in_batch * H * W, lab.contiguous().data<int32_t>(),
                  sizeof(int32_t) * (size_t)(H * W));
      cur.ids.push_back(slice >= 0 ? ds_.item(item).id + ":" + std::to_string(slice) : ds_.item(item).id);
      ++n;
      {
        std::lock_guard<std::mutex> l(mu_);
        stats_.samples = n;
      }
      if (++in_batch == B) flush(false);
    };
    if (ds_.is_volume()) {
      const int64_t K = opt_.cache_volumes;
      for (int64_t g0 = 0, group = 0; g0 < (int64_t)units.size(); g0 += K, ++group) {
        std::vector<std::pair<int64_t, int64_t>> plan;  // (item, slice)
        for (int64_t u = g0; u < std::min<int64_t>(g0 + K, (int64_t)units.size()); ++u) {
          auto v = volume(units[(size_t)u]);
          const int64_t d = v->image01.size(0);
          for (int64_t k = 0; k < d; ++k) {
            if (opt_.min_label > 0 && !slice_has_label(v->label, k, opt_.min_label)) continue;
            const int64_t times =
                opt_.oversample_times > 1 && slice_has_exact_label(v->label, k, opt_.oversample_label) ? opt_.oversample_times : 1;
            for (int64_t t = 0; t < times; ++t) plan.push_back({units[(size_t)u], k});
          }
        }
        if (opt_.shuffle) {
          Generator gg(opt_.seed, kGroupStream + ((uint64_t)epoch << 24) + (uint64_t)group);
          shuffle(plan, gg);
        }
        for (const auto& [item, k] : plan) {
          {
            std::lock_guard<std::mutex> l(mu_);
            if (stop_) return;
          }
          add(item, k);
        }
      }
    } else {
      for (int64_t item : units) {
        {
          std::lock_guard<std::mutex> l(mu_);
          if (stop_) return;
        }
        add(item, -1);
      }
    }
    flush(true);
  } catch (...) {
    std::lock_guard<std::mutex> l(mu_);
    error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> l(mu_);
  done_ = true;
  cv_get_.notify_all();
}

}  // namespace gb::io

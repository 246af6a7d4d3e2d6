// Random 3-D training patches from a volume dataset, nnU-Net style (Isensee et al. 2021).
//
// Each batch holds B patches of size (pd, ph, pw) cut from whole volumes, windowed to [0, 1] exactly
// as the 2-D Loader does (io::to_unit_range with opt.window). Sample i of a batch is forced to contain
// foreground when i >= round(B * (1 - foreground_fraction)) (nnU-Net's rule: the LAST samples of each
// batch, so a batch of 2 with fraction 1/3 has one forced sample): its centre is a voxel drawn
// uniformly from the voxels with label >= 1 (foreground_label 0) or == foreground_label (2 = tumour),
// and the patch is shifted inward at the volume border, so the chosen voxel is always inside it. A
// volume without such voxels falls back to a uniform patch (counted in stats().forced_fallback). The
// other samples are uniform: every patch origin that keeps the patch inside the volume is equally
// likely. Along an axis where the volume is smaller than the patch, the volume is centred in the
// patch and the rest padded: image 0 (the windowed value of air), label 0.
//
// Determinism: batch(s) is a pure function of (seed, s, dataset, options), whatever was asked before
// and whatever the cache holds, so a run resumed at step s sees exactly the batches it would have.
//   Volumes: the items are visited in rounds; round r is a shuffle of the items (Generator(seed,
//   kPatchRoundStream + r)) cut into groups of K = cache_volumes. Group g (round g / groups, chunk
//   g % groups) serves steps [g * steps_per_group, (g + 1) * steps_per_group); each sample of those
//   steps picks one of the group's volumes uniformly. So at most K volumes are needed per group (the
//   LRU cache holds K), every item is used once per round, and with K >= items every sample is
//   uniform over all items.
//   Within step s all draws (volume, forced centre, uniform origin) come from Generator(seed,
//   kPatchStream + s), in sample order.
//
// Memory: an LRU cache of at most K windowed volumes (f32 [D, H, W] image, i32 label and the flat
// indices of the foreground voxels). batch() may be called from several threads (it locks the cache).
// Output: io::Batch with image f32 [B, 1, pd, ph, pw], label i32 [B, pd, ph, pw],
// ids "<item id>@<z0>,<y0>,<x0>" (patch origin in the volume, negative where padded), index = s.
// The Dataset must outlive the PatchLoader.
#pragma once
#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

#include "io/dataset.h"
#include "io/loader.h"
#include "io/preprocess.h"

namespace gb::io {

constexpr uint64_t kPatchStream = 0x50ADE40000000000ull;
constexpr uint64_t kPatchRoundStream = 0x60ADE40000000000ull;

struct PatchLoaderOptions {
  int64_t batch_size = 2;
  std::array<int64_t, 3> patch{16, 32, 32};  // (pd, ph, pw)
  double foreground_fraction = 1.0 / 3.0;    // in [0, 1]
  int32_t foreground_label = 0;              // 0: any label >= 1; else voxels == this label
  Window window;                             // for HU sources
  uint64_t seed = 1234;
  int64_t cache_volumes = 2;    // K: most volumes held at once, and the volumes of one group
  int64_t steps_per_group = 4;  // consecutive steps drawing from the same K volumes
};

struct PatchLoaderStats {
  int64_t volume_loads = 0;
  int64_t cache_hits = 0;
  int64_t max_cached = 0;       // most volumes held at once (<= cache_volumes)
  int64_t forced = 0;           // samples with forced foreground
  int64_t forced_fallback = 0;  // of those, from a volume without foreground (taken uniform)
};

// The samples of a batch of size B that are forced to contain foreground: [first_forced(B, f), B).
int64_t first_forced(int64_t batch_size, double foreground_fraction);

class PatchLoader {
 public:
  // items: the dataset items to draw from (a split); must not be empty.
  PatchLoader(const Dataset& ds, std::vector<int64_t> items, const PatchLoaderOptions& opt);

  Batch batch(int64_t step);
  PatchLoaderStats stats() const;
  const PatchLoaderOptions& options() const { return opt_; }
  const std::vector<int64_t>& items() const { return items_; }
  // The volumes step `step` draws from (items, in group order).
  std::vector<int64_t> group_items(int64_t step) const;

 private:
  struct Cached {
    Tensor image01;              // f32 [D, H, W] windowed to [0, 1]
    Tensor label;                // i32 [D, H, W]
    std::vector<int64_t> fg;     // flat indices of the foreground voxels, ascending
  };
  std::shared_ptr<const Cached> volume(int64_t item);

  const Dataset& ds_;
  std::vector<int64_t> items_;
  PatchLoaderOptions opt_;
  mutable std::mutex mu_;
  std::list<std::pair<int64_t, std::shared_ptr<const Cached>>> lru_;  // most recently used first
  PatchLoaderStats stats_;
};

}  // namespace gb::io

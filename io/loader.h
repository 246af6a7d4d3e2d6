// Streams training/validation batches of 2-D slices from a Dataset with bounded memory.
//
// Order (deterministic for a seed; timing never changes it):
//   epoch e uses Generator(seed, kLoaderStream + e). The dataset items (opt.items, or all) are
//   shuffled (Fisher-Yates) when opt.shuffle.
//   Volume datasets: the shuffled volumes are taken in groups of K = opt.cache_volumes; all slices of
//   one group are shuffled together (Generator(seed, kGroupStream + (e << 24) + group)) and emitted,
//   then the next group. So at most K volumes are ever held (LRU cache), and slices of different
//   volumes still mix within a group.
//   Slice datasets: each item is one sample; the shuffled items are the order.
//   Sample n of epoch e is augmented with Generator(seed, kAugmentStream + (e << 32) + n).
// A worker thread (std::thread) prepares batches into a queue of at most opt.queue_batches; next()
// takes them in order.
//
// Per sample: opt.pre (io/preprocess_spec.h), the description inference applies too, through the same
// functions: intensities to [0, 1], the slice (2.5-D: slices k-1, k, k+1 as channels, edges
// replicated; for slice folders the neighbouring exported slices of the same volume), channels,
// augmentation at the native size (io/augment.h, when opt.augment), then the model input size
// (bilinear image, nearest label). The dataset's units must equal opt.pre.units.
// Batch: image f32 [B, C, H, W], label i32 [B, H, W]; the last batch may be smaller (unless drop_last).
// The Dataset must outlive the Loader.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/augment.h"
#include "io/dataset.h"
#include "io/preprocess_spec.h"

namespace gb::io {

constexpr uint64_t kLoaderStream = 0x10ADE40000000000ull;
constexpr uint64_t kGroupStream = 0x20ADE40000000000ull;
constexpr uint64_t kAugmentStream = 0x30ADE40000000000ull;

struct LoaderOptions {
  int64_t batch_size = 24;
  Preprocess pre;            // units, window, channels, 2.5-D, input size (saved in checkpoints)
  bool shuffle = true;
  bool augment = false;
  AugmentOptions aug;
  uint64_t seed = 1234;
  int64_t cache_volumes = 2;  // K: most volumes held at once
  int64_t queue_batches = 2;  // most prepared batches waiting
  bool drop_last = false;
  std::vector<int64_t> items;  // dataset items to draw from (e.g. a split); empty = all
  // Volume datasets: keep only slices whose label has a voxel >= this value (1: slices showing liver,
  // the usual LiTS training selection; 0: every slice). Slice datasets ignore it.
  int32_t min_label = 0;
  // Volume datasets: slices holding a voxel == oversample_label appear oversample_times times per
  // epoch (1 = no oversampling). Small structures (tumours) then reach the loss more often, as
  // foreground oversampling does in nnU-Net; it is not part of the official TransUNet recipe.
  int32_t oversample_label = 2;
  int64_t oversample_times = 1;
};

struct Batch {
  Tensor image;  // f32 [B, C, H, W] in [0, 1]
  Tensor label;  // i32 [B, H, W]
  std::vector<std::string> ids;  // per sample: "<item id>:<slice>" for volumes, the item id for slices
  int64_t index = 0;             // batch number within the epoch
};

struct LoaderStats {
  int64_t volume_loads = 0;   // volumes read from the dataset
  int64_t cache_hits = 0;
  int64_t max_cached = 0;     // most volumes held at once (<= cache_volumes)
  int64_t max_queued = 0;     // most batches waiting at once (<= queue_batches)
  int64_t samples = 0;        // samples produced this epoch so far
};

class Loader {
 public:
  Loader(const Dataset& ds, const LoaderOptions& opt);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Starts (or restarts) epoch e on the worker thread. skip_batches: the first batches of the epoch
  // are passed over without being prepared (a resumed run continues where it stopped; what follows
  // is identical because sample n's augmentation depends on (seed, epoch, n) only).
  void start_epoch(int64_t epoch, int64_t skip_batches = 0);
  // Next batch of the current epoch; false at its end. Errors from the worker are rethrown here.
  bool next(Batch& out);
  LoaderStats stats() const;
  // Samples one epoch yields (after min_label and oversampling): plans epoch 0 without preparing a
  // sample (volumes are read once each) and returns the count. Call before start_epoch.
  int64_t count_epoch_samples();
  // Samples per epoch when known: slice datasets always; volume datasets once every volume has been
  // loaded at least once (after the first epoch); else -1.
  int64_t samples_per_epoch() const;

 private:
  struct Cached {
    Tensor image01;  // f32 [D, H, W] windowed
    Tensor label;    // i32 [D, H, W]
  };
  void stop();
  void run(int64_t epoch, int64_t skip_batches);
  std::shared_ptr<const Cached> volume(int64_t item);
  void make_sample(int64_t item, int64_t slice, int64_t n, int64_t epoch, Tensor& img, Tensor& lab);
  Tensor slice_image(int64_t item);  // slice datasets: f32 [C, H, W] in [0, 1]
  void push(Batch&& b);

  const Dataset& ds_;
  LoaderOptions opt_;
  std::vector<int64_t> units_;
  std::map<int64_t, std::pair<int64_t, int64_t>> neighbours_;  // slice datasets: item -> (prev, next)
  // LRU cache (worker thread only; stats under mu_).
  std::list<std::pair<int64_t, std::shared_ptr<const Cached>>> lru_;
  std::map<int64_t, int64_t> depth_;  // item -> D, learnt on load

  mutable std::mutex mu_;
  std::condition_variable cv_put_, cv_get_;
  std::deque<Batch> queue_;
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;
  LoaderStats stats_;
};

}  // namespace gb::io

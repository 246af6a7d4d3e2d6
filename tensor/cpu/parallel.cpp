#include "tensor/cpu/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace gb::cpu {
namespace {

thread_local bool t_in_parallel = false;

// Workers stay hot between regions: after a region each one spins on the state word for up to
// kSpin before it sleeps on the condition variable, and the caller spins on the pending count
// before it does (kSpin, yielding between polls). Without the spin every region paid a futex
// wake-up of a sleeping vCPU: an empty parallel_for cost 16-18 us on the 2-core KVM guests, a model's forward has 800+ regions
// (R50-ViT-B_16: 835, an input-gradient step 2,015; tiny: 183), and OpenMP (PyTorch's pool) spins
// the same way. Chunking is unchanged (static: chunk c of `chunks` runs on worker c), so results
// are the same bits as before for any thread count.
//
// state_ = (generation << 16) | chunks, published (release) after job_ and pending_, so one load
// tells a worker both whether a new region began and whether it takes part; the caller waits for
// every worker that takes part, so job_ cannot change while one of them still reads it.
class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }
  int size() const { return (int)workers_.size() + 1; }

  void resize(int n) {
    stop();
    quit_.store(false);
    const uint64_t s = state_.load();
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, s] { loop(i, s >> 16); });
  }

  void run(int chunks, const std::function<void(int)>& job) {
    job_.store(&job, std::memory_order_relaxed);
    pending_.store(chunks - 1, std::memory_order_relaxed);
    bool wake;
    {
      std::lock_guard<std::mutex> lk(m_);  // a worker deciding to sleep checks state_ under m_
      const uint64_t gen = (state_.load(std::memory_order_relaxed) >> 16) + 1;
      state_.store((gen << 16) | (uint64_t)chunks, std::memory_order_release);
      wake = sleepers_ > 0;
    }
    if (wake) cv_.notify_all();
    t_in_parallel = true;
    job(0);  // the caller takes chunk 0
    t_in_parallel = false;
    auto done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(done)) {
      std::unique_lock<std::mutex> lk(m_);
      done_.wait(lk, done);
    }
  }

 private:
  // Long enough to bridge the serial gaps between the regions of a forward pass (allocation, graph
  // bookkeeping: mostly under 50 us), short enough that an idle pool stops burning a core at once.
  static constexpr auto kSpin = std::chrono::microseconds(50);

  // Polls pred for up to kSpin; true when it held. Yields between bursts of polls: when more threads
  // than cores are runnable (two test processes, another program), a spinner gives its core to the
  // thread it is waiting for instead of holding it (OpenMP's pure spin collapses there).
  template <class Pred>
  static bool spin_until(Pred pred) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        if (pred()) return true;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      if (std::chrono::steady_clock::now() >= until) return pred();
      std::this_thread::yield();
    }
  }

  void loop(int id, uint64_t seen) {
    t_in_parallel = true;
    auto news = [&] {
      return quit_.load(std::memory_order_acquire) || (state_.load(std::memory_order_acquire) >> 16) != seen;
    };
    while (true) {
      if (!spin_until(news)) {
        std::unique_lock<std::mutex> lk(m_);
        ++sleepers_;
        cv_.wait(lk, news);
        --sleepers_;
      }
      if (quit_.load(std::memory_order_acquire)) return;
      const uint64_t s = state_.load(std::memory_order_acquire);
      seen = s >> 16;
      if (id >= (int)(s & 0xFFFF)) continue;  // not in this region
      (*job_.load(std::memory_order_relaxed))(id);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(m_);  // the caller may be about to sleep: wake it under m_
        done_.notify_one();
      }
    }
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      quit_.store(true);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_, done_;
  std::atomic<const std::function<void(int)>*> job_{nullptr};
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> state_{0};
  std::atomic<bool> quit_{false};
  int sleepers_ = 0;  // workers waiting on cv_ (under m_)
};

int default_threads() {
  if (const char* e = std::getenv("GLASSBOX_THREADS")) {
    int n = std::atoi(e);
    if (n >= 1) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  static Pool p(default_threads());
  return p;
}
std::mutex g_run_mutex;  // one parallel region at a time from different user threads

}  // namespace

int num_threads() { return pool().size(); }
void set_num_threads(int n) { pool().resize(std::max(1, n)); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int chunks = (int)std::min<int64_t>(num_threads(), (n + grain - 1) / grain);
  if (chunks <= 1 || t_in_parallel) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> lk(g_run_mutex);
  pool().run(chunks, [&](int c) {
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    if (b < e) fn(b, e);
  });
}

}  // namespace gb::cpu

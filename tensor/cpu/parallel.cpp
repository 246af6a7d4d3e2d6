#include "tensor/cpu/parallel.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace gb::cpu {
namespace {

thread_local bool t_in_parallel = false;

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }
  int size() const { return (int)workers_.size() + 1; }

  void resize(int n) {
    stop();
    quit_ = false;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, g = gen_] { loop(i, g); });
  }

  void run(int chunks, const std::function<void(int)>& job) {
    {
      std::unique_lock<std::mutex> lk(m_);
      job_ = &job;
      chunks_ = chunks;
      pending_ = chunks - 1;
      ++gen_;
    }
    cv_.notify_all();
    t_in_parallel = true;
    job(0);  // the caller takes chunk 0
    t_in_parallel = false;
    std::unique_lock<std::mutex> lk(m_);
    done_.wait(lk, [&] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop(int id, uint64_t seen) {
    t_in_parallel = true;
    while (true) {
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return quit_ || gen_ != seen; });
        if (quit_) return;
        seen = gen_;
        if (id >= chunks_) continue;
        job = job_;
      }
      (*job)(id);
      std::unique_lock<std::mutex> lk(m_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
  void stop() {
    {
      std::unique_lock<std::mutex> lk(m_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int chunks_ = 0, pending_ = 0;
  uint64_t gen_ = 0;
  bool quit_ = false;
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

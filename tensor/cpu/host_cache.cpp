#include "tensor/cpu/host_cache.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace gb::cpu {
namespace {

size_t size_class(size_t n) {
  // Round up to a multiple of 2^(floor(log2 n) - 3): eight classes per power of two.
  int b = 63 - __builtin_clzll((unsigned long long)n);
  const size_t step = size_t(1) << (b > 3 ? b - 3 : 0);
  return (n + step - 1) / step * step;
}

size_t limit_from_env() {
#if defined(__SANITIZE_ADDRESS__)
  return 0;  // AddressSanitizer must see every free to catch a use after free: no caching
#endif
  if (const char* e = std::getenv("GLASSBOX_HOST_CACHE_MB")) {
    char* end = nullptr;
    const long long v = std::strtoll(e, &end, 10);
    if (end != e && v >= 0) return (size_t)v << 20;
  }
  return size_t(1024) << 20;
}

struct Cache {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free;  // block size -> cached buffers
  std::unordered_map<void*, size_t> block;    // live cached-path buffer -> its block size
  size_t cached = 0, limit = limit_from_env();
  int64_t hits = 0, misses = 0;
  ~Cache() { release_locked(); }
  void release_locked() {
    for (auto& [cls, v] : free)
      for (void* p : v) std::free(p);
    free.clear();  // (blocks still in use stay in `block`: they come back through host_free)
    cached = 0;
  }
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: Storage may be freed during static destruction
  return *c;
}

}  // namespace

void* host_alloc(size_t nbytes) {
  if (nbytes < kMinCachedBytes) return std::aligned_alloc(64, (nbytes + 63) / 64 * 64);
  const size_t cls = size_class(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lk(c.mu);
    // Best fit among blocks up to 1.5x the class: a block freed by one layer serves a slightly
    // smaller one of the next, instead of sitting idle while a new one is mapped (peak RSS).
    for (auto it = c.free.lower_bound(cls); it != c.free.end() && it->first <= cls + cls / 2; ++it) {
      if (it->second.empty()) continue;
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= it->first;
      c.block[p] = it->first;
      ++c.hits;
      return p;
    }
    ++c.misses;
  }
  void* p = std::aligned_alloc(64, cls);  // cls is a multiple of 64 (>= 64 KiB, steps of >= 8 KiB)
  if (p) {
    std::lock_guard<std::mutex> lk(c.mu);
    c.block[p] = cls;
  }
  return p;
}

void host_free(void* p, size_t nbytes) {
  if (!p) return;
  if (nbytes < kMinCachedBytes) {
    std::free(p);
    return;
  }
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lk(c.mu);
    auto b = c.block.find(p);
    const size_t size = b != c.block.end() ? b->second : size_class(nbytes);
    if (b != c.block.end()) c.block.erase(b);
    if (c.cached + size <= c.limit) {
      c.free[size].push_back(p);
      c.cached += size;
      return;
    }
  }
  std::free(p);
}

HostCacheStats host_cache_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lk(c.mu);
  return {c.hits, c.misses, (int64_t)c.cached};
}

void host_cache_release() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lk(c.mu);
  c.release_locked();
}

void set_host_cache_limit(size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lk(c.mu);
  c.limit = bytes;
  if (c.cached > bytes) c.release_locked();
}

size_t host_cache_limit() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lk(c.mu);
  return c.limit;
}

}  // namespace gb::cpu

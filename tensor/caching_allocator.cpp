#include "tensor/caching_allocator.h"

#include <algorithm>

#include "tensor/error.h"

namespace gb {

CachingAllocator::CachingAllocator(std::function<void*(size_t)> raw_alloc, std::function<void(void*)> raw_free)
    : raw_alloc_(std::move(raw_alloc)), raw_free_(std::move(raw_free)) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lk(mu_);
  release_cached_locked();
  for (auto& [p, n] : live_) raw_free_(p);
  live_.clear();
}

size_t CachingAllocator::rounded(size_t nbytes) {
  const size_t r = nbytes > kLargeRound ? kLargeRound : kRound;
  return std::max<size_t>(r, (nbytes + r - 1) / r * r);
}

void* CachingAllocator::allocate(size_t nbytes) {
  const size_t n = rounded(nbytes);
  std::lock_guard<std::mutex> lk(mu_);
  ++st_.requests;
  void* p = nullptr;
  size_t got = n;
  auto it = cached_.lower_bound(n);
  if (it != cached_.end() && it->first <= 2 * n) {  // best fit with at most 2x waste
    got = it->first;
    p = it->second;
    cached_.erase(it);
    ++st_.cache_hits;
  } else {
    p = raw_alloc_(n);
    const size_t reserved_before = st_.reserved;
    if (!p && !cached_.empty()) {  // out of memory: give the cache back and try once more
      release_cached_locked();
      p = raw_alloc_(n);
    }
    GB_CHECK(p, "device out of memory: could not allocate ", n, " bytes (", st_.in_use, " bytes in use, ",
             reserved_before, " reserved with the cache)");
    ++st_.raw_allocs;
    st_.reserved += n;
    st_.peak_reserved = std::max(st_.peak_reserved, st_.reserved);
  }
  live_[p] = got;
  st_.in_use += got;
  st_.peak_in_use = std::max(st_.peak_in_use, st_.in_use);
  return p;
}

void CachingAllocator::deallocate(void* p) {
  if (!p) return;
  std::lock_guard<std::mutex> lk(mu_);
  auto it = live_.find(p);
  GB_CHECK(it != live_.end(), "caching allocator: freeing a pointer it did not hand out");
  st_.in_use -= it->second;
  cached_.emplace(it->second, p);
  live_.erase(it);
}

void CachingAllocator::release_cached_locked() {
  for (auto& [n, p] : cached_) {
    raw_free_(p);
    ++st_.raw_frees;
    st_.reserved -= n;
  }
  cached_.clear();
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lk(mu_);
  release_cached_locked();
}

DeviceMemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return st_;
}

void CachingAllocator::reset_peaks() {
  std::lock_guard<std::mutex> lk(mu_);
  st_.peak_in_use = st_.in_use;
  st_.peak_reserved = st_.reserved;
}

}  // namespace gb

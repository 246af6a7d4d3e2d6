// A caching allocator over a device's raw allocator (cudaMalloc / cudaFree for CUDA): freed blocks
// are kept and handed out again, so a training step that allocates the same buffers every step
// reaches the raw allocator only during its first step (after PyTorch's CUDA caching allocator,
// much simplified). Plain C++ and device-agnostic, so CPU tests check it with a counting raw
// allocator (tests/tensor/test_caching_allocator.cpp).
//
// Rules:
//   - Requests are rounded up to kRound bytes (512) — small ones — or to kLargeRound (2 MiB) above
//     kLargeRound, so near sizes share blocks.
//   - A request takes the smallest cached block that fits and is at most twice its rounded size
//     (best fit, bounded waste); blocks are never split or merged.
//   - When the raw allocator fails, every cached block is released and the request tried once more;
//     a second failure is reported with the sizes involved.
//   - Stream order: the backend runs everything on one stream, so a block freed on the host can be
//     reused by the next launch without an event (work on it is ordered before the reuse). A
//     second stream would need an event per block.
// Thread-safe (one mutex).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>

namespace gb {

struct DeviceMemoryStats {
  size_t in_use = 0, peak_in_use = 0;       // bytes handed out (rounded sizes)
  size_t reserved = 0, peak_reserved = 0;   // bytes held from the raw allocator (in use + cached)
  int64_t raw_allocs = 0, raw_frees = 0;    // calls to the raw allocator
  int64_t requests = 0, cache_hits = 0;     // allocate() calls, and those served from the cache
};

class CachingAllocator {
 public:
  static constexpr size_t kRound = 512, kLargeRound = size_t(2) << 20;
  // raw_alloc returns nullptr on failure (out of memory); raw_free releases what it returned.
  CachingAllocator(std::function<void*(size_t)> raw_alloc, std::function<void(void*)> raw_free);
  ~CachingAllocator();  // releases every block, cached or not (the device is going away)
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(size_t nbytes);  // never nullptr: throws gb::Error when the device is out of memory
  void deallocate(void* p);       // p from allocate (nullptr is ignored); unknown pointers throw
  void empty_cache();             // returns every cached block to the raw allocator
  DeviceMemoryStats stats() const;
  void reset_peaks();             // peaks := current values (e.g. at the start of a measured step)

  static size_t rounded(size_t nbytes);

 private:
  void release_cached_locked();
  std::function<void*(size_t)> raw_alloc_;
  std::function<void(void*)> raw_free_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> cached_;         // free blocks by size
  std::unordered_map<void*, size_t> live_;      // handed-out blocks and their sizes
  DeviceMemoryStats st_;
};

}  // namespace gb

// A caching allocator for large host buffers. A training step allocates the same few hundred
// activation and gradient buffers every step; handed back to the C library, the large ones go back to
// the kernel (mmap / heap trim) and come back as fresh pages, each of which faults and is zeroed on
// first touch — tens of thousands of faults per step at batch 24 (bench_step's minflt_per_iter).
// Here a freed buffer of >= kMinCachedBytes is kept on a free list of its size class and handed out
// again for a request of the same class or up to 1.5x smaller (best fit).
//   size class: the request rounded up to 1/8 of its power of two (at most 12.5 % larger; only the
//               requested bytes are ever touched, so the rounding costs address space, not RSS)
//   cap:        at most host_cache_limit() bytes are kept (GLASSBOX_HOST_CACHE_MB, default 1024);
//               a buffer freed past the cap goes back to the C library; 0 under AddressSanitizer,
//               which must see every free to catch a use after free
// Thread-safe (one mutex). Buffers are 64-byte aligned, like every Storage.
#pragma once
#include <cstddef>
#include <cstdint>

namespace gb::cpu {

constexpr size_t kMinCachedBytes = size_t(1) << 16;  // 64 KiB: below this malloc's own bins do well

void* host_alloc(size_t nbytes);  // nullptr when out of memory
void host_free(void* p, size_t nbytes);  // nbytes: what was passed to host_alloc

struct HostCacheStats {
  int64_t hits = 0, misses = 0;  // cached-size requests served from the cache / from the C library
  int64_t cached_bytes = 0;      // bytes on the free lists now
};
HostCacheStats host_cache_stats();
void host_cache_release();           // hands every cached buffer back to the C library
void set_host_cache_limit(size_t bytes);  // 0 disables caching (and releases what is cached)
size_t host_cache_limit();

}  // namespace gb::cpu

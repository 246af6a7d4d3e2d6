// The caching allocator of device memory (tensor/caching_allocator.h), checked over a counting raw
// allocator on the host: a repeated step reaches the raw allocator only in its first iteration,
// statistics and peaks are exact, out-of-memory releases the cache and retries, misuse is refused.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "tensor/caching_allocator.h"
#include "tensor/error.h"

using namespace gb;

namespace {
struct CountingRaw {
  int64_t allocs = 0, frees = 0;
  size_t live = 0, limit = SIZE_MAX;  // bytes held; allocation fails past `limit`
  std::map<void*, size_t> ptrs;
  CachingAllocator make() {
    return CachingAllocator(
        [this](size_t n) -> void* {
          if (live + n > limit) return nullptr;
          void* p = std::malloc(n);
          ++allocs;
          live += n;
          ptrs[p] = n;
          return p;
        },
        [this](void* p) {
          ASSERT_TRUE(ptrs.count(p));
          live -= ptrs[p];
          ptrs.erase(p);
          ++frees;
          std::free(p);
        });
  }
};
}  // namespace

TEST(CachingAllocator, RoundsSmallAndLargeRequests) {
  EXPECT_EQ(CachingAllocator::rounded(0), 512u);
  EXPECT_EQ(CachingAllocator::rounded(1), 512u);
  EXPECT_EQ(CachingAllocator::rounded(513), 1024u);
  EXPECT_EQ(CachingAllocator::rounded(2u << 20), 2u << 20);
  EXPECT_EQ(CachingAllocator::rounded((2u << 20) + 1), 4u << 20);
}

TEST(CachingAllocator, RepeatedStepAllocatesOnlyInTheFirst) {
  CountingRaw raw;
  auto a = raw.make();
  const std::vector<size_t> step = {4096, 100, 3u << 20, 4096, 77777, 512};
  for (int it = 0; it < 5; ++it) {
    std::vector<void*> ps;
    for (size_t n : step) ps.push_back(a.allocate(n));
    std::set<void*> distinct(ps.begin(), ps.end());
    EXPECT_EQ(distinct.size(), ps.size()) << "two live buffers share memory";
    for (void* p : ps) a.deallocate(p);
    EXPECT_EQ(raw.allocs, (int64_t)step.size()) << "iteration " << it;
  }
  const auto st = a.stats();
  EXPECT_EQ(st.requests, 5 * (int64_t)step.size());
  EXPECT_EQ(st.cache_hits, 4 * (int64_t)step.size());
  EXPECT_EQ(st.in_use, 0u);
  size_t total = 0;
  for (size_t n : step) total += CachingAllocator::rounded(n);
  EXPECT_EQ(st.peak_in_use, total);
  EXPECT_EQ(st.reserved, total);
  EXPECT_EQ(st.peak_reserved, total);
  EXPECT_EQ(raw.frees, 0);
}

TEST(CachingAllocator, BestFitWithBoundedWaste) {
  CountingRaw raw;
  auto a = raw.make();
  void* big = a.allocate(8192);
  void* mid = a.allocate(2048);
  a.deallocate(big);
  a.deallocate(mid);
  EXPECT_EQ(a.allocate(1536), mid) << "the smallest block that fits";
  void* q = a.allocate(1024);  // 8192 would waste more than 2x: a new block
  EXPECT_NE(q, big);
  EXPECT_EQ(raw.allocs, 3);
  EXPECT_EQ(a.allocate(5000), big);
}

TEST(CachingAllocator, OutOfMemoryReleasesTheCacheAndRetries) {
  CountingRaw raw;
  raw.limit = 16384;
  auto a = raw.make();
  void* p = a.allocate(8192);
  a.deallocate(p);  // cached: 8192 held
  void* q = a.allocate(12000);  // does not fit beside the cached block
  EXPECT_NE(q, nullptr);
  EXPECT_EQ(raw.frees, 1);
  EXPECT_EQ(a.stats().reserved, CachingAllocator::rounded(12000));
  raw.limit = raw.live;  // now nothing fits
  try {
    a.allocate(4096);
    FAIL() << "expected out of memory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("out of memory"), std::string::npos) << e.what();
  }
  a.deallocate(q);
}

TEST(CachingAllocator, PeaksResetAndEmptyCache) {
  CountingRaw raw;
  auto a = raw.make();
  void* p = a.allocate(1 << 20);
  void* q = a.allocate(1 << 10);
  a.deallocate(p);
  EXPECT_EQ(a.stats().peak_in_use, (size_t)(1 << 20) + (1 << 10));
  a.reset_peaks();
  EXPECT_EQ(a.stats().peak_in_use, (size_t)(1 << 10));
  a.empty_cache();
  EXPECT_EQ(raw.frees, 1);
  EXPECT_EQ(a.stats().reserved, (size_t)(1 << 10));
  a.deallocate(q);
  EXPECT_THROW(a.deallocate(&raw), Error);
  a.deallocate(nullptr);
}

TEST(CachingAllocator, DestructorReturnsEverything) {
  CountingRaw raw;
  {
    auto a = raw.make();
    a.deallocate(a.allocate(100));
    (void)a.allocate(5000);  // still live at destruction
  }
  EXPECT_TRUE(raw.ptrs.empty());
  EXPECT_EQ(raw.allocs, 2);
}

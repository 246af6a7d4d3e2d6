// The host caching allocator (tensor/cpu/host_cache.h): reuse by size class and best fit, the cap,
// small buffers bypassing it, alignment, and many threads at once.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "tensor/cpu/host_cache.h"
#include "tensor/tensor.h"

using namespace gb::cpu;

namespace {
struct LimitGuard {
  size_t prev = host_cache_limit();
  ~LimitGuard() { set_host_cache_limit(prev); }
};
bool aligned64(const void* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; }
}  // namespace

TEST(HostCache, FreedBufferIsHandedOutAgainForTheSameClass) {
  if (host_cache_limit() == 0) GTEST_SKIP() << "host cache disabled (AddressSanitizer build or GLASSBOX_HOST_CACHE_MB=0)";
  LimitGuard g;
  host_cache_release();
  const size_t n = 3 << 20;
  void* a = host_alloc(n);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(aligned64(a));
  std::memset(a, 1, n);
  host_free(a, n);
  EXPECT_GE(host_cache_stats().cached_bytes, (int64_t)n);
  const HostCacheStats s0 = host_cache_stats();
  void* b = host_alloc(n - 1000);  // same class
  EXPECT_EQ(b, a);
  EXPECT_EQ(host_cache_stats().hits, s0.hits + 1);
  host_free(b, n - 1000);
  // A request under 1/1.5 of the cached block does not take it (best fit is bounded).
  void* c = host_alloc(n / 2);
  EXPECT_NE(c, a);
  host_free(c, n / 2);
  host_cache_release();
  EXPECT_EQ(host_cache_stats().cached_bytes, 0);
}

TEST(HostCache, ZeroLimitCachesNothingAndSmallBuffersBypass) {
  LimitGuard g;
  set_host_cache_limit(0);
  void* a = host_alloc(1 << 20);
  host_free(a, 1 << 20);
  EXPECT_EQ(host_cache_stats().cached_bytes, 0);
  set_host_cache_limit(size_t(64) << 20);
  const HostCacheStats s0 = host_cache_stats();
  void* s = host_alloc(100);  // below kMinCachedBytes: plain aligned_alloc
  EXPECT_TRUE(aligned64(s));
  host_free(s, 100);
  EXPECT_EQ(host_cache_stats().hits + host_cache_stats().misses, s0.hits + s0.misses);
  EXPECT_EQ(host_cache_stats().cached_bytes, s0.cached_bytes);
}

TEST(HostCache, CapIsRespected) {
  LimitGuard g;
  host_cache_release();
  set_host_cache_limit(size_t(2) << 20);
  std::vector<void*> v;
  for (int i = 0; i < 4; ++i) v.push_back(host_alloc(1 << 20));
  for (void* p : v) host_free(p, 1 << 20);
  EXPECT_LE(host_cache_stats().cached_bytes, (int64_t)(size_t(2) << 20));
}

TEST(HostCache, ManyThreadsAllocatingAndFreeing) {
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        const size_t n = (size_t)(1 << 16) + (size_t)((i * 7919 + t * 104729) % (1 << 20));
        auto* p = static_cast<unsigned char*>(host_alloc(n));
        ASSERT_NE(p, nullptr);
        p[0] = p[n - 1] = (unsigned char)i;
        host_free(p, n);
      }
    });
  for (auto& t : ts) t.join();
  // Tensors go through it too: a freed activation's buffer comes back for the next one.
  const auto a0 = gb::storage_alloc_stats();
  { gb::Tensor x = gb::Tensor::zeros({1 << 18}, gb::DType::F32); }
  gb::Tensor y = gb::Tensor::zeros({1 << 18}, gb::DType::F32);
  EXPECT_EQ(gb::storage_alloc_stats().count, a0.count + 2);
  EXPECT_EQ(y.data<float>()[12345], 0.f);
}

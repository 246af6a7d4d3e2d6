#include <cstdio>
#include <string>

#include "cuda/backend.h"
#include "cuda/check.h"
#include "cuda/runtime.h"
#include "tensor/caching_allocator.h"
#include "tensor/tensor.h"

namespace gb::cuda {
namespace {

// cudaMalloc'd blocks behind the caching allocator (tensor/caching_allocator.h): no cudaMalloc in
// a step loop once the first step has run. cudaMalloc failing returns nullptr (the cache is then
// released and the request retried); other errors throw.
void* raw_cuda_alloc(size_t n) {
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, n);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear it: the caller retries or reports
    return nullptr;
  }
  GB_CUDA_CHECK(e);
  return p;
}
void raw_cuda_free(void* p) { GB_CUDA_CHECK(cudaFree(p)); }

CachingAllocator& device_cache() {
  static CachingAllocator* c = new CachingAllocator(raw_cuda_alloc, raw_cuda_free);  // never destroyed: the
  return *c;  // CUDA context may be gone at exit, and the driver frees device memory with the process
}

struct CudaAllocator final : Allocator {
  void* allocate(size_t n) override { return device_cache().allocate(n); }
  void deallocate(void* p) override { device_cache().deallocate(p); }
  void copy_to_host(void* dst, const void* src, size_t n) override {
    GB_CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyDeviceToHost));
  }
  void copy_from_host(void* dst, const void* src, size_t n) override {
    GB_CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyHostToDevice));
  }
  void copy_device(void* dst, const void* src, size_t n) override {
    GB_CUDA_CHECK(cudaMemcpy(dst, src, n, cudaMemcpyDeviceToDevice));
  }
};

}  // namespace

bool init(std::string* why) {
  static int state = -1;  // -1 unknown, 0 absent, 1 present
  static std::string reason;
  if (state < 0) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
      state = 0;
      reason = e != cudaSuccess ? std::string("no usable CUDA driver or device (cudart says: ") + cudaGetErrorString(e) + ")"
                                : "no CUDA device";
      cudaGetLastError();  // clear the sticky error
    } else {
      static CudaAllocator alloc;
      register_allocator(Device::CUDA, &alloc);
      register_backend(Device::CUDA, &cuda_backend());
      state = 1;
    }
  }
  if (why) *why = reason;
  return state == 1;
}

DeviceMemoryStats memory_stats() { return device_cache().stats(); }
void reset_memory_peaks() { device_cache().reset_peaks(); }
void empty_cache() { device_cache().empty_cache(); }

std::string device_description() {
  cudaDeviceProp p;
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) return "none";
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.0f GiB)", p.name, p.major, p.minor,
                (double)p.totalGlobalMem / (1024.0 * 1024 * 1024));
  return buf;
}

}  // namespace gb::cuda

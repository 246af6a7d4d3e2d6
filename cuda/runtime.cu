#include <cstdio>
#include <string>

#include "cuda/backend.h"
#include "cuda/check.h"
#include "cuda/runtime.h"
#include "tensor/tensor.h"

namespace gb::cuda {
namespace {

// Plain cudaMalloc/cudaFree (no managed memory). A caching allocator can replace this later.
struct CudaAllocator final : Allocator {
  void* allocate(size_t n) override {
    void* p = nullptr;
    GB_CUDA_CHECK(cudaMalloc(&p, n));
    return p;
  }
  void deallocate(void* p) override { cudaFree(p); }
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

std::string device_description() {
  cudaDeviceProp p;
  if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) return "none";
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.0f GiB)", p.name, p.major, p.minor,
                (double)p.totalGlobalMem / (1024.0 * 1024 * 1024));
  return buf;
}

}  // namespace gb::cuda

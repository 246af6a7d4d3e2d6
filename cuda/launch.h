// The device launcher of the item functors of cuda/*_math.h (see cuda/kernel_common.h): one GPU
// thread per item on a 1-D grid, every launch checked. CUDA only; the CPU emulation has its own.
#pragma once
#include <cstdint>

#include "cuda/check.h"
#include "cuda/kernel_common.h"

namespace gb::cuda {

constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n) { return (unsigned)((n + kThreads - 1) / kThreads); }

template <class F>
__global__ void each_item_kernel(int64_t n, F f) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) f(i);
}

struct DeviceLaunch {
  template <class F>
  void operator()(int64_t n, const F& f) const {
    if (n <= 0) return;
    GB_CHECK(n / kThreads < (int64_t)0x7fffffff, "cuda launch: ", n, " items exceed one 1-D grid");
    each_item_kernel<F><<<blocks_for(n), kThreads>>>(n, f);
    GB_CUDA_CHECK_LAUNCH();
  }
};

}  // namespace gb::cuda

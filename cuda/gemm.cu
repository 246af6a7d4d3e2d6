// CUDA backend: batched matrix products. The arithmetic is in cuda/gemm_math.h (item functors and the impl
// templates, shared with the CPU emulation); this file instantiates it with the GPU launcher.
#include "cuda/backend.h"
#include "cuda/launch.h"
#include "cuda/gemm_math.h"

namespace gb::cuda {

void CudaBackend::gemm(const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c) {
  check_devices("gemm", device(), g, a, b, c);
  gemm_impl(DeviceLaunch{}, g, a, b, c);
}

}  // namespace gb::cuda

// The CUDA gemm kernels on the CPU: see tests/harness/cuda_emu.cpp.
#include "cuda/gemm_math.h"
#include "tests/harness/cuda_emu.h"

namespace gb::cuda {

void CudaEmuBackend::gemm(const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c) {
  check_devices("gemm", device(), g, a, b, c);
  gemm_impl(HostLaunch{}, g, a, b, c);
}

}  // namespace gb::cuda

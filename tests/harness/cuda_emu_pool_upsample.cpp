// The CUDA pool_upsample kernels on the CPU: see tests/harness/cuda_emu.cpp.
#include "cuda/pool_upsample_math.h"
#include "tests/harness/cuda_emu.h"

namespace gb::cuda {

void CudaEmuBackend::max_pool_forward(const PoolGeom& g, const Tensor& x, Tensor& y, Tensor& idx) {
  check_devices("max_pool_forward", device(), g, x, y, idx);
  max_pool_forward_impl(HostLaunch{}, g, x, y, idx);
}
void CudaEmuBackend::max_pool_backward(const PoolGeom& g, const Tensor& gy, const Tensor& idx, Tensor& gx) {
  check_devices("max_pool_backward", device(), g, gy, idx, gx);
  max_pool_backward_impl(HostLaunch{}, g, gy, idx, gx);
}
void CudaEmuBackend::upsample_forward(const UpsampleGeom& g, const Tensor& x, Tensor& y) {
  check_devices("upsample_forward", device(), g, x, y);
  upsample_forward_impl(HostLaunch{}, g, x, y);
}
void CudaEmuBackend::upsample_backward(const UpsampleGeom& g, const Tensor& gy, Tensor& gx) {
  check_devices("upsample_backward", device(), g, gy, gx);
  upsample_backward_impl(HostLaunch{}, g, gy, gx);
}

}  // namespace gb::cuda

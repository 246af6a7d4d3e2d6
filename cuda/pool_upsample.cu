// CUDA backend: max pooling, linear resampling. The arithmetic is in cuda/pool_upsample_math.h (item functors and the impl
// templates, shared with the CPU emulation); this file instantiates it with the GPU launcher.
#include "cuda/backend.h"
#include "cuda/launch.h"
#include "cuda/pool_upsample_math.h"

namespace gb::cuda {

void CudaBackend::max_pool_forward(const PoolGeom& g, const Tensor& x, Tensor& y, Tensor& idx) {
  check_devices("max_pool_forward", device(), g, x, y, idx);
  max_pool_forward_impl(DeviceLaunch{}, g, x, y, idx);
}
void CudaBackend::max_pool_backward(const PoolGeom& g, const Tensor& gy, const Tensor& idx, Tensor& gx) {
  check_devices("max_pool_backward", device(), g, gy, idx, gx);
  max_pool_backward_impl(DeviceLaunch{}, g, gy, idx, gx);
}
void CudaBackend::upsample_forward(const UpsampleGeom& g, const Tensor& x, Tensor& y) {
  check_devices("upsample_forward", device(), g, x, y);
  upsample_forward_impl(DeviceLaunch{}, g, x, y);
}
void CudaBackend::upsample_backward(const UpsampleGeom& g, const Tensor& gy, Tensor& gx) {
  check_devices("upsample_backward", device(), g, gy, gx);
  upsample_backward_impl(DeviceLaunch{}, g, gy, gx);
}

}  // namespace gb::cuda

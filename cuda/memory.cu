// CUDA backend: fill, strided copy, strided accumulate. The arithmetic is in cuda/memory_math.h (item functors and the impl
// templates, shared with the CPU emulation); this file instantiates it with the GPU launcher.
#include "cuda/backend.h"
#include "cuda/launch.h"
#include "cuda/memory_math.h"
#include "cuda/support.h"

namespace gb::cuda {

bool CudaBackend::supports(Kernel k, DType dt) const { return supports_kernel(k, dt); }

CudaBackend& cuda_backend() {
  static CudaBackend b;
  return b;
}

void CudaBackend::fill(Tensor& y, double v) {
  check_devices("fill", device(), y, v);
  fill_impl(DeviceLaunch{}, y, v);
}
void CudaBackend::copy(Tensor& y, const Tensor& x) {
  check_devices("copy", device(), y, x);
  copy_impl(DeviceLaunch{}, y, x);
}
void CudaBackend::accumulate(Tensor& y, const Tensor& x) {
  check_devices("accumulate", device(), y, x);
  accumulate_impl(DeviceLaunch{}, y, x);
}

}  // namespace gb::cuda

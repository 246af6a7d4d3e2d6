// CUDA backend: row sums, row maxima (first maximum) and the max backward. The arithmetic is in cuda/reduce_math.h (item functors and the impl
// templates, shared with the CPU emulation); this file instantiates it with the GPU launcher.
#include "cuda/backend.h"
#include "cuda/launch.h"
#include "cuda/reduce_math.h"

namespace gb::cuda {

void CudaBackend::sum_rows(const Tensor& x, Tensor& y) {
  check_devices("sum_rows", device(), x, y);
  sum_rows_impl(DeviceLaunch{}, x, y);
}
void CudaBackend::max_rows(const Tensor& x, Tensor& vals, Tensor& idx) {
  check_devices("max_rows", device(), x, vals, idx);
  max_rows_impl(DeviceLaunch{}, x, vals, idx);
}
void CudaBackend::max_backward(const Tensor& gy, const Tensor& idx, Tensor& gx, int64_t outer, int64_t n, int64_t inner) {
  check_devices("max_backward", device(), gy, idx, gx, outer, n, inner);
  max_backward_impl(DeviceLaunch{}, gy, idx, gx, outer, n, inner);
}

}  // namespace gb::cuda

// CUDA backend: SGD with momentum, AdamW. The arithmetic is in cuda/optim_math.h (item functors and the impl
// templates, shared with the CPU emulation); this file instantiates it with the GPU launcher.
#include "cuda/backend.h"
#include "cuda/launch.h"
#include "cuda/optim_math.h"

namespace gb::cuda {

void CudaBackend::sgd_update(Tensor& w, const Tensor& g, Tensor& buf, double lr, double momentum, double wd, bool first) {
  check_devices("sgd_update", device(), w, g, buf, lr, momentum, wd, first);
  sgd_update_impl(DeviceLaunch{}, w, g, buf, lr, momentum, wd, first);
}
void CudaBackend::adamw_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2, double eps, double wd, int64_t t) {
  check_devices("adamw_update", device(), w, g, m, v, lr, beta1, beta2, eps, wd, t);
  adamw_update_impl(DeviceLaunch{}, w, g, m, v, lr, beta1, beta2, eps, wd, t);
}

}  // namespace gb::cuda

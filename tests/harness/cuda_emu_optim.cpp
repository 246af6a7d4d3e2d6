// The CUDA optim kernels on the CPU: see tests/harness/cuda_emu.cpp.
#include "cuda/optim_math.h"
#include "tests/harness/cuda_emu.h"

namespace gb::cuda {

void CudaEmuBackend::sgd_update(Tensor& w, const Tensor& g, Tensor& buf, double lr, double momentum, double wd, bool first) {
  check_devices("sgd_update", device(), w, g, buf, lr, momentum, wd, first);
  sgd_update_impl(HostLaunch{}, w, g, buf, lr, momentum, wd, first);
}
void CudaEmuBackend::adamw_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2, double eps, double wd, int64_t t) {
  check_devices("adamw_update", device(), w, g, m, v, lr, beta1, beta2, eps, wd, t);
  adamw_update_impl(HostLaunch{}, w, g, m, v, lr, beta1, beta2, eps, wd, t);
}

}  // namespace gb::cuda

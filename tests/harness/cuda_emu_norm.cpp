// The CUDA norm kernels on the CPU: see tests/harness/cuda_emu.cpp.
#include "cuda/norm_math.h"
#include "tests/harness/cuda_emu.h"

namespace gb::cuda {

void CudaEmuBackend::group_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps, Tensor& y, Tensor& mean, Tensor& rstd) {
  check_devices("group_norm_forward", device(), x, gamma, beta, groups, eps, y, mean, rstd);
  group_norm_forward_impl(HostLaunch{}, x, gamma, beta, groups, eps, y, mean, rstd);
}
void CudaEmuBackend::group_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd, int64_t groups, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  check_devices("group_norm_backward", device(), gy, x, gamma, mean, rstd, groups, gx, ggamma, gbeta);
  group_norm_backward_impl(HostLaunch{}, gy, x, gamma, mean, rstd, groups, gx, ggamma, gbeta);
}
void CudaEmuBackend::batch_norm_stats(const Tensor& x, double eps, double momentum, Tensor& mean, Tensor& rstd, Tensor& running_mean, Tensor& running_var) {
  check_devices("batch_norm_stats", device(), x, eps, momentum, mean, rstd, running_mean, running_var);
  batch_norm_stats_impl(HostLaunch{}, x, eps, momentum, mean, rstd, running_mean, running_var);
}
void CudaEmuBackend::batch_norm_running_stats(const Tensor& running_mean, const Tensor& running_var, double eps, Tensor& mean, Tensor& rstd) {
  check_devices("batch_norm_running_stats", device(), running_mean, running_var, eps, mean, rstd);
  batch_norm_running_stats_impl(HostLaunch{}, running_mean, running_var, eps, mean, rstd);
}
void CudaEmuBackend::batch_norm_apply(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& rstd, Tensor& y) {
  check_devices("batch_norm_apply", device(), x, gamma, beta, mean, rstd, y);
  batch_norm_apply_impl(HostLaunch{}, x, gamma, beta, mean, rstd, y);
}
void CudaEmuBackend::batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd, bool training, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  check_devices("batch_norm_backward", device(), gy, x, gamma, mean, rstd, training, gx, ggamma, gbeta);
  batch_norm_backward_impl(HostLaunch{}, gy, x, gamma, mean, rstd, training, gx, ggamma, gbeta);
}
void CudaEmuBackend::layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y, Tensor& mean, Tensor& rstd) {
  check_devices("layer_norm_forward", device(), x, gamma, beta, eps, y, mean, rstd);
  layer_norm_forward_impl(HostLaunch{}, x, gamma, beta, eps, y, mean, rstd);
}
void CudaEmuBackend::layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  check_devices("layer_norm_backward", device(), gy, x, gamma, mean, rstd, gx, ggamma, gbeta);
  layer_norm_backward_impl(HostLaunch{}, gy, x, gamma, mean, rstd, gx, ggamma, gbeta);
}

}  // namespace gb::cuda

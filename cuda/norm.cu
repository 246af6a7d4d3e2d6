// CUDA backend: group norm, batch norm, layer norm. The arithmetic is in cuda/norm_math.h (item functors and the impl
// templates, shared with the CPU emulation); this file instantiates it with the GPU launcher.
#include "cuda/backend.h"
#include "cuda/launch.h"
#include "cuda/norm_math.h"

namespace gb::cuda {

void CudaBackend::group_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps, Tensor& y, Tensor& mean, Tensor& rstd) {
  check_devices("group_norm_forward", device(), x, gamma, beta, groups, eps, y, mean, rstd);
  group_norm_forward_impl(DeviceLaunch{}, x, gamma, beta, groups, eps, y, mean, rstd);
}
void CudaBackend::group_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd, int64_t groups, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  check_devices("group_norm_backward", device(), gy, x, gamma, mean, rstd, groups, gx, ggamma, gbeta);
  group_norm_backward_impl(DeviceLaunch{}, gy, x, gamma, mean, rstd, groups, gx, ggamma, gbeta);
}
void CudaBackend::batch_norm_stats(const Tensor& x, double eps, double momentum, Tensor& mean, Tensor& rstd, Tensor& running_mean, Tensor& running_var) {
  check_devices("batch_norm_stats", device(), x, eps, momentum, mean, rstd, running_mean, running_var);
  batch_norm_stats_impl(DeviceLaunch{}, x, eps, momentum, mean, rstd, running_mean, running_var);
}
void CudaBackend::batch_norm_running_stats(const Tensor& running_mean, const Tensor& running_var, double eps, Tensor& mean, Tensor& rstd) {
  check_devices("batch_norm_running_stats", device(), running_mean, running_var, eps, mean, rstd);
  batch_norm_running_stats_impl(DeviceLaunch{}, running_mean, running_var, eps, mean, rstd);
}
void CudaBackend::batch_norm_apply(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& rstd, Tensor& y) {
  check_devices("batch_norm_apply", device(), x, gamma, beta, mean, rstd, y);
  batch_norm_apply_impl(DeviceLaunch{}, x, gamma, beta, mean, rstd, y);
}
void CudaBackend::batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd, bool training, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  check_devices("batch_norm_backward", device(), gy, x, gamma, mean, rstd, training, gx, ggamma, gbeta);
  batch_norm_backward_impl(DeviceLaunch{}, gy, x, gamma, mean, rstd, training, gx, ggamma, gbeta);
}
void CudaBackend::layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y, Tensor& mean, Tensor& rstd) {
  check_devices("layer_norm_forward", device(), x, gamma, beta, eps, y, mean, rstd);
  layer_norm_forward_impl(DeviceLaunch{}, x, gamma, beta, eps, y, mean, rstd);
}
void CudaBackend::layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  check_devices("layer_norm_backward", device(), gy, x, gamma, mean, rstd, gx, ggamma, gbeta);
  layer_norm_backward_impl(DeviceLaunch{}, gy, x, gamma, mean, rstd, gx, ggamma, gbeta);
}

}  // namespace gb::cuda

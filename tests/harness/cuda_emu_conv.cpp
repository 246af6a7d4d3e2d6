// The CUDA conv kernels on the CPU: see tests/harness/cuda_emu.cpp.
#include "cuda/conv_math.h"
#include "tests/harness/cuda_emu.h"

namespace gb::cuda {

void CudaEmuBackend::conv_forward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  check_devices("conv_forward", device(), g, x, w, bias, y);
  conv_forward_impl(HostLaunch{}, g, x, w, bias, y);
}
void CudaEmuBackend::conv_backward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy, Tensor& gx, Tensor& gw, Tensor& gbias) {
  check_devices("conv_backward", device(), g, x, w, gy, gx, gw, gbias);
  conv_backward_impl(HostLaunch{}, g, x, w, gy, gx, gw, gbias);
}
void CudaEmuBackend::weight_std_forward(const Tensor& w, double eps, Tensor& y) {
  check_devices("weight_std_forward", device(), w, eps, y);
  weight_std_forward_impl(HostLaunch{}, w, eps, y);
}
void CudaEmuBackend::weight_std_backward(const Tensor& w, double eps, const Tensor& gy, Tensor& gw) {
  check_devices("weight_std_backward", device(), w, eps, gy, gw);
  weight_std_backward_impl(HostLaunch{}, w, eps, gy, gw);
}

}  // namespace gb::cuda

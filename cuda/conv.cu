// CUDA backend: convolution forward and backward (2-D and 3-D, groups, stride, padding, dilation), weight standardisation. The arithmetic is in cuda/conv_math.h (item functors and the impl
// templates, shared with the CPU emulation); this file instantiates it with the GPU launcher.
#include "cuda/backend.h"
#include "cuda/launch.h"
#include "cuda/conv_math.h"

namespace gb::cuda {

void CudaBackend::conv_forward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  check_devices("conv_forward", device(), g, x, w, bias, y);
  conv_forward_impl(DeviceLaunch{}, g, x, w, bias, y);
}
void CudaBackend::conv_backward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy, Tensor& gx, Tensor& gw, Tensor& gbias) {
  check_devices("conv_backward", device(), g, x, w, gy, gx, gw, gbias);
  conv_backward_impl(DeviceLaunch{}, g, x, w, gy, gx, gw, gbias);
}
void CudaBackend::weight_std_forward(const Tensor& w, double eps, Tensor& y) {
  check_devices("weight_std_forward", device(), w, eps, y);
  weight_std_forward_impl(DeviceLaunch{}, w, eps, y);
}
void CudaBackend::weight_std_backward(const Tensor& w, double eps, const Tensor& gy, Tensor& gw) {
  check_devices("weight_std_backward", device(), w, eps, gy, gw);
  weight_std_backward_impl(DeviceLaunch{}, w, eps, gy, gw);
}

}  // namespace gb::cuda

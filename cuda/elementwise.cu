// CUDA backend: unary maps and their backward, broadcast binary ops, bias rows. The arithmetic is in cuda/elementwise_math.h (item functors and the impl
// templates, shared with the CPU emulation); this file instantiates it with the GPU launcher.
#include "cuda/backend.h"
#include "cuda/launch.h"
#include "cuda/elementwise_math.h"

namespace gb::cuda {

void CudaBackend::unary(UnaryOp op, double s, const Tensor& x, Tensor& y) {
  check_devices("unary", device(), op, s, x, y);
  unary_impl(DeviceLaunch{}, op, s, x, y);
}
void CudaBackend::unary_backward(UnaryOp op, double s, const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx) {
  check_devices("unary_backward", device(), op, s, x, y, gy, gx);
  unary_backward_impl(DeviceLaunch{}, op, s, x, y, gy, gx);
}
void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  check_devices("binary", device(), op, a, b, y);
  binary_impl(DeviceLaunch{}, op, a, b, y);
}
void CudaBackend::bias_rows(const Tensor& bias, Tensor& y) {
  check_devices("bias_rows", device(), bias, y);
  bias_rows_impl(DeviceLaunch{}, bias, y);
}

}  // namespace gb::cuda

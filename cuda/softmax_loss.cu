// CUDA backend: softmax and log-softmax, cross entropy, soft Dice, one-hot. The arithmetic is in cuda/softmax_loss_math.h (item functors and the impl
// templates, shared with the CPU emulation); this file instantiates it with the GPU launcher.
#include "cuda/backend.h"
#include "cuda/launch.h"
#include "cuda/softmax_loss_math.h"

namespace gb::cuda {

void CudaBackend::softmax_forward(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& y) {
  check_devices("softmax_forward", device(), x, outer, n, inner, log, y);
  softmax_forward_impl(DeviceLaunch{}, x, outer, n, inner, log, y);
}
void CudaBackend::softmax_backward(const Tensor& gy, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& gx) {
  check_devices("softmax_backward", device(), gy, y, outer, n, inner, log, gx);
  softmax_backward_impl(DeviceLaunch{}, gy, y, outer, n, inner, log, gx);
}
CeSums CudaBackend::cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight, int64_t ignore_index, Tensor& p) {
  check_devices("cross_entropy_forward", device(), logits, target, weight, ignore_index, p);
  return cross_entropy_forward_impl(DeviceLaunch{}, logits, target, weight, ignore_index, p);
}
void CudaBackend::cross_entropy_backward(double g, const Tensor& p, const Tensor& target, const Tensor& weight, double weight_sum, int64_t ignore_index, Tensor& gx) {
  check_devices("cross_entropy_backward", device(), g, p, target, weight, weight_sum, ignore_index, gx);
  cross_entropy_backward_impl(DeviceLaunch{}, g, p, target, weight, weight_sum, ignore_index, gx);
}
void CudaBackend::dice_sums(const Tensor& p, const Tensor& target, Tensor& I, Tensor& Z, Tensor& Y) {
  check_devices("dice_sums", device(), p, target);
  dice_sums_impl(DeviceLaunch{}, p, target, I, Z, Y);
}
void CudaBackend::dice_backward(double g, const Tensor& p, const Tensor& target, const std::vector<double>& w, double smooth, const Tensor& I, const Tensor& Z, const Tensor& Y, Tensor& gx) {
  check_devices("dice_backward", device(), g, p, target, w, smooth, gx);
  dice_backward_impl(DeviceLaunch{}, g, p, target, w, smooth, I, Z, Y, gx);
}
void CudaBackend::one_hot(const Tensor& target, Tensor& y) {
  check_devices("one_hot", device(), target, y);
  one_hot_impl(DeviceLaunch{}, target, y);
}

}  // namespace gb::cuda

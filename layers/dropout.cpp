#include "layers/dropout.h"

namespace gb::nn {

Tensor Dropout::forward(const Tensor& x) {
  return run([&] {
    if (!is_training() || p_ == 0) return x;
    add_flops(0, 2.0 * x.numel());  // mask multiply and scale
    return dropout(x, p_, true, gen_);
  });
}

}  // namespace gb::nn

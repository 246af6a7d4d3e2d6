#include "layers/dropout.h"

namespace gb::nn {

Tensor Dropout::forward(const Tensor& x) {
  return run([&] {
    if (!is_training() || p_ == 0) return x;
    return dropout(x, p_, true, gen_);
  });
}

}  // namespace gb::nn

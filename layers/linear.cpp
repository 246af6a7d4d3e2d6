#include "layers/linear.h"

#include "layers/init.h"

namespace gb::nn {

Linear::Linear(int64_t in, int64_t out, bool has_bias, Generator& gen) : in_(in), out_(out) {
  GB_CHECK(in > 0 && out > 0, "Linear: bad sizes in=", in, " out=", out);
  weight = Tensor::empty({out, in});
  init::kaiming_uniform_a_sqrt5(weight, gen);
  register_parameter("weight", weight);
  if (has_bias) {
    bias = Tensor::empty({out});
    init::default_bias(bias, in, gen);
    register_parameter("bias", bias);
  }
}

Tensor Linear::forward(const Tensor& x) {
  return run([&] {
    return linear(x, weight, bias);
  });
}

}  // namespace gb::nn

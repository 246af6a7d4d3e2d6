#include "layers/conv.h"

#include "layers/init.h"

namespace gb::nn {

Conv2d::Conv2d(const Conv2dSpec& s, Generator& gen) : spec_(s) {
  GB_CHECK(s.in > 0 && s.out > 0 && s.groups > 0 && s.in % s.groups == 0 && s.out % s.groups == 0,
           "Conv2d: bad channels in=", s.in, " out=", s.out, " groups=", s.groups);
  weight = Tensor::empty({s.out, s.in / s.groups, s.kernel[0], s.kernel[1]});
  init::kaiming_uniform_a_sqrt5(weight, gen);
  register_parameter("weight", weight);
  if (s.bias) {
    bias = Tensor::empty({s.out});
    init::default_bias(bias, init::fan_in(weight), gen);
    register_parameter("bias", bias);
  }
}

static Conv2dSpec square(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding, bool bias) {
  Conv2dSpec s;
  s.in = in;
  s.out = out;
  s.kernel = {k, k};
  s.stride = {stride, stride};
  s.padding = {padding, padding};
  s.bias = bias;
  return s;
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding, bool bias, Generator& gen)
    : Conv2d(square(in, out, k, stride, padding, bias), gen) {}

Tensor Conv2d::forward(const Tensor& x) {
  return run([&] {
    Conv2dOpts o;
    o.stride = spec_.stride;
    o.padding = spec_.padding;
    o.dilation = spec_.dilation;
    o.groups = spec_.groups;
    return conv2d(x, effective_weight(), bias, o);
  });
}

Tensor StdConv2d::effective_weight() {
  // Reused inside a ParameterCacheScope when no graph goes through the weight (layers/module.h).
  ParameterCacheScope* scope = ParameterCacheScope::current();
  if (!scope || (grad_enabled() && needs_grad(weight))) return weight_standardize(weight, 1e-5);
  Tensor w = scope->find(this);
  if (w.defined() && w.shape() == weight.shape() && w.dtype() == weight.dtype() && w.device() == weight.device())
    return w;
  w = weight_standardize(weight, 1e-5);
  scope->put(this, w);
  return w;
}

Conv3d::Conv3d(const Conv3dSpec& s, Generator& gen) : spec_(s) {
  GB_CHECK(s.in > 0 && s.out > 0 && s.groups > 0 && s.in % s.groups == 0 && s.out % s.groups == 0,
           "Conv3d: bad channels in=", s.in, " out=", s.out, " groups=", s.groups);
  weight = Tensor::empty({s.out, s.in / s.groups, s.kernel[0], s.kernel[1], s.kernel[2]});
  init::kaiming_uniform_a_sqrt5(weight, gen);
  register_parameter("weight", weight);
  if (s.bias) {
    bias = Tensor::empty({s.out});
    init::default_bias(bias, init::fan_in(weight), gen);
    register_parameter("bias", bias);
  }
}

Tensor Conv3d::forward(const Tensor& x) {
  return run([&] {
    Conv3dOpts o;
    o.stride = spec_.stride;
    o.padding = spec_.padding;
    o.dilation = spec_.dilation;
    o.groups = spec_.groups;
    return conv3d(x, weight, bias, o);
  });
}

}  // namespace gb::nn

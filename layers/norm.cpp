#include "layers/norm.h"

namespace gb::nn {

GroupNorm::GroupNorm(int64_t groups, int64_t channels, double eps, bool affine)
    : groups_(groups), channels_(channels), eps_(eps) {
  GB_CHECK(groups > 0 && channels > 0 && channels % groups == 0, "GroupNorm: ", channels,
           " channels do not split into ", groups, " groups");
  if (affine) {
    weight = Tensor::ones({channels});
    bias = Tensor::zeros({channels});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  return run([&] {
    GB_CHECK(x.dim() >= 2 && x.size(1) == channels_, "GroupNorm '", full_name(), "': expected [N, ", channels_,
             ", *], got ", x.desc());
    return group_norm(x, groups_, weight, bias, eps_);
  });
}

BatchNorm::BatchNorm(int64_t channels, int64_t dims, double eps, double momentum)
    : channels_(channels), dims_(dims), eps_(eps), momentum_(momentum) {
  GB_CHECK(channels > 0, "BatchNorm: channels must be positive, got ", channels);
  weight = Tensor::ones({channels});
  bias = Tensor::zeros({channels});
  running_mean = Tensor::zeros({channels});
  running_var = Tensor::ones({channels});
  num_batches_tracked = Tensor::zeros({}, DType::I32);
  register_parameter("weight", weight);
  register_parameter("bias", bias);
  register_buffer("running_mean", running_mean);
  register_buffer("running_var", running_var);
  register_buffer("num_batches_tracked", num_batches_tracked);
}

Tensor BatchNorm::forward(const Tensor& x) {
  return run([&] {
    GB_CHECK(x.dim() == dims_ && x.size(1) == channels_, type_name(), " '", full_name(), "': expected ", dims_,
             "-d input with ", channels_, " channels, got ", x.desc());
    const bool tr = is_training();
    if (tr) num_batches_tracked.data<int32_t>()[0] += 1;
    return batch_norm(x, weight, bias, running_mean, running_var, tr, momentum_, eps_);
  });
}

LayerNorm::LayerNorm(int64_t d, double eps) : d_(d), eps_(eps) {
  GB_CHECK(d > 0, "LayerNorm: size must be positive, got ", d);
  weight = Tensor::ones({d});
  bias = Tensor::zeros({d});
  register_parameter("weight", weight);
  register_parameter("bias", bias);
}

Tensor LayerNorm::forward(const Tensor& x) {
  return run([&] {
    GB_CHECK(x.dim() >= 1 && x.size(-1) == d_, "LayerNorm '", full_name(), "': expected last dim ", d_, ", got ",
             x.desc());
    return layer_norm(x, weight, bias, eps_);
  });
}

}  // namespace gb::nn

// Weight initialisation, as torch.nn.init does it, drawing from gb::Generator (Philox) so one seed
// names every weight of a model. All fill contiguous f32/f64 tensors in place.
#pragma once
#include "tensor/philox.h"
#include "tensor/tensor.h"

namespace gb::nn::init {

// fan_in / fan_out of a weight laid out [out, in, *kernel] (torch's _calculate_fan_in_and_fan_out).
int64_t fan_in(const Tensor& w);
int64_t fan_out(const Tensor& w);

void uniform(Tensor& t, double lo, double hi, Generator& gen);
void normal(Tensor& t, double mean, double std, Generator& gen);
// torch's default for Linear / Conv weights: kaiming_uniform_(a = sqrt(5)), i.e. U(-b, b) with
// b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)) = sqrt(1/3)  ->  b = 1 / sqrt(fan_in).
void kaiming_uniform_a_sqrt5(Tensor& w, Generator& gen);
// torch's default bias of Linear / Conv: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in of the weight.
void default_bias(Tensor& b, int64_t weight_fan_in, Generator& gen);
// xavier_uniform_: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform(Tensor& w, Generator& gen, double gain = 1.0);

}  // namespace gb::nn::init

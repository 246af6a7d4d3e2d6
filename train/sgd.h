// SGD with momentum and weight decay, exactly torch.optim.SGD's update (dampening 0, not Nesterov):
//   d = grad + weight_decay * p
//   buf = d                      on the first step
//   buf = momentum * buf + d     afterwards
//   p  -= lr * buf
// TransUNet trains with lr 0.01, momentum 0.9, weight_decay 1e-4 and the poly schedule below.
#pragma once
#include <vector>

#include "tensor/tensor.h"
#include "train/optimizer.h"

namespace gb::train {

struct SgdOptions {
  double lr = 0.01, momentum = 0.9, weight_decay = 1e-4;
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<Tensor> params, SgdOptions opt);
  // Applies one update to every parameter that has a gradient. Runs without recording a graph.
  void step() override;
  void zero_grad() override;
  void set_lr(double lr) override { opt_.lr = lr; }
  double lr() const override { return opt_.lr; }
  nn::NamedTensors state() const override;  // "momentum.<i>" for each stepped parameter
  void load_state(const nn::TensorMap& state, const std::string& source) override;
  const std::vector<Tensor>& momentum_buffers() const { return bufs_; }  // undefined until first step

 private:
  std::vector<Tensor> params_, bufs_;
  SgdOptions opt_;
};

// TransUNet's poly decay: lr(it) = base_lr * (1 - it / max_iter)^0.9.
double poly_lr(double base_lr, int64_t it, int64_t max_iter, double power = 0.9);

}  // namespace gb::train

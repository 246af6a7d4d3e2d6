// The optimiser interface the training run uses, and AdamW.
// State (momentum buffers, Adam moments, step count) is exposed by name so that checkpoints hold it
// and a resumed run continues bit for bit.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"
#include "tensor/tensor.h"

namespace gb::train {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  virtual void zero_grad() = 0;
  virtual void set_lr(double lr) = 0;
  virtual double lr() const = 0;
  // Named state tensors ("momentum.<i>", "adam.m.<i>", ...) and their restore; load_state checks
  // that every expected name is present with the right shape.
  virtual nn::NamedTensors state() const = 0;
  virtual void load_state(const nn::TensorMap& state, const std::string& source) = 0;
};

// torch.optim.AdamW (amsgrad off, maximize off):
//   p -= lr * wd * p
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01;
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions opt);
  void step() override;
  void zero_grad() override;
  void set_lr(double lr) override { opt_.lr = lr; }
  double lr() const override { return opt_.lr; }
  nn::NamedTensors state() const override;
  void load_state(const nn::TensorMap& state, const std::string& source) override;

 private:
  std::vector<Tensor> params_, m_, v_;
  std::vector<int64_t> t_;  // steps taken per parameter (a parameter without gradient is not stepped)
  AdamWOptions opt_;
};

}  // namespace gb::train

// Dropout (inverted, as torch): identity in eval mode or when p == 0. Each Dropout owns a Philox
// stream; Module::set_dropout_seed gives every Dropout of a model (seed, its index) so a seed names
// the masks of a training run.
#pragma once
#include "layers/module.h"

namespace gb::nn {

class Dropout : public Unary {
 public:
  explicit Dropout(double p) : p_(p), gen_(0, 0) {
    GB_CHECK(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got ", p);
  }
  std::string type_name() const override { return "Dropout"; }
  Tensor forward(const Tensor& x) override;
  void reseed(uint64_t seed, uint64_t stream) { gen_ = Generator(seed, stream); }
  Generator& generator() { return gen_; }
  double p() const { return p_; }

 private:
  double p_;
  Generator gen_;
};

}  // namespace gb::nn

// Linear: y = x W^T + b with W [out, in] (torch layout and default initialisation).
#pragma once
#include "layers/module.h"

namespace gb::nn {

class Linear : public Unary {
 public:
  Linear(int64_t in, int64_t out, bool bias, Generator& gen);
  std::string type_name() const override { return "Linear"; }
  Tensor forward(const Tensor& x) override;
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  Tensor weight, bias;

 private:
  int64_t in_, out_;
};

}  // namespace gb::nn

// Normalisation layers with torch's names: weight (gamma, init 1), bias (beta, init 0); BatchNorm
// adds buffers running_mean (0), running_var (1), num_batches_tracked (i32 scalar; torch's is i64).
// FLOPs: counted as "other", ~7 per element (mean, centre, square, sum, scale, affine).
#pragma once
#include "layers/module.h"

namespace gb::nn {

class GroupNorm : public Unary {
 public:
  GroupNorm(int64_t groups, int64_t channels, double eps = 1e-5, bool affine = true);
  std::string type_name() const override { return "GroupNorm"; }
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;

 private:
  int64_t groups_, channels_;
  double eps_;
};

// BatchNorm over [N, C, *]; `dims` is the expected rank (4 for BatchNorm2d, 5 for BatchNorm3d).
class BatchNorm : public Unary {
 public:
  BatchNorm(int64_t channels, int64_t dims, double eps = 1e-5, double momentum = 0.1);
  std::string type_name() const override { return dims_ == 4 ? "BatchNorm2d" : "BatchNorm3d"; }
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  int64_t channels_, dims_;
  double eps_, momentum_;
};
inline std::shared_ptr<BatchNorm> BatchNorm2d(int64_t c, double eps = 1e-5, double momentum = 0.1) {
  return std::make_shared<BatchNorm>(c, 4, eps, momentum);
}
inline std::shared_ptr<BatchNorm> BatchNorm3d(int64_t c, double eps = 1e-5, double momentum = 0.1) {
  return std::make_shared<BatchNorm>(c, 5, eps, momentum);
}

class LayerNorm : public Unary {
 public:
  explicit LayerNorm(int64_t d, double eps = 1e-5);
  std::string type_name() const override { return "LayerNorm"; }
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;

 private:
  int64_t d_;
  double eps_;
};

}  // namespace gb::nn

// The CUDA backend (tensor/backend.h): the kernels ported so far, plain and simple, each checked by
// the op harness against the CPU reference on a machine with a GPU. Everything else reports "not
// supported", so the harness lists it and the program refuses a model that needs it.
// Ported: fill, copy, accumulate (memory); unary and its backward (every UnaryOp); sum_rows;
// layer_norm forward and backward. f32 and f64.
// Determinism: no atomics; every reduction is one thread walking its row or column in order.
#pragma once
#include "tensor/backend.h"

namespace gb::cuda {

class CudaBackend final : public Backend {
 public:
  const char* name() const override { return "cuda"; }
  Device device() const override { return Device::CUDA; }
  bool supports(Kernel k, DType dt) const override;

  void fill(Tensor& y, double v) override;
  void copy(Tensor& y, const Tensor& x) override;
  void accumulate(Tensor& y, const Tensor& x) override;
  void unary(UnaryOp op, double s, const Tensor& x, Tensor& y) override;
  void unary_backward(UnaryOp op, double s, const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx) override;
  void sum_rows(const Tensor& x, Tensor& y) override;
  void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y, Tensor& mean,
                          Tensor& rstd) override;
  void layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                           const Tensor& rstd, Tensor& gx, Tensor& ggamma, Tensor& gbeta) override;
};

CudaBackend& cuda_backend();

}  // namespace gb::cuda

// The CUDA backend (tensor/backend.h): every kernel of the seam, as plain one-item-per-thread kernels
// whose per-item arithmetic lives in cuda/<family>_math.h (see cuda/kernel_common.h). The same code
// runs on the CPU in the op harness's "cuda-emu" column (tests/harness/cuda_emu.h), which checks it
// against the CPU reference without a GPU; on a GPU, the "cuda" column does (scripts/gpu-check.sh).
// Families: memory.cu, elementwise.cu, reduce.cu, gemm.cu, conv.cu, norm.cu, softmax_loss.cu,
// pool_upsample.cu, optim.cu. Support table: cuda/support.h.
// Determinism: no atomics; every reduction walks its elements in a fixed order.
// Speed is not the point of these kernels yet: they are the checked baseline that tuned variants
// (tensor cores, fused attention, a kernel lab) are measured and validated against.
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
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) override;
  void sum_rows(const Tensor& x, Tensor& y) override;
  void max_rows(const Tensor& x, Tensor& vals, Tensor& idx) override;
  void max_backward(const Tensor& gy, const Tensor& idx, Tensor& gx, int64_t outer, int64_t n, int64_t inner) override;
  void gemm(const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c) override;
  void bias_rows(const Tensor& bias, Tensor& y) override;
  void conv_forward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) override;
  void conv_backward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy, Tensor& gx, Tensor& gw, Tensor& gbias) override;
  void weight_std_forward(const Tensor& w, double eps, Tensor& y) override;
  void weight_std_backward(const Tensor& w, double eps, const Tensor& gy, Tensor& gw) override;
  void group_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps, Tensor& y, Tensor& mean, Tensor& rstd) override;
  void group_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd, int64_t groups, Tensor& gx, Tensor& ggamma, Tensor& gbeta) override;
  void batch_norm_stats(const Tensor& x, double eps, double momentum, Tensor& mean, Tensor& rstd, Tensor& running_mean, Tensor& running_var) override;
  void batch_norm_running_stats(const Tensor& running_mean, const Tensor& running_var, double eps, Tensor& mean, Tensor& rstd) override;
  void batch_norm_apply(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& rstd, Tensor& y) override;
  void batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd, bool training, Tensor& gx, Tensor& ggamma, Tensor& gbeta) override;
  void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y, Tensor& mean, Tensor& rstd) override;
  void layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd, Tensor& gx, Tensor& ggamma, Tensor& gbeta) override;
  void softmax_forward(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& y) override;
  void softmax_backward(const Tensor& gy, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& gx) override;
  CeSums cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight, int64_t ignore_index, Tensor& p) override;
  void cross_entropy_backward(double g, const Tensor& p, const Tensor& target, const Tensor& weight, double weight_sum, int64_t ignore_index, Tensor& gx) override;
  void dice_sums(const Tensor& p, const Tensor& target, Tensor& I, Tensor& Z, Tensor& Y) override;
  void dice_backward(double g, const Tensor& p, const Tensor& target, const std::vector<double>& w, double smooth, const Tensor& I, const Tensor& Z, const Tensor& Y, Tensor& gx) override;
  void one_hot(const Tensor& target, Tensor& y) override;
  void max_pool_forward(const PoolGeom& g, const Tensor& x, Tensor& y, Tensor& idx) override;
  void max_pool_backward(const PoolGeom& g, const Tensor& gy, const Tensor& idx, Tensor& gx) override;
  void upsample_forward(const UpsampleGeom& g, const Tensor& x, Tensor& y) override;
  void upsample_backward(const UpsampleGeom& g, const Tensor& gy, Tensor& gx) override;
  void sgd_update(Tensor& w, const Tensor& g, Tensor& buf, double lr, double momentum, double wd, bool first) override;
  void adamw_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2, double eps, double wd, int64_t t) override;
};

CudaBackend& cuda_backend();

}  // namespace gb::cuda

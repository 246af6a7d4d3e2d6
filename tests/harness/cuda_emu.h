// The CUDA backend run on the CPU: every kernel of cuda/backend.h instantiated with a serial host
// launcher instead of the GPU one (cuda/kernel_common.h explains the split). The op harness installs
// it as the CPU backend in its "cuda-emu" column, so the arithmetic the GPU would run is checked
// against the CPU reference on any machine; only the launcher, device memory and device code
// generation are left for a GPU (scripts/gpu-check.sh). Test code: never used by the program.
#pragma once
#include <cstdint>

#include "cuda/support.h"
#include "tensor/backend.h"
#include "tensor/tensor.h"

namespace gb::cuda {

// Runs items n-1..0 on the calling thread: a GPU launch with one item per thread, serialised. Items
// of one launch must not depend on each other (on a GPU they run in any order, at once): running
// them against index order makes a kernel whose items read what earlier items wrote (a race on the
// GPU) give a different answer here, which the harness then reports.
// While a FakeCudaDevice is alive its memory is readable only inside a launch (and the allocator's
// copies): the launcher opens it around the items.
void emulated_device_access(bool open);
struct HostLaunch {
  template <class F>
  void operator()(int64_t n, const F& f) const {
    emulated_device_access(true);
    for (int64_t i = n - 1; i >= 0; --i) f(i);
    emulated_device_access(false);
  }
};

class CudaEmuBackend final : public Backend {
 public:
  CudaEmuBackend(Device d, const char* name) : device_(d), name_(name) {}
  const char* name() const override { return name_; }
  Device device() const override { return device_; }
  bool supports(Kernel k, DType dt) const override { return supports_kernel(k, dt); }

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

 private:
  Device device_;
  const char* name_;
};

// The emulation on Device::CPU, named "cuda-emu" (the op harness's column).
CudaEmuBackend& cuda_emu_backend();

// A stand-in CUDA device for tests on machines without a GPU: while alive, Device::CUDA has memory
// of its own and the emulated CUDA kernels as its backend, named "cuda". Code that places a model
// and its data on Device::CUDA then runs end to end through every CUDA kernel's arithmetic. Its
// memory is host memory kept inaccessible (mprotect) except inside a kernel launch or a copy, so
// host code touching device memory directly faults where it does so, as on a GPU. Not nestable;
// restores the previous registration.
class FakeCudaDevice {
 public:
  FakeCudaDevice();
  ~FakeCudaDevice();
  FakeCudaDevice(const FakeCudaDevice&) = delete;
  FakeCudaDevice& operator=(const FakeCudaDevice&) = delete;

 private:
  Allocator* prev_alloc_;
  Backend* prev_backend_;
};

}  // namespace gb::cuda

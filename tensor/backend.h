// The backend seam: every piece of arithmetic the engine runs is one kernel call through here.
//
// Design (dlib's tensor_tools over cpu::/cuda:: pairs, with ggml's supports_op): a `Backend` is one
// device's implementation of the kernel list below, all with the same Tensor-level signatures. The
// op layer (autograd/) never names a device: it calls the free functions in tensor/kernels.h, each
// of which looks up the backend of its output's device ONCE, checks that the backend supports the
// kernel for that dtype, notes the use (for `supports` queries) and calls the virtual method.
//   CPU   tensor/cpu/backend.h (CpuBackend, every kernel; the reference-vs-optimised switch of
//         tensor/cpu/kernel_mode.h is applied inside it, nowhere else)
//   CUDA  cuda/backend.h (CudaBackend: the kernels ported so far; registered by cuda::init when a
//         device is present). A method a backend does not override throws "not supported".
//
// Conventions for every kernel: outputs are allocated by the caller on the backend's device with
// the documented shape; "ADD" kernels accumulate into their outputs (+=, the gradient contract of
// autograd/node.h), the others overwrite. Shapes are given per kernel as [dims]. An undefined
// Tensor argument means "not wanted" (gradients) or "absent" (bias, gamma).
//
// Adding a kernel: add its id to Kernel and kernel_name(), a virtual here, a one-line front in
// tensor/kernels.h/.cpp, the CPU implementation in tensor/cpu/backend_<family>.cpp (and
// CpuBackend's declaration), and, when ported, the CUDA one in cuda/<family>.cu.
#pragma once
#include <cstdint>
#include <set>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include "tensor/geometry.h"
#include "tensor/tensor.h"

namespace gb {

enum class Kernel : int {
  fill, copy, accumulate,                       // memory
  unary, unary_backward, binary,                // elementwise
  sum_rows, max_rows, max_backward,             // reductions (argmax is max_rows' index output)
  gemm, bias_rows,                              // matmul / linear
  conv_forward, conv_backward, weight_std_forward, weight_std_backward,
  group_norm_forward, group_norm_backward, batch_norm_stats, batch_norm_running_stats, batch_norm_apply,
  batch_norm_backward, layer_norm_forward, layer_norm_backward,
  softmax_forward, softmax_backward,
  cross_entropy_forward, cross_entropy_backward, dice_sums, dice_backward, one_hot,
  max_pool_forward, max_pool_backward, upsample_forward, upsample_backward,
  sgd_update, adamw_update,
  count_  // number of kernels
};
const char* kernel_name(Kernel k);

// Unary maps y = f(x; s). s is the scalar of add_scalar / mul_scalar / pow.
enum class UnaryOp : int { add_scalar, mul_scalar, exp, log, sqrt, square, pow, relu, sigmoid, tanh, gelu };
enum class BinaryOp : int { add, sub, mul, div };

// C[b] = op(A[b]) op(B[b]) (+ C[b] when accumulate) for each batch b, op = transpose when ta / tb;
// element offsets of batch b in oa[b], ob[b], oc[b]. c_shared: several batches write the same C
// (a broadcast operand's gradient), so batches must run in order.
struct GemmArgs {
  bool ta = false, tb = false;
  int64_t M = 0, N = 0, K = 0, lda = 0, ldb = 0, ldc = 0;
  bool accumulate = false, c_shared = false;
  std::vector<int64_t> oa{0}, ob{0}, oc{0};
};

// Sums of a cross-entropy forward (see tensor/cpu/loss.h).
struct CeSums {
  double loss_sum = 0, weight_sum = 0;
};

// The data pointer of an optional kernel argument, nullptr when undefined (bias, gamma, a gradient not
// wanted): every backend's kernels take optional buffers this way.
template <class T> const T* data_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }
template <class T> T* data_or_null(Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

// The soft Dice loss from its per-class sums I, Z, Y (f64 host tensors [C]); a host formula over C
// numbers, the same for every backend: sum_c w_c (1 - (2 I_c + smooth) / (Z_c + Y_c + smooth)) / C.
double soft_dice_value(const Tensor& I, const Tensor& Z, const Tensor& Y, const std::vector<double>& w, double smooth);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual Device device() const = 0;
  // Whether kernel k runs here on dtype dt (the dtype of the kernel's main float operand).
  virtual bool supports(Kernel k, DType dt) const = 0;

  // ---- memory
  virtual void fill(Tensor& y, double v);                      // y (any strides) = v
  virtual void copy(Tensor& y, const Tensor& x);               // y (any strides) = x (same shape; CPU: any dtypes)
  virtual void accumulate(Tensor& y, const Tensor& x);         // ADD y (any strides) += x (same shape, strided)
  // ---- elementwise; x strided, y contiguous [x.shape]
  virtual void unary(UnaryOp op, double s, const Tensor& x, Tensor& y);
  // ADD gx += gy * f'(x) (f' may use y = f(x)); x, y, gy, gx contiguous, one shape.
  virtual void unary_backward(UnaryOp op, double s, const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx);
  // y contiguous = a op b, where a and b are views at y's shape (broadcast dims have stride 0).
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y);
  // ---- reductions; x contiguous [rows, cols]
  virtual void sum_rows(const Tensor& x, Tensor& y);                         // y [rows] = sum over cols
  virtual void max_rows(const Tensor& x, Tensor& vals, Tensor& idx);         // first maximum, idx i32 [rows]
  // ADD gx [outer, n, inner] at (o, idx[o, i], i) += gy [outer, inner]
  virtual void max_backward(const Tensor& gy, const Tensor& idx, Tensor& gx, int64_t outer, int64_t n, int64_t inner);
  // ---- matmul
  virtual void gemm(const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c);
  virtual void bias_rows(const Tensor& bias, Tensor& y);  // y [R, O] rows = bias [O]
  // ---- convolution (geometry in tensor/geometry.h); contiguous buffers; backward ADDs
  virtual void conv_forward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
  virtual void conv_backward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy, Tensor& gx,
                             Tensor& gw, Tensor& gbias);
  // w [O, K] -> y [O, K] standardised per row; backward ADDs into gw.
  virtual void weight_std_forward(const Tensor& w, double eps, Tensor& y);
  virtual void weight_std_backward(const Tensor& w, double eps, const Tensor& gy, Tensor& gw);
  // ---- normalisation (x [N, C, S] or [R, D]; mean / rstd saved by the forward)
  virtual void group_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps,
                                  Tensor& y, Tensor& mean, Tensor& rstd);
  virtual void group_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, int64_t groups, Tensor& gx, Tensor& ggamma, Tensor& gbeta);
  // Training statistics: mean [C], rstd [C] = 1/sqrt(biased var + eps) over (N, S); when the running
  // buffers are defined, they are updated in place (momentum; the unbiased variance).
  virtual void batch_norm_stats(const Tensor& x, double eps, double momentum, Tensor& mean, Tensor& rstd,
                                Tensor& running_mean, Tensor& running_var);
  // Eval statistics from the running buffers: mean = running_mean, rstd = 1/sqrt(running_var + eps).
  virtual void batch_norm_running_stats(const Tensor& running_mean, const Tensor& running_var, double eps, Tensor& mean,
                                        Tensor& rstd);
  virtual void batch_norm_apply(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                const Tensor& rstd, Tensor& y);
  virtual void batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, bool training, Tensor& gx, Tensor& ggamma, Tensor& gbeta);
  virtual void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y,
                                  Tensor& mean, Tensor& rstd);
  virtual void layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, Tensor& gx, Tensor& ggamma, Tensor& gbeta);
  // ---- softmax along the middle of x [outer, n, inner] (contiguous); backward ADDs
  virtual void softmax_forward(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& y);
  virtual void softmax_backward(const Tensor& gy, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log,
                                Tensor& gx);
  // ---- losses: logits / p [N, C, S], target i32 [N, S], weight [C] or undefined
  virtual CeSums cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                       int64_t ignore_index, Tensor& p);
  virtual void cross_entropy_backward(double g, const Tensor& p, const Tensor& target, const Tensor& weight,
                                      double weight_sum, int64_t ignore_index, Tensor& gx);
  // Per-class sums I, Z, Y [C] (f64 tensors on the host) of the soft Dice.
  virtual void dice_sums(const Tensor& p, const Tensor& target, Tensor& I, Tensor& Z, Tensor& Y);
  virtual void dice_backward(double g, const Tensor& p, const Tensor& target, const std::vector<double>& w,
                             double smooth, const Tensor& I, const Tensor& Z, const Tensor& Y, Tensor& gx);
  virtual void one_hot(const Tensor& target, Tensor& y);  // target [N, S] -> y [N, C, S]
  // ---- pooling and resampling; backward ADDs
  virtual void max_pool_forward(const PoolGeom& g, const Tensor& x, Tensor& y, Tensor& idx);
  virtual void max_pool_backward(const PoolGeom& g, const Tensor& gy, const Tensor& idx, Tensor& gx);
  virtual void upsample_forward(const UpsampleGeom& g, const Tensor& x, Tensor& y);
  virtual void upsample_backward(const UpsampleGeom& g, const Tensor& gy, Tensor& gx);
  // ---- optimisers, in place on contiguous buffers of one shape
  // SGD with momentum: d = g + wd w; buf = first ? d : mom buf + d; w -= lr buf.
  virtual void sgd_update(Tensor& w, const Tensor& g, Tensor& buf, double lr, double momentum, double wd, bool first);
  // AdamW (torch): decoupled decay, bias corrections for step t (1-based).
  virtual void adamw_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                            double eps, double wd, int64_t t);

 protected:
  [[noreturn]] void unsupported(Kernel k) const;
};

// The backend of a device: the CPU always; CUDA once cuda::init found a device. Throws a clear
// error naming the device when it has no backend in this build or on this machine.
Backend& backend(Device d);
bool has_backend(Device d);
void register_backend(Device d, Backend* b);  // nullptr unregisters
Backend* registered_backend(Device d);         // nullptr when none (the CPU's is built in)

// Whether `d`'s backend runs kernel k on dtype dt (false when the device has no backend).
bool supports(Kernel k, Device d, DType dt);

// Kernel-use recording (for "which kernels does this op / model need?"): while a KernelUseRecorder
// is alive on this thread, every kernel call notes (current op, kernel, dtype). The current op is
// the innermost op being run (autograd's trace::Span sets it).
struct KernelUse {
  std::string op;
  Kernel kernel;
  DType dtype;
  bool operator<(const KernelUse& o) const {
    return std::tie(op, kernel, dtype) < std::tie(o.op, o.kernel, o.dtype);
  }
};
class KernelUseRecorder {
 public:
  KernelUseRecorder();
  ~KernelUseRecorder();
  const std::set<KernelUse>& uses() const { return uses_; }
  std::set<KernelUse> uses_;
  KernelUseRecorder* prev_ = nullptr;
};
// The op name kernels are attributed to (a static string); an RAII guard sets it.
struct CurrentOpGuard {
  explicit CurrentOpGuard(const char* op);
  ~CurrentOpGuard();
  const char* prev;
};
// The uses that device d cannot run, as "op (kernel dtype, ...)" lines, one per op, sorted.
std::vector<std::string> unsupported_ops(const std::set<KernelUse>& uses, Device d);

namespace detail {
// Looks up the backend for `dev`, checks support for (k, dt), records the use. The one device switch.
Backend& enter(Kernel k, Device dev, DType dt);
}  // namespace detail

}  // namespace gb

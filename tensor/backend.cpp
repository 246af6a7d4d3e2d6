#include "tensor/backend.h"
#include "tensor/backend_testing.h"

#include <algorithm>
#include <map>

#include "tensor/cpu/loss.h"
#include "tensor/error.h"

namespace gb {

const char* kernel_name(Kernel k) {
  static const char* names[] = {
      "fill",
      "copy",
      "accumulate",
      "unary",
      "unary_backward",
      "binary",
      "sum_rows",
      "max_rows",
      "max_backward",
      "gemm",
      "bias_rows",
      "conv_forward",
      "conv_backward",
      "weight_std_forward",
      "weight_std_backward",
      "group_norm_forward",
      "group_norm_backward",
      "batch_norm_stats",
      "batch_norm_running_stats",
      "batch_norm_apply",
      "batch_norm_backward",
      "layer_norm_forward",
      "layer_norm_backward",
      "softmax_forward",
      "softmax_backward",
      "cross_entropy_forward",
      "cross_entropy_backward",
      "dice_sums",
      "dice_backward",
      "one_hot",
      "max_pool_forward",
      "max_pool_backward",
      "upsample_forward",
      "upsample_backward",
      "sgd_update",
      "adamw_update",
  };
  static_assert(sizeof(names) / sizeof(names[0]) == (size_t)Kernel::count_, "kernel_name: one name per Kernel");
  const int i = (int)k;
  return i >= 0 && i < (int)Kernel::count_ ? names[i] : "?";
}

double soft_dice_value(const Tensor& I, const Tensor& Z, const Tensor& Y, const std::vector<double>& w, double smooth) {
  return cpu::soft_dice_value(I.data<double>(), Z.data<double>(), Y.data<double>(), w.empty() ? nullptr : w.data(),
                              I.numel(), smooth);
}

// ---------------------------------------------------------------- registry
Backend& cpu_backend();  // tensor/cpu/backend.cpp

namespace {
Backend* g_backends[8] = {nullptr};
thread_local KernelUseRecorder* t_recorder = nullptr;
thread_local const char* t_current_op = nullptr;
}  // namespace

void register_backend(Device d, Backend* b) {
  GB_CHECK(d != Device::CPU, "register_backend: the CPU backend is built in (override_cpu_backend is the test hook)");
  g_backends[(int)d] = b;
}
void override_cpu_backend(Backend* b) { g_backends[(int)Device::CPU] = b; }
Backend* registered_backend(Device d) { return d == Device::CPU ? &backend(d) : g_backends[(int)d]; }

bool has_backend(Device d) { return d == Device::CPU || g_backends[(int)d] != nullptr; }

Backend& backend(Device d) {
  if (d == Device::CPU) return g_backends[(int)Device::CPU] ? *g_backends[(int)Device::CPU] : cpu_backend();
  Backend* b = g_backends[(int)d];
  GB_CHECK(b, "no ", device_name(d), " backend: this build has no CUDA backend, or no CUDA device was found "
           "(call gb::init_backends() first; the program falls back to the CPU)");
  return *b;
}

bool supports(Kernel k, Device d, DType dt) { return has_backend(d) && backend(d).supports(k, dt); }

void Backend::unsupported(Kernel k) const {
  fail(name(), " backend: kernel '", kernel_name(k), "' is not supported yet",
       t_current_op ? std::string(" (needed by op '") + t_current_op + "')" : std::string());
}

namespace detail {
Backend& enter(Kernel k, Device dev, DType dt) {
  Backend& b = backend(dev);
  if (t_recorder) t_recorder->uses_.insert({t_current_op ? t_current_op : "(engine)", k, dt});
  if (!b.supports(k, dt))
    fail(b.name(), " backend: kernel '", kernel_name(k), "' is not supported for ", dtype_name(dt),
         t_current_op ? std::string(" (needed by op '") + t_current_op + "')" : std::string(),
         "; `glassbox_ops list` shows what each backend supports");
  return b;
}
}  // namespace detail

// ---------------------------------------------------------------- use recording
KernelUseRecorder::KernelUseRecorder() : prev_(t_recorder) { t_recorder = this; }
KernelUseRecorder::~KernelUseRecorder() {
  t_recorder = prev_;
  if (prev_) prev_->uses_.insert(uses_.begin(), uses_.end());
}
CurrentOpGuard::CurrentOpGuard(const char* op) : prev(t_current_op) { t_current_op = op; }
CurrentOpGuard::~CurrentOpGuard() { t_current_op = prev; }

namespace {
template <class Supports>
std::vector<std::string> unsupported_ops_by(const std::set<KernelUse>& uses, Supports&& supported) {
  std::map<std::string, std::vector<std::string>> by_op;
  for (const auto& u : uses)
    if (!supported(u)) by_op[u.op].push_back(std::string(kernel_name(u.kernel)) + " " + dtype_name(u.dtype));
  std::vector<std::string> out;
  for (auto& [op, ks] : by_op) {
    std::string line = op + " (";
    for (size_t i = 0; i < ks.size(); ++i) line += (i ? ", " : "") + ks[i];
    out.push_back(line + ")");
  }
  return out;
}
}  // namespace

std::vector<std::string> unsupported_ops(const std::set<KernelUse>& uses, Device d) {
  return unsupported_ops_by(uses, [d](const KernelUse& u) { return supports(u.kernel, d, u.dtype); });
}
std::vector<std::string> unsupported_ops(const std::set<KernelUse>& uses, const Backend& b) {
  return unsupported_ops_by(uses, [&b](const KernelUse& u) { return b.supports(u.kernel, u.dtype); });
}

// ---------------------------------------------------------------- defaults: not supported
void Backend::fill(Tensor&, double) { unsupported(Kernel::fill); }
void Backend::copy(Tensor&, const Tensor&) { unsupported(Kernel::copy); }
void Backend::accumulate(Tensor&, const Tensor&) { unsupported(Kernel::accumulate); }
void Backend::unary(UnaryOp, double, const Tensor&, Tensor&) { unsupported(Kernel::unary); }
void Backend::unary_backward(UnaryOp, double, const Tensor&, const Tensor&, const Tensor&, Tensor&) { unsupported(Kernel::unary_backward); }
void Backend::binary(BinaryOp, const Tensor&, const Tensor&, Tensor&) { unsupported(Kernel::binary); }
void Backend::sum_rows(const Tensor&, Tensor&) { unsupported(Kernel::sum_rows); }
void Backend::max_rows(const Tensor&, Tensor&, Tensor&) { unsupported(Kernel::max_rows); }
void Backend::max_backward(const Tensor&, const Tensor&, Tensor&, int64_t, int64_t, int64_t) { unsupported(Kernel::max_backward); }
void Backend::gemm(const GemmArgs&, const Tensor&, const Tensor&, Tensor&) { unsupported(Kernel::gemm); }
void Backend::bias_rows(const Tensor&, Tensor&) { unsupported(Kernel::bias_rows); }
void Backend::conv_forward(const ConvGeom&, const Tensor&, const Tensor&, const Tensor&, Tensor&) { unsupported(Kernel::conv_forward); }
void Backend::conv_backward(const ConvGeom&, const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&, Tensor&) { unsupported(Kernel::conv_backward); }
void Backend::weight_std_forward(const Tensor&, double, Tensor&) { unsupported(Kernel::weight_std_forward); }
void Backend::weight_std_backward(const Tensor&, double, const Tensor&, Tensor&) { unsupported(Kernel::weight_std_backward); }
void Backend::group_norm_forward(const Tensor&, const Tensor&, const Tensor&, int64_t, double, Tensor&, Tensor&, Tensor&) { unsupported(Kernel::group_norm_forward); }
void Backend::group_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t, Tensor&, Tensor&, Tensor&) { unsupported(Kernel::group_norm_backward); }
void Backend::batch_norm_stats(const Tensor&, double, double, Tensor&, Tensor&, Tensor&, Tensor&) { unsupported(Kernel::batch_norm_stats); }
void Backend::batch_norm_running_stats(const Tensor&, const Tensor&, double, Tensor&, Tensor&) { unsupported(Kernel::batch_norm_running_stats); }
void Backend::batch_norm_apply(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, Tensor&) { unsupported(Kernel::batch_norm_apply); }
void Backend::batch_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool, Tensor&, Tensor&, Tensor&) { unsupported(Kernel::batch_norm_backward); }
void Backend::layer_norm_forward(const Tensor&, const Tensor&, const Tensor&, double, Tensor&, Tensor&, Tensor&) { unsupported(Kernel::layer_norm_forward); }
void Backend::layer_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&, Tensor&) { unsupported(Kernel::layer_norm_backward); }
void Backend::softmax_forward(const Tensor&, int64_t, int64_t, int64_t, bool, Tensor&) { unsupported(Kernel::softmax_forward); }
void Backend::softmax_backward(const Tensor&, const Tensor&, int64_t, int64_t, int64_t, bool, Tensor&) { unsupported(Kernel::softmax_backward); }
CeSums Backend::cross_entropy_forward(const Tensor&, const Tensor&, const Tensor&, int64_t, Tensor&) { unsupported(Kernel::cross_entropy_forward); }
void Backend::cross_entropy_backward(double, const Tensor&, const Tensor&, const Tensor&, double, int64_t, Tensor&) { unsupported(Kernel::cross_entropy_backward); }
void Backend::dice_sums(const Tensor&, const Tensor&, Tensor&, Tensor&, Tensor&) { unsupported(Kernel::dice_sums); }
void Backend::dice_backward(double, const Tensor&, const Tensor&, const std::vector<double>&, double, const Tensor&, const Tensor&, const Tensor&, Tensor&) { unsupported(Kernel::dice_backward); }
void Backend::one_hot(const Tensor&, Tensor&) { unsupported(Kernel::one_hot); }
void Backend::max_pool_forward(const PoolGeom&, const Tensor&, Tensor&, Tensor&) { unsupported(Kernel::max_pool_forward); }
void Backend::max_pool_backward(const PoolGeom&, const Tensor&, const Tensor&, Tensor&) { unsupported(Kernel::max_pool_backward); }
void Backend::upsample_forward(const UpsampleGeom&, const Tensor&, Tensor&) { unsupported(Kernel::upsample_forward); }
void Backend::upsample_backward(const UpsampleGeom&, const Tensor&, Tensor&) { unsupported(Kernel::upsample_backward); }
void Backend::sgd_update(Tensor&, const Tensor&, Tensor&, double, double, double, bool) { unsupported(Kernel::sgd_update); }
void Backend::adamw_update(Tensor&, const Tensor&, Tensor&, Tensor&, double, double, double, double, double, int64_t) { unsupported(Kernel::adamw_update); }

}  // namespace gb

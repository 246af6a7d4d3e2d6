// CPU backend: softmax / log-softmax and the loss kernels (tensor/cpu/softmax.h, tensor/cpu/loss.h).
// Loss buffers: logits / p [N, C, S] with S the product of the spatial dims, target i32 [N, S].
#include "tensor/cpu/backend.h"
#include "tensor/cpu/loss.h"
#include "tensor/cpu/softmax.h"
#include "tensor/dispatch.h"

namespace gb::cpu {
namespace {
struct Ncs {
  int64_t N, C, S;
};
Ncs ncs(const Tensor& p) {
  Ncs d{p.size(0), p.size(1), 1};
  for (int64_t i = 2; i < p.dim(); ++i) d.S *= p.size(i);
  return d;
}
}  // namespace

void CpuBackend::softmax_forward(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& y) {
  GB_DISPATCH_FLOAT(y.dtype(), "softmax_forward",
                    { cpu::softmax_forward<T>(x.data<T>(), y.data<T>(), outer, n, inner, log); });
}

void CpuBackend::softmax_backward(const Tensor& gy, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log,
                                  Tensor& gx) {
  GB_DISPATCH_FLOAT(gx.dtype(), "softmax_backward",
                    { cpu::softmax_backward<T>(gy.data<T>(), y.data<T>(), gx.data<T>(), outer, n, inner, log); });
}

CeSums CpuBackend::cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                         int64_t ignore_index, Tensor& p) {
  const Ncs d = ncs(logits);
  CeSums out;
  GB_DISPATCH_FLOAT(p.dtype(), "cross_entropy_forward", {
    CrossEntropySums s = cpu::cross_entropy_forward<T>(logits.data<T>(), target.data<int32_t>(), data_or_null<T>(weight), d.N,
                                                       d.C, d.S, ignore_index, p.data<T>());
    out = {s.loss_sum, s.weight_sum};
  });
  return out;
}

void CpuBackend::cross_entropy_backward(double g, const Tensor& p, const Tensor& target, const Tensor& weight,
                                        double weight_sum, int64_t ignore_index, Tensor& gx) {
  const Ncs d = ncs(p);
  GB_DISPATCH_FLOAT(gx.dtype(), "cross_entropy_backward", {
    cpu::cross_entropy_backward<T>(g, p.data<T>(), target.data<int32_t>(), data_or_null<T>(weight), weight_sum, d.N, d.C, d.S,
                                   ignore_index, gx.data<T>());
  });
}

void CpuBackend::dice_sums(const Tensor& p, const Tensor& target, Tensor& I, Tensor& Z, Tensor& Y) {
  const Ncs d = ncs(p);
  DiceSums s{I.data<double>(), Z.data<double>(), Y.data<double>()};
  GB_DISPATCH_FLOAT(p.dtype(), "dice_sums", { cpu::soft_dice_sums<T>(p.data<T>(), target.data<int32_t>(), d.N, d.C, d.S, s); });
}

void CpuBackend::dice_backward(double g, const Tensor& p, const Tensor& target, const std::vector<double>& w,
                               double smooth, const Tensor& I, const Tensor& Z, const Tensor& Y, Tensor& gx) {
  const Ncs d = ncs(p);
  // The sums are read only; DiceSums holds mutable pointers for the forward's use.
  DiceSums s{const_cast<double*>(I.data<double>()), const_cast<double*>(Z.data<double>()),
             const_cast<double*>(Y.data<double>())};
  GB_DISPATCH_FLOAT(gx.dtype(), "dice_backward", {
    cpu::soft_dice_backward<T>(g, p.data<T>(), target.data<int32_t>(), w.empty() ? nullptr : w.data(), d.N, d.C, d.S,
                               smooth, s, gx.data<T>());
  });
}

void CpuBackend::one_hot(const Tensor& target, Tensor& y) {
  const Ncs d = ncs(y);
  GB_DISPATCH_FLOAT(y.dtype(), "one_hot", { cpu::one_hot<T>(target.data<int32_t>(), y.data<T>(), d.N, d.C, d.S); });
}

}  // namespace gb::cpu

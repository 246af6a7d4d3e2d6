// Losses over logits [N, C, *] and i32 labels [N, *]: cross_entropy (torch's mean reduction with class
// weights and ignore_index) and soft_dice_loss (TransUNet's DiceLoss with softmax=True), plus the
// non-differentiable one_hot. Both losses save the softmax probabilities for an analytic backward.
// Class weights are constants: they never receive a gradient.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/kernels.h"

namespace gb {
namespace {

std::string position(int64_t flat, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (int64_t i = (int64_t)s.size() - 1; i >= 0; --i) {
    idx[i] = flat % s[i];
    flat /= s[i];
  }
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < idx.size(); ++i) os << (i ? "," : "") << idx[i];
  os << ']';
  return os.str();
}

// Shapes of logits [N, C, *] and target [N, *]; returns (N, C, S).
struct Dims {
  int64_t N, C, S;
};
Dims check_logits_target(const Tensor& logits, const Tensor& target, const char* op) {
  check_float(logits, op, "logits");
  check_same_device(logits, target, op);
  GB_CHECK(target.dtype() == DType::I32, op, ": target must be i32 labels, got ", target.desc());
  GB_CHECK(logits.dim() >= 2, op, ": expected logits [N, C, *], got ", str(logits.shape()));
  bool ok = target.dim() == logits.dim() - 1 && target.size(0) == logits.size(0);
  for (int64_t i = 1; ok && i < target.dim(); ++i) ok = target.size(i) == logits.size(i + 1);
  GB_CHECK(ok, op, ": target ", str(target.shape()), " does not match logits ", str(logits.shape()),
           " (expected logits without the class dimension)");
  Dims d{logits.size(0), logits.size(1), 1};
  for (int64_t i = 2; i < logits.dim(); ++i) d.S *= logits.size(i);
  GB_CHECK(d.C > 0, op, ": logits need at least one class, got ", str(logits.shape()));
  return d;
}

// Every label in [0, C) or equal to `ignore` (when allow_ignore).
void check_labels(const Tensor& t_in, int64_t C, bool allow_ignore, int64_t ignore, const char* op,
                  const std::string& context) {
  const Tensor t = t_in.to(Device::CPU);  // validation reads the labels on the host
  const int32_t* p = t.data<int32_t>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t v = p[i];
    if ((v >= 0 && v < C) || (allow_ignore && v == ignore)) continue;
    std::ostringstream os;
    os << op << ": target value " << v << " at position " << position(i, t.shape()) << " is out of range [0, " << C
       << ")";
    if (allow_ignore) os << " and is not ignore_index " << ignore;
    os << " (" << context << ", target " << str(t.shape()) << ")";
    throw Error(os.str());
  }
}

void check_weight(const Tensor& w, const Tensor& logits, int64_t C, const char* op) {
  if (!w.defined()) return;
  check_same_device(w, logits, op);
  GB_CHECK(w.dtype() == logits.dtype(), op, ": weight dtype ", dtype_name(w.dtype()), " differs from logits ",
           logits.desc());
  GB_CHECK(w.dim() == 1 && w.size(0) == C, op, ": weight must have shape [", C, "], got ", str(w.shape()),
           " (logits ", str(logits.shape()), ")");
}

}  // namespace

// ---------------------------------------------------------------- cross-entropy
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight, int64_t ignore_index) {
  const char* op = "cross_entropy";
  const Dims d = check_logits_target(logits, target, op);
  check_weight(weight, logits, d.C, op);
  Tensor tc = target.contiguous();
  check_labels(tc, d.C, true, ignore_index, op, "logits " + str(logits.shape()));
  trace::Span sp(op, {logits, target, weight});
  Tensor xc = logits.contiguous(), wc = weight.defined() ? weight.contiguous().detach() : Tensor();
  Tensor p = Tensor::empty(logits.shape(), logits.dtype(), logits.device());  // softmax along C, saved
  const CeSums sums = kern::cross_entropy_forward(xc, tc, wc, ignore_index, p);
  // torch: sum(w_t * nll) / sum(w_t); 0/0 = NaN when every target is ignored.
  Tensor y = Tensor::full({}, sums.loss_sum / sums.weight_sum, logits.dtype(), logits.device());
  const double flops = 4.0 * (double)logits.numel();
  const double wsum = sums.weight_sum;
  record(op, y, {logits}, [p, tc, wc, wsum, ignore_index](const Tensor& gy, std::vector<Tensor>& gx) {
    if (wsum == 0) return;  // nothing contributed to the loss
    kern::cross_entropy_backward(gy.item(), p, tc, wc, wsum, ignore_index, gx[0]);
  }, flops);
  sp.finish(y, flops);
  return y;
}

// ---------------------------------------------------------------- soft Dice (TransUNet)
Tensor soft_dice_loss(const Tensor& logits, const Tensor& target, const Tensor& weight, double smooth) {
  const char* op = "soft_dice_loss";
  const Dims d = check_logits_target(logits, target, op);
  check_weight(weight, logits, d.C, op);
  Tensor tc = target.contiguous();
  check_labels(tc, d.C, false, 0, op, "logits " + str(logits.shape()));
  trace::Span sp(op, {logits, target, weight});
  std::vector<double> w;
  if (weight.defined()) w = weight.to_vector();
  // p = softmax(logits, 1) [N, C, S], saved for the backward.
  Tensor xc = logits.contiguous();
  Tensor p = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  kern::softmax_forward(xc, d.N, d.C, d.S, false, p);
  // Per-class sums I, Z, Y [C], kept on the host (C numbers) for the loss value and the backward.
  Tensor I = Tensor::zeros({d.C}, DType::F64), Z = Tensor::zeros({d.C}, DType::F64), Y = Tensor::zeros({d.C}, DType::F64);
  kern::dice_sums(p, tc, I, Z, Y);
  Tensor y = Tensor::full({}, soft_dice_value(I, Z, Y, w, smooth), logits.dtype(), logits.device());
  const double flops = 8.0 * (double)logits.numel();
  record(op, y, {logits}, [p, tc, w, I, Z, Y, smooth](const Tensor& gy, std::vector<Tensor>& gx) {
    kern::dice_backward(gy.item(), p, tc, w, smooth, I, Z, Y, gx[0]);
  }, flops);
  sp.finish(y, flops);
  return y;
}

// ---------------------------------------------------------------- one-hot
Tensor one_hot(const Tensor& target, int64_t classes, DType dtype) {
  const char* op = "one_hot";
  GB_CHECK(target.dtype() == DType::I32, op, ": target must be i32 labels, got ", target.desc());
  GB_CHECK(target.dim() >= 1, op, ": expected target [N, *], got ", str(target.shape()));
  GB_CHECK(classes > 0, op, ": classes must be positive, got ", classes);
  Tensor tc = target.contiguous();
  Shape out = target.shape();
  out.insert(out.begin() + 1, classes);
  check_labels(tc, classes, false, 0, op, std::to_string(classes) + " classes");
  Tensor y = Tensor::empty(out, dtype, target.device());
  kern::one_hot(tc, y);
  return y;
}

}  // namespace gb

#include "eval/labels.h"

#include <algorithm>

namespace gb::eval {

std::vector<ClassDef> lits_classes() { return {{"liver", {1, 2}}, {"tumour", {2}}}; }

Tensor class_mask(const Tensor& labels, const std::vector<int32_t>& values) {
  GB_CHECK(labels.defined() && labels.dtype() == DType::I32, "class_mask: expected i32 labels, got ",
           labels.defined() ? labels.desc() : "undefined");
  Tensor x = labels.contiguous();
  Tensor out = Tensor::empty(x.shape(), DType::I32);
  const int32_t* p = x.data<int32_t>();
  int32_t* o = out.data<int32_t>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i)
    o[i] = std::find(values.begin(), values.end(), p[i]) != values.end() ? 1 : 0;
  return out;
}

Dice dice_from_counts(int64_t pred, int64_t truth, int64_t inter) {
  Dice d;
  d.pred = pred, d.truth = truth, d.inter = inter;
  d.both_empty = pred == 0 && truth == 0;
  d.dice = d.both_empty ? 1.0 : 2.0 * (double)inter / (double)(pred + truth);
  return d;
}

Dice class_dice(const Tensor& pred, const Tensor& truth, const ClassDef& c) {
  GB_CHECK(pred.defined() && truth.defined() && pred.shape() == truth.shape(), "class_dice: shapes differ (",
           pred.defined() ? pred.desc() : "undefined", " vs ", truth.defined() ? truth.desc() : "undefined", ")");
  Tensor a = class_mask(pred, c.labels), b = class_mask(truth, c.labels);
  const int32_t* p = a.data<int32_t>();
  const int32_t* t = b.data<int32_t>();
  int64_t np = 0, nt = 0, ni = 0;
  for (int64_t i = 0, n = a.numel(); i < n; ++i) np += p[i], nt += t[i], ni += p[i] & t[i];
  return dice_from_counts(np, nt, ni);
}

}  // namespace gb::eval

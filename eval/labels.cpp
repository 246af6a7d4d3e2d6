#include "eval/labels.h"

#include <algorithm>

#include "eval/overlap.h"

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
  // The class as a 0/1 mask on both sides, then the overlap counts of eval/overlap.h.
  Overlap o = overlap(class_mask(pred, c.labels), class_mask(truth, c.labels), 1);
  return dice_from_counts(o.tp + o.fp, o.tp + o.fn, o.tp);
}

}  // namespace gb::eval

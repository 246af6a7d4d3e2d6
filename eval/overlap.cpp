#include "eval/overlap.h"

#include <cmath>
#include <limits>

namespace gb::eval {

Overlap overlap(const Tensor& pred, const Tensor& truth, int32_t cls) {
  GB_CHECK(pred.dtype() == DType::I32 && truth.dtype() == DType::I32, "overlap: labels must be i32, got ",
           pred.desc(), " and ", truth.desc());
  GB_CHECK(pred.shape() == truth.shape(), "overlap: prediction ", pred.desc(), " and ground truth ", truth.desc(),
           " differ in shape");
  Tensor p = pred.contiguous(), t = truth.contiguous();
  const int32_t* a = p.data<int32_t>();
  const int32_t* b = t.data<int32_t>();
  Overlap o;
  for (int64_t i = 0; i < p.numel(); ++i) {
    const bool x = a[i] == cls, y = b[i] == cls;
    o.tp += x && y;
    o.fp += x && !y;
    o.fn += !x && y;
    o.tn += !x && !y;
  }
  const double P = (double)(o.tp + o.fp), G = (double)(o.tp + o.fn);
  o.both_empty = P == 0 && G == 0;
  if (o.both_empty) {
    o.dice = o.iou = 1;
  } else {
    o.dice = 2.0 * o.tp / (P + G);
    o.iou = (double)o.tp / (double)(o.tp + o.fp + o.fn);
  }
  o.voe = 1 - o.iou;
  o.sensitivity = G > 0 ? o.tp / G : std::numeric_limits<double>::quiet_NaN();
  o.specificity = (o.tn + o.fp) > 0 ? (double)o.tn / (double)(o.tn + o.fp) : std::numeric_limits<double>::quiet_NaN();
  o.rvd = G > 0 ? (P - G) / G : std::numeric_limits<double>::quiet_NaN();
  return o;
}

}  // namespace gb::eval

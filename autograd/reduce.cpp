// sum / mean / max / argmax over dimensions. The reduced dimensions are moved last and made
// contiguous, then each output element sums its own row in a fixed order (deterministic, and
// threads split output rows, never a row).
#include <algorithm>
#include <limits>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/kernels.h"

namespace gb {
namespace {

struct ReducePlan {
  std::vector<bool> reduced;  // per input dim
  Shape out_keep;             // output shape with keepdim
  Shape out;                  // output shape as requested
  int64_t rows = 1, cols = 1; // rows = output elements, cols = elements reduced per output
  Tensor rowmajor;            // input permuted so reduced dims are last, contiguous [rows, cols]
};

ReducePlan plan(const Tensor& a, std::vector<int64_t> dims, bool keepdim, const char* op) {
  ReducePlan p;
  const int64_t nd = a.dim();
  p.reduced.assign(nd, dims.empty());
  for (auto d : dims) {
    int64_t w = wrap_dim(d, std::max<int64_t>(nd, 1), op);
    if (nd == 0) continue;
    GB_CHECK(!p.reduced[w] || dims.empty(), op, ": dimension ", d, " listed twice");
    p.reduced[w] = true;
  }
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < nd; ++i)
    if (!p.reduced[i]) perm.push_back(i);
  for (int64_t i = 0; i < nd; ++i)
    if (p.reduced[i]) perm.push_back(i);
  for (int64_t i = 0; i < nd; ++i) {
    p.out_keep.push_back(p.reduced[i] ? 1 : a.shape()[i]);
    if (!p.reduced[i]) {
      p.out.push_back(a.shape()[i]);
      p.rows *= a.shape()[i];
    } else {
      p.cols *= a.shape()[i];
    }
  }
  if (keepdim) p.out = p.out_keep;
  p.rowmajor = a.view_permute(perm).contiguous();
  return p;
}

}  // namespace

Tensor sum(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  check_float(a, "sum");
  trace::Span sp("sum", {a});
  ReducePlan p = plan(a, dims, keepdim, "sum");
  Tensor y = Tensor::empty(p.out, a.dtype(), a.device());
  kern::sum_rows(p.rowmajor, y);  // [rows, cols] -> [rows]
  Shape in_shape = a.shape(), keep = p.out_keep;
  // Backward: every input element receives its row's gradient (a broadcast view, accumulated).
  record("sum", y, {a}, [in_shape, keep](const Tensor& gy, std::vector<Tensor>& gx) {
    accumulate_grad(gx[0], gy.view_reshape(keep).view_expand(in_shape));
  }, (double)a.numel());
  sp.finish(y, (double)a.numel());
  return y;
}

Tensor mean(const Tensor& a, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor s = sum(a, dims, keepdim);
  const double n = s.numel() ? (double)a.numel() / (double)s.numel() : 1.0;
  return mul_scalar(s, 1.0 / n);
}

// Values and (first) argmax along one dim.
static void max_impl(const Tensor& a, int64_t dim, bool keepdim, Tensor& vals, Tensor& idx, const char* op) {
  GB_CHECK(a.dim() > 0 && a.numel() > 0, op, ": needs a non-empty tensor, got ", a.desc());
  int64_t d = wrap_dim(dim, a.dim(), op);
  ReducePlan p = plan(a, {d}, keepdim, op);
  const DType vt = a.dtype() == DType::F64 ? DType::F64 : DType::F32;
  vals = Tensor::empty(p.out, vt, a.device());
  idx = Tensor::empty(p.out, DType::I32, a.device());
  kern::max_rows(p.rowmajor.dtype() == vt ? p.rowmajor : p.rowmajor.to(vt), vals, idx);
}

Tensor max(const Tensor& a, int64_t dim, bool keepdim) {
  check_float(a, "max");
  trace::Span sp("max", {a});
  Tensor vals, idx;
  max_impl(a, dim, keepdim, vals, idx, "max");
  const int64_t d = wrap_dim(dim, a.dim(), "max");
  Shape in_shape = a.shape();
  record("max", vals, {a}, [idx, d, in_shape](const Tensor& gy, std::vector<Tensor>& gx) {
    // gx[..., idx, ...] += gy, with gx viewed as [outer, n, inner] around dim d.
    int64_t outer = 1, inner = 1, n = in_shape[d];
    for (int64_t i = 0; i < d; ++i) outer *= in_shape[i];
    for (int64_t i = d + 1; i < (int64_t)in_shape.size(); ++i) inner *= in_shape[i];
    kern::max_backward(gy, idx, gx[0], outer, n, inner);
  }, (double)a.numel());
  sp.finish(vals, (double)a.numel());
  return vals;
}

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  Tensor vals, idx;
  max_impl(a, dim, keepdim, vals, idx, "argmax");
  return idx;
}

}  // namespace gb

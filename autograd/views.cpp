// Shape ops. View ops (reshape of a contiguous tensor, permute, transpose, slice, expand) share the
// input's storage; every backward here adds gy into the matching view of the input's gradient.
#include <algorithm>
#include <numeric>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"

namespace gb {

// A view result must own its own TensorImpl/meta (it does: view_* builds a fresh Impl).

Tensor reshape(const Tensor& a, const Shape& s) {
  Tensor y = a.view_reshape(s);
  if (y.storage() == a.storage() && any_requires_grad({a})) y = y.detach();  // fresh meta for the view
  Shape in = a.shape();
  record("reshape", y, {a}, [in](const Tensor& gy, std::vector<Tensor>& gx) {
    accumulate_grad(gx[0], gy.view_reshape(in));
  });
  return y;
}

Tensor permute(const Tensor& a, const std::vector<int64_t>& dims) {
  Tensor y = a.view_permute(dims).detach();
  std::vector<int64_t> d(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) d[i] = wrap_dim(dims[i], a.dim(), "permute");
  record("permute", y, {a}, [d](const Tensor& gy, std::vector<Tensor>& gx) {
    Tensor v = gx[0].view_permute(d);
    accumulate_grad(v, gy);
  });
  return y;
}

Tensor transpose(const Tensor& a, int64_t d0, int64_t d1) {
  std::vector<int64_t> p(a.dim());
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[wrap_dim(d0, a.dim(), "transpose")], p[wrap_dim(d1, a.dim(), "transpose")]);
  return permute(a, p);
}

Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end, int64_t step) {
  Tensor y = a.view_slice(dim, start, end, step).detach();
  record("slice", y, {a}, [dim, start, end, step](const Tensor& gy, std::vector<Tensor>& gx) {
    Tensor v = gx[0].view_slice(dim, start, end, step);
    accumulate_grad(v, gy);
  });
  return y;
}

Tensor expand(const Tensor& a, const Shape& s) {
  Tensor y = a.view_expand(s).detach();
  record("expand", y, {a}, [](const Tensor& gy, std::vector<Tensor>& gx) { accumulate_grad(gx[0], gy); });
  return y;
}

Tensor contiguous(const Tensor& a) {
  if (a.is_contiguous()) return a;
  Tensor y = a.clone();
  record("contiguous", y, {a}, [](const Tensor& gy, std::vector<Tensor>& gx) { accumulate_grad(gx[0], gy); });
  return y;
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  GB_CHECK(!xs.empty(), "concat: no tensors given");
  const Tensor& x0 = xs[0];
  const int64_t d = wrap_dim(dim, x0.dim(), "concat");
  Shape out = x0.shape();
  out[d] = 0;
  for (auto& x : xs) {
    check_same_dtype(x0, x, "concat");
    GB_CHECK(x.dim() == x0.dim(), "concat: rank mismatch ", x0.desc(), " vs ", x.desc());
    for (int64_t i = 0; i < x.dim(); ++i)
      GB_CHECK(i == d || x.shape()[i] == x0.shape()[i], "concat: shapes ", str(x0.shape()), " and ",
               str(x.shape()), " differ outside dimension ", d);
    out[d] += x.shape()[d];
  }
  trace::Span sp("concat", xs);
  Tensor y = Tensor::empty(out, x0.dtype(), x0.device());
  std::vector<int64_t> offs;
  int64_t off = 0;
  for (auto& x : xs) {
    offs.push_back(off);
    Tensor v = y.view_slice(d, off, off + x.shape()[d]);
    v.copy_from(x);
    off += x.shape()[d];
  }
  record("concat", y, xs, [d, offs](const Tensor& gy, std::vector<Tensor>& gx) {
    for (size_t i = 0; i < gx.size(); ++i)
      if (gx[i].defined()) accumulate_grad(gx[i], gy.view_slice(d, offs[i], offs[i] + gx[i].shape()[d]));
  });
  sp.finish(y, 0);
  return y;
}

Tensor pad(const Tensor& a, const std::vector<int64_t>& pads, double value) {
  GB_CHECK(pads.size() % 2 == 0 && (int64_t)pads.size() <= 2 * a.dim(), "pad: ", pads.size(),
           " padding values for ", a.desc(), " (need pairs, at most 2 per dimension)");
  const int64_t nd = a.dim();
  Shape out = a.shape();
  // Per dim: input range [in_lo, in_hi) lands at output [in_lo + before, ...).
  std::vector<int64_t> before(nd, 0), after(nd, 0);
  for (size_t k = 0; k < pads.size() / 2; ++k) {
    int64_t d = nd - 1 - (int64_t)k;
    before[d] = pads[2 * k];
    after[d] = pads[2 * k + 1];
    out[d] = a.shape()[d] + before[d] + after[d];
    GB_CHECK(out[d] >= 0, "pad: padding ", before[d], ",", after[d], " makes dimension ", d, " of ", a.desc(),
             " negative");
  }
  trace::Span sp("pad", {a});
  Tensor y = Tensor::full(out, value, a.dtype(), a.device());
  auto regions = [=](const Tensor& src, const Tensor& dst) {
    // views of the overlapping region in the input (src) and output (dst) coordinates
    Tensor s = src, t = dst;
    for (int64_t d = 0; d < nd; ++d) {
      int64_t lo = std::max<int64_t>(0, -before[d]);
      int64_t hi = std::min<int64_t>(src.shape()[d], out[d] - before[d]);
      if (hi < lo) hi = lo;
      s = s.view_slice(d, lo, hi);
      t = t.view_slice(d, lo + before[d], hi + before[d]);
    }
    return std::make_pair(s, t);
  };
  {
    auto [s, t] = regions(a, y);
    t.copy_from(s);
  }
  record("pad", y, {a}, [regions](const Tensor& gy, std::vector<Tensor>& gx) {
    auto [gin, gout] = regions(gx[0], gy);
    accumulate_grad(gin, gout);
  });
  sp.finish(y, 0);
  return y;
}

}  // namespace gb

// Elementwise ops: forward and backward side by side. Binary ops broadcast; their backward computes
// the gradient at the broadcast shape and accumulate_grad sums it back to each input's shape.
#include <cmath>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/dispatch.h"

namespace gb {
namespace {

// Strides of `t` viewed at the broadcast shape `out` (stride 0 where broadcast).
Shape bstrides(const Tensor& t, const Shape& out) { return t.view_expand(out).strides(); }

template <class F>
Tensor unary_fwd(const char* op, const Tensor& a, F f) {
  check_float(a, op);
  check_cpu(a, op);
  Tensor y = Tensor::empty(a.shape(), a.dtype());
  GB_DISPATCH_FLOAT(a.dtype(), op, {
    cpu::unary_map<T>(a.shape(), y.data<T>(), a.data<T>(), a.strides(), [&](T v) { return (T)f(v); });
  });
  return y;
}

template <class F>
Tensor binary_fwd(const char* op, const Tensor& a, const Tensor& b, F f) {
  check_float(a, op, "first operand");
  check_float(b, op, "second operand");
  check_same_dtype(a, b, op);
  check_cpu(a, op);
  check_cpu(b, op);
  Shape out = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor y = Tensor::empty(out, a.dtype());
  GB_DISPATCH_FLOAT(a.dtype(), op, {
    cpu::binary_map<T>(out, y.data<T>(), a.data<T>(), bstrides(a, out), b.data<T>(), bstrides(b, out),
                       [&](T u, T v) { return (T)f(u, v); });
  });
  return y;
}

double flops_of(const Tensor& y, double per = 1) { return per * (double)y.numel(); }

}  // namespace

// ---------------------------------------------------------------- binary
Tensor add(const Tensor& a, const Tensor& b) {
  trace::Span sp("add", {a, b});
  Tensor y = binary_fwd("add", a, b, [](auto u, auto v) { return u + v; });
  record("add", y, {a, b}, [](const Tensor& gy, std::vector<Tensor>& gx) {
    if (gx[0].defined()) accumulate_grad(gx[0], gy);
    if (gx[1].defined()) accumulate_grad(gx[1], gy);
  }, flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  trace::Span sp("sub", {a, b});
  Tensor y = binary_fwd("sub", a, b, [](auto u, auto v) { return u - v; });
  record("sub", y, {a, b}, [](const Tensor& gy, std::vector<Tensor>& gx) {
    if (gx[0].defined()) accumulate_grad(gx[0], gy);
    if (gx[1].defined()) accumulate_grad(gx[1], neg(gy));
  }, flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  trace::Span sp("mul", {a, b});
  Tensor y = binary_fwd("mul", a, b, [](auto u, auto v) { return u * v; });
  Tensor sa = needs_grad(b) ? a.detach() : Tensor(), sb = needs_grad(a) ? b.detach() : Tensor();
  record("mul", y, {a, b}, [sa, sb](const Tensor& gy, std::vector<Tensor>& gx) {
    if (gx[0].defined()) accumulate_grad(gx[0], mul(gy, sb));
    if (gx[1].defined()) accumulate_grad(gx[1], mul(gy, sa));
  }, flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

Tensor div(const Tensor& a, const Tensor& b) {
  trace::Span sp("div", {a, b});
  Tensor y = binary_fwd("div", a, b, [](auto u, auto v) { return u / v; });
  Tensor sb = b.detach(), sy = y.detach();
  record("div", y, {a, b}, [sb, sy](const Tensor& gy, std::vector<Tensor>& gx) {
    // d(a/b)/da = 1/b ; d(a/b)/db = -a/b^2 = -y/b
    if (gx[0].defined()) accumulate_grad(gx[0], div(gy, sb));
    if (gx[1].defined()) accumulate_grad(gx[1], neg(div(mul(gy, sy), sb)));
  }, flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

// ---------------------------------------------------------------- scalar and unary
Tensor add_scalar(const Tensor& a, double s) {
  trace::Span sp("add_scalar", {a});
  Tensor y = unary_fwd("add_scalar", a, [s](auto v) { return v + s; });
  record("add_scalar", y, {a}, [](const Tensor& gy, std::vector<Tensor>& gx) { accumulate_grad(gx[0], gy); },
         flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

Tensor mul_scalar(const Tensor& a, double s) {
  trace::Span sp("mul_scalar", {a});
  Tensor y = unary_fwd("mul_scalar", a, [s](auto v) { return v * s; });
  record("mul_scalar", y, {a}, [s](const Tensor& gy, std::vector<Tensor>& gx) {
    accumulate_grad(gx[0], mul_scalar(gy, s));
  }, flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

Tensor neg(const Tensor& a) { return mul_scalar(a, -1.0); }

// Unary op whose derivative is g(x, y) (x the input, y the output); backward: gx += gy * g(x, y).
template <class F, class G>
static Tensor unary_op(const char* op, const Tensor& a, double flops_per, F f, G g) {
  trace::Span sp(op, {a});
  Tensor y = unary_fwd(op, a, f);
  Tensor sx = a.detach(), sy = y.detach();
  record(op, y, {a}, [op, sx, sy, g](const Tensor& gy, std::vector<Tensor>& gx) {
    Tensor d = Tensor::empty(sx.shape(), sx.dtype());
    GB_DISPATCH_FLOAT(sx.dtype(), op, {
      const T* x = sx.data<T>();  // contiguous: produced by unary_fwd or detached input made contiguous
      const T* yy = sy.data<T>();
      const T* gg = gy.data<T>();
      T* dd = d.data<T>();
      for (int64_t i = 0; i < d.numel(); ++i) dd[i] = gg[i] * (T)g(x[i], yy[i]);
    });
    accumulate_grad(gx[0], d);
  }, flops_per * (double)y.numel());
  sp.finish(y, flops_per * (double)y.numel());
  return y;
}

// The unary backward above indexes the saved input flat, so give it a contiguous input.
#define GB_UNARY(name, flops, fwd, bwd)                                  \
  Tensor name(const Tensor& a_in) {                                      \
    Tensor a = a_in.defined() && !a_in.is_contiguous() ? contiguous(a_in) : a_in; \
    return unary_op(#name, a, flops, [](auto x) { return fwd; },         \
                    [](auto x, auto y) { (void)x; (void)y; return bwd; }); \
  }

GB_UNARY(exp, 1, std::exp(x), y)
GB_UNARY(log, 1, std::log(x), 1 / x)
GB_UNARY(sqrt, 1, std::sqrt(x), 0.5 / y)
GB_UNARY(square, 1, x * x, 2 * x)
GB_UNARY(relu, 1, (x > 0 ? x : decltype(x)(0)), (x > 0 ? 1.0 : 0.0))
GB_UNARY(sigmoid, 4, 1 / (1 + std::exp(-x)), y * (1 - y))
GB_UNARY(tanh, 4, std::tanh(x), 1 - y * y)
// Exact GELU: x * Phi(x); d/dx = Phi(x) + x * phi(x).
GB_UNARY(gelu, 8, 0.5 * x * (1 + std::erf(x * M_SQRT1_2)),
         0.5 * (1 + std::erf(x * M_SQRT1_2)) + x * std::exp(-0.5 * x * x) * 0.3989422804014327)
#undef GB_UNARY

Tensor pow_scalar(const Tensor& a_in, double p) {
  Tensor a = a_in.defined() && !a_in.is_contiguous() ? contiguous(a_in) : a_in;
  return unary_op("pow_scalar", a, 1, [p](auto x) { return std::pow(x, p); },
                  [p](auto x, auto) { return p * std::pow(x, p - 1); });
}

Tensor dropout(const Tensor& a, double p, bool training, Generator& gen) {
  GB_CHECK(p >= 0 && p < 1, "dropout: probability must be in [0, 1), got ", p);
  if (!training || p == 0) return a;
  check_float(a, "dropout");
  Tensor mask = Tensor::empty(a.shape(), a.dtype());
  gen.bernoulli_(mask, 1.0 - p);
  Tensor scaled = mul_scalar(mask, 1.0 / (1.0 - p)).detach();
  return mul(a, scaled);
}

// ---------------------------------------------------------------- operators
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double s) { return add_scalar(a, s); }
Tensor operator-(const Tensor& a, double s) { return add_scalar(a, -s); }
Tensor operator*(const Tensor& a, double s) { return mul_scalar(a, s); }
Tensor operator*(double s, const Tensor& a) { return mul_scalar(a, s); }
Tensor operator/(const Tensor& a, double s) { return mul_scalar(a, 1.0 / s); }
Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace gb

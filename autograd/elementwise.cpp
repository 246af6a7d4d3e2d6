// Elementwise ops: forward and backward side by side. Binary ops broadcast; their backward computes
// the gradient at the broadcast shape and accumulate_grad sums it back to each input's shape.
#include <cmath>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/kernels.h"

namespace gb {
namespace {

// y = f(a): one kernel call; y contiguous [a.shape] on a's device.
Tensor unary_fwd(const char* op, UnaryOp u, double s, const Tensor& a) {
  check_float(a, op);
  Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
  kern::unary(u, s, a, y);
  return y;
}

// y = a op b at the broadcast shape: the kernel reads a and b as views at y's shape (stride 0 where
// broadcast).
Tensor binary_fwd(const char* op, BinaryOp bop, const Tensor& a, const Tensor& b) {
  check_float(a, op, "first operand");
  check_float(b, op, "second operand");
  check_same_dtype(a, b, op);
  check_same_device(a, b, op);
  Shape out = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor y = Tensor::empty(out, a.dtype(), a.device());
  kern::binary(bop, a.view_expand(out), b.view_expand(out), y);
  return y;
}

double flops_of(const Tensor& y, double per = 1) { return per * (double)y.numel(); }

}  // namespace

// ---------------------------------------------------------------- binary
Tensor add(const Tensor& a, const Tensor& b) {
  trace::Span sp("add", {a, b});
  Tensor y = binary_fwd("add", BinaryOp::add, a, b);
  record("add", y, {a, b}, [](const Tensor& gy, std::vector<Tensor>& gx) {
    if (gx[0].defined()) accumulate_grad(gx[0], gy);
    if (gx[1].defined()) accumulate_grad(gx[1], gy);
  }, flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  trace::Span sp("sub", {a, b});
  Tensor y = binary_fwd("sub", BinaryOp::sub, a, b);
  record("sub", y, {a, b}, [](const Tensor& gy, std::vector<Tensor>& gx) {
    if (gx[0].defined()) accumulate_grad(gx[0], gy);
    if (gx[1].defined()) accumulate_grad(gx[1], neg(gy));
  }, flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  trace::Span sp("mul", {a, b});
  Tensor y = binary_fwd("mul", BinaryOp::mul, a, b);
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
  Tensor y = binary_fwd("div", BinaryOp::div, a, b);
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
  Tensor y = unary_fwd("add_scalar", UnaryOp::add_scalar, s, a);
  record("add_scalar", y, {a}, [](const Tensor& gy, std::vector<Tensor>& gx) { accumulate_grad(gx[0], gy); },
         flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

Tensor mul_scalar(const Tensor& a, double s) {
  trace::Span sp("mul_scalar", {a});
  Tensor y = unary_fwd("mul_scalar", UnaryOp::mul_scalar, s, a);
  record("mul_scalar", y, {a}, [s](const Tensor& gy, std::vector<Tensor>& gx) {
    kern::unary_backward(UnaryOp::mul_scalar, s, gy, gy, gy, gx[0]);  // gx += gy * s
  }, flops_of(y));
  sp.finish(y, flops_of(y));
  return y;
}

Tensor neg(const Tensor& a) { return mul_scalar(a, -1.0); }

// Unary op y = f(x; s) with its derivative in the same kernel family: gx += gy * f'(x) (f' may read y).
// The backward indexes its saved tensors flat, so the input is made contiguous first.
static Tensor unary_op(const char* op, UnaryOp u, double s, const Tensor& a_in, double flops_per) {
  Tensor a = a_in.defined() && !a_in.is_contiguous() ? contiguous(a_in) : a_in;
  trace::Span sp(op, {a});
  Tensor y = unary_fwd(op, u, s, a);
  Tensor sx = a.detach(), sy = y.detach();
  record(op, y, {a}, [u, s, sx, sy](const Tensor& gy, std::vector<Tensor>& gx) {
    kern::unary_backward(u, s, sx, sy, gy, gx[0]);
  }, flops_per * (double)y.numel());
  sp.finish(y, flops_per * (double)y.numel());
  return y;
}

Tensor exp(const Tensor& a) { return unary_op("exp", UnaryOp::exp, 0, a, 1); }
Tensor log(const Tensor& a) { return unary_op("log", UnaryOp::log, 0, a, 1); }
Tensor sqrt(const Tensor& a) { return unary_op("sqrt", UnaryOp::sqrt, 0, a, 1); }
Tensor square(const Tensor& a) { return unary_op("square", UnaryOp::square, 0, a, 1); }
Tensor relu(const Tensor& a) { return unary_op("relu", UnaryOp::relu, 0, a, 1); }
Tensor sigmoid(const Tensor& a) { return unary_op("sigmoid", UnaryOp::sigmoid, 0, a, 4); }
Tensor tanh(const Tensor& a) { return unary_op("tanh", UnaryOp::tanh, 0, a, 4); }
Tensor gelu(const Tensor& a) { return unary_op("gelu", UnaryOp::gelu, 0, a, 8); }
Tensor pow_scalar(const Tensor& a, double p) { return unary_op("pow_scalar", UnaryOp::pow, p, a, 1); }

Tensor dropout(const Tensor& a, double p, bool training, Generator& gen) {
  GB_CHECK(p >= 0 && p < 1, "dropout: probability must be in [0, 1), got ", p);
  if (!training || p == 0) return a;
  check_float(a, "dropout");
  Tensor mask = Tensor::empty(a.shape(), a.dtype());
  gen.bernoulli_(mask, 1.0 - p);
  // The mask is drawn on the host (Philox), then moved: one seed gives one mask on every device.
  Tensor scaled = mul_scalar(mask.to(a.device()), 1.0 / (1.0 - p)).detach();
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

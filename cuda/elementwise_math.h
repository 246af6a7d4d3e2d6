// The arithmetic of the CUDA elementwise kernels (unary maps and their backward, broadcast binary
// ops, bias rows), plain C++ shared by the GPU (cuda/elementwise.cu) and its CPU emulation
// (tests/harness/cuda_emu.h); see cuda/kernel_common.h. One item per output element. Expressions
// are the CPU backend's (tensor/cpu/backend_elementwise.cpp): the scalar of add_scalar / mul_scalar /
// pow is applied in double and rounded once.
#pragma once
#include <cstdint>

#include "cuda/kernel_common.h"
#include "tensor/backend.h"

namespace gb::cuda {

template <class T>
GB_HD T unary_value(UnaryOp op, double s, T v) {
  switch (op) {
    case UnaryOp::add_scalar: return (T)(v + s);
    case UnaryOp::mul_scalar: return (T)(v * s);
    case UnaryOp::exp: return m::exp(v);
    case UnaryOp::log: return m::log(v);
    case UnaryOp::sqrt: return m::sqrt(v);
    case UnaryOp::square: return v * v;
    case UnaryOp::pow: return (T)m::pow((double)v, s);
    case UnaryOp::relu: return v > 0 ? v : T(0);
    case UnaryOp::sigmoid: return 1 / (1 + m::exp(-v));
    case UnaryOp::tanh: return m::tanh(v);
    case UnaryOp::gelu: return (T)(0.5 * v * (1 + m::erf(v * M_SQRT1_2)));  // exact GELU, x Phi(x)
  }
  return v;
}

// d f / d x at (x, y = f(x)), in the CPU backend's types (double where it computes in double).
template <class T>
GB_HD T unary_derivative(UnaryOp op, double s, T x, T y) {
  switch (op) {
    case UnaryOp::add_scalar: return T(1);
    case UnaryOp::mul_scalar: return (T)s;
    case UnaryOp::exp: return y;
    case UnaryOp::log: return 1 / x;
    case UnaryOp::sqrt: return (T)(0.5 / y);
    case UnaryOp::square: return 2 * x;
    case UnaryOp::pow: return (T)(s * m::pow((double)x, s - 1));
    case UnaryOp::relu: return x > 0 ? T(1) : T(0);  // 0 at 0, as torch
    case UnaryOp::sigmoid: return y * (1 - y);
    case UnaryOp::tanh: return 1 - y * y;
    case UnaryOp::gelu:  // Phi(x) + x phi(x)
      return (T)(0.5 * (1 + m::erf(x * M_SQRT1_2)) + x * m::exp(-0.5 * x * x) * 0.3989422804014327);
  }
  return T(0);
}

// y contiguous [n] = f(x strided)
template <class T>
struct UnaryItem {
  UnaryOp op;
  double s;
  const T* x;
  Strided dx;
  T* y;
  GB_HD void operator()(int64_t i) const { y[i] = unary_value<T>(op, s, x[offset_of(dx, i)]); }
};

// gx += gy * f'(x, y), all contiguous [n]. mul_scalar rounds gy * s once, as the CPU does.
template <class T>
struct UnaryBackwardItem {
  UnaryOp op;
  double s;
  const T* x;
  const T* y;
  const T* gy;
  T* gx;
  GB_HD void operator()(int64_t i) const {
    if (op == UnaryOp::mul_scalar)
      gx[i] += (T)(gy[i] * s);
    else if (op == UnaryOp::add_scalar)
      gx[i] += gy[i];
    else
      gx[i] += gy[i] * unary_derivative<T>(op, s, x[i], y[i]);
  }
};

// y contiguous = a op b; a and b are views at y's shape (broadcast dims have stride 0).
template <class T>
struct BinaryItem {
  BinaryOp op;
  const T* a;
  Strided da;
  const T* b;
  Strided db;
  T* y;
  GB_HD void operator()(int64_t i) const {
    const T u = a[offset_of(da, i)], v = b[offset_of(db, i)];
    switch (op) {
      case BinaryOp::add: y[i] = u + v; break;
      case BinaryOp::sub: y[i] = u - v; break;
      case BinaryOp::mul: y[i] = u * v; break;
      case BinaryOp::div: y[i] = u / v; break;
    }
  }
};

// y [R, O] element i = bias[i % O].
template <class T>
struct BiasRowsItem {
  const T* bias;
  T* y;
  int64_t O;
  GB_HD void operator()(int64_t i) const { y[i] = bias[i % O]; }
};

template <class Launch>
void unary_impl(const Launch& launch, UnaryOp op, double s, const Tensor& x, Tensor& y) {
  dispatch_float(y.dtype(), "unary", [&](auto t) {
    using T = decltype(t);
    launch(y.numel(), UnaryItem<T>{op, s, x.data<T>(), strided(x), y.data<T>()});
  });
}

template <class Launch>
void unary_backward_impl(const Launch& launch, UnaryOp op, double s, const Tensor& x, const Tensor& y,
                         const Tensor& gy, Tensor& gx) {
  dispatch_float(gx.dtype(), "unary_backward", [&](auto t) {
    using T = decltype(t);
    launch(gx.numel(), UnaryBackwardItem<T>{op, s, x.data<T>(), y.data<T>(), gy.data<T>(), gx.data<T>()});
  });
}

template <class Launch>
void binary_impl(const Launch& launch, BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  dispatch_float(y.dtype(), "binary", [&](auto t) {
    using T = decltype(t);
    launch(y.numel(), BinaryItem<T>{op, a.data<T>(), strided(a), b.data<T>(), strided(b), y.data<T>()});
  });
}

template <class Launch>
void bias_rows_impl(const Launch& launch, const Tensor& bias, Tensor& y) {
  const int64_t O = bias.numel();
  if (O == 0) return;
  dispatch_float(y.dtype(), "bias_rows", [&](auto t) {
    using T = decltype(t);
    launch(y.numel(), BiasRowsItem<T>{bias.data<T>(), y.data<T>(), O});
  });
}

}  // namespace gb::cuda

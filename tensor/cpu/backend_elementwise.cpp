// CPU backend: elementwise kernels. The op is switched on outside the loops, so each loop is a
// plain map the compiler vectorises; threads split the flat output (tensor/cpu/elementwise.h).
// Expressions mirror torch's: the scalar of add_scalar / mul_scalar / pow is applied in double and
// rounded once to the tensor's type.
#include <cmath>
#include <type_traits>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/cpu/gelu_fast.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/dispatch.h"

namespace gb::cpu {
namespace {

template <class T, class F>
void map1(const Tensor& x, Tensor& y, F f) {
  unary_map<T>(x.shape(), y.data<T>(), x.data<T>(), x.strides(), [&](T v) { return (T)f(v); });
}

// gx[i] += gy[i] * (T)d(x[i], y[i]) over contiguous buffers, split across threads.
template <class T, class D>
void map_back(const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx, D d) {
  const T* xp = x.data<T>();
  const T* yp = y.data<T>();
  const T* gp = gy.data<T>();
  T* out = gx.data<T>();
  parallel_for(gx.numel(), 1 << 15, [xp, yp, gp, out, &d](int64_t b, int64_t e) {
    const T* __restrict xr = xp;  // by value and restrict: see the relu case below
    const T* __restrict yr = yp;
    const T* __restrict gr = gp;
    T* __restrict o = out;
    for (int64_t i = b; i < e; ++i) o[i] += gr[i] * (T)d(xr[i], yr[i]);
  });
}

}  // namespace

void CpuBackend::unary(UnaryOp op, double s, const Tensor& x, Tensor& y) {
  GB_DISPATCH_FLOAT(y.dtype(), "unary", {
    switch (op) {
      case UnaryOp::add_scalar: map1<T>(x, y, [s](T v) { return v + s; }); break;
      case UnaryOp::mul_scalar: map1<T>(x, y, [s](T v) { return v * s; }); break;
      case UnaryOp::exp: map1<T>(x, y, [](T v) { return std::exp(v); }); break;
      case UnaryOp::log: map1<T>(x, y, [](T v) { return std::log(v); }); break;
      case UnaryOp::sqrt: map1<T>(x, y, [](T v) { return std::sqrt(v); }); break;
      case UnaryOp::square: map1<T>(x, y, [](T v) { return v * v; }); break;
      case UnaryOp::pow: map1<T>(x, y, [s](T v) { return std::pow(v, s); }); break;
      case UnaryOp::relu: map1<T>(x, y, [](T v) { return v > 0 ? v : T(0); }); break;
      case UnaryOp::sigmoid: map1<T>(x, y, [](T v) { return 1 / (1 + std::exp(-v)); }); break;
      case UnaryOp::tanh: map1<T>(x, y, [](T v) { return std::tanh(v); }); break;
      // Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)).
      case UnaryOp::gelu:
        if constexpr (std::is_same_v<T, float>) {
          if (!use_reference_kernels() && x.is_contiguous() && x.data<T>() != y.data<T>()) {
            // vectorised f32 (tensor/cpu/gelu_fast.h), threads over contiguous chunks
            const float* xp = x.data<float>();
            float* yp = y.data<float>();
            parallel_for(y.numel(), 1 << 14, [xp, yp](int64_t b, int64_t e) { gelu_f32_forward(xp + b, yp + b, e - b); });
            break;
          }
        }
        map1<T>(x, y, [](T v) { return 0.5 * v * (1 + std::erf(v * M_SQRT1_2)); });
        break;
    }
  });
}

void CpuBackend::unary_backward(UnaryOp op, double s, const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx) {
  GB_DISPATCH_FLOAT(gx.dtype(), "unary_backward", {
    switch (op) {
      case UnaryOp::add_scalar: {
        const T* gp = gy.data<T>();
        T* out = gx.data<T>();
        parallel_for(gx.numel(), 1 << 15, [gp, out](int64_t b, int64_t e) {
          const T* __restrict gr = gp;
          T* __restrict o = out;
          for (int64_t i = b; i < e; ++i) o[i] += gr[i];
        });
        break;
      }
      case UnaryOp::mul_scalar: {  // gx += (gy * s) rounded once, as mul_scalar(gy, s) would
        const T* gp = gy.data<T>();
        T* out = gx.data<T>();
        parallel_for(gx.numel(), 1 << 15, [gp, out, s](int64_t b, int64_t e) {
          const T* __restrict gr = gp;
          T* __restrict o = out;
          for (int64_t i = b; i < e; ++i) o[i] += (T)(gr[i] * s);
        });
        break;
      }
      case UnaryOp::exp: map_back<T>(x, y, gy, gx, [](T, T v) { return v; }); break;
      case UnaryOp::log: map_back<T>(x, y, gy, gx, [](T u, T) { return 1 / u; }); break;
      case UnaryOp::sqrt: map_back<T>(x, y, gy, gx, [](T, T v) { return 0.5 / v; }); break;
      case UnaryOp::square: map_back<T>(x, y, gy, gx, [](T u, T) { return 2 * u; }); break;
      case UnaryOp::pow: map_back<T>(x, y, gy, gx, [s](T u, T) { return s * std::pow(u, s - 1); }); break;
      case UnaryOp::relu: {  // gx += x > 0 ? gy : 0 (0 at 0), as a select the compiler vectorises, where
        // gy * (x > 0 ? 1.0 : 0.0) compiled to a scalar branch per element (mispredicted half the
        // time on activations of random sign: about 10x slower than the forward).
        const T* xp = x.data<T>();
        const T* gp = gy.data<T>();
        T* out = gx.data<T>();
        parallel_for(gx.numel(), 1 << 15, [xp, gp, out](int64_t b, int64_t e) {
          // Pointers by value and restrict: captured by reference they are reloaded after every
          // store (the store might alias them), which keeps the loop scalar.
          const T* __restrict xr = xp;
          const T* __restrict gr = gp;
          T* __restrict o = out;
          for (int64_t i = b; i < e; ++i) {
            const T g = gr[i];  // loaded unconditionally, so the select needs no branch
            o[i] += xr[i] > T(0) ? g : T(0);
          }
        });
        break;
      }
      case UnaryOp::sigmoid: map_back<T>(x, y, gy, gx, [](T, T v) { return v * (1 - v); }); break;
      case UnaryOp::tanh: map_back<T>(x, y, gy, gx, [](T, T v) { return 1 - v * v; }); break;
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      case UnaryOp::gelu:
        if constexpr (std::is_same_v<T, float>) {
          if (!use_reference_kernels() && gx.data<T>() != x.data<T>() && gx.data<T>() != gy.data<T>()) {
            const float* xp = x.data<float>();
            const float* gp = gy.data<float>();
            float* op = gx.data<float>();
            parallel_for(gx.numel(), 1 << 14,
                         [xp, gp, op](int64_t b, int64_t e) { gelu_f32_backward_add(xp + b, gp + b, op + b, e - b); });
            break;
          }
        }
        map_back<T>(x, y, gy, gx, [](T u, T) {
          return 0.5 * (1 + std::erf(u * M_SQRT1_2)) + u * std::exp(-0.5 * u * u) * 0.3989422804014327;
        });
        break;
    }
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  GB_DISPATCH_FLOAT(y.dtype(), "binary", {
    auto run = [&](auto f) {
      binary_map<T>(y.shape(), y.data<T>(), a.data<T>(), a.strides(), b.data<T>(), b.strides(),
                    [&](T u, T v) { return (T)f(u, v); });
    };
    switch (op) {
      case BinaryOp::add: run([](T u, T v) { return u + v; }); break;
      case BinaryOp::sub: run([](T u, T v) { return u - v; }); break;
      case BinaryOp::mul: run([](T u, T v) { return u * v; }); break;
      case BinaryOp::div: run([](T u, T v) { return u / v; }); break;
    }
  });
}

}  // namespace gb::cpu

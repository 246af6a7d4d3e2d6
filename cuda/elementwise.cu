// CUDA backend: unary maps and their backward, every UnaryOp, with the CPU backend's expressions
// (tensor/cpu/backend_elementwise.cpp): the scalar is applied in double and rounded once.
#include <cmath>

#include "cuda/backend.h"
#include "cuda/launch.h"

namespace gb::cuda {
namespace {

template <class T>
__device__ T unary_value(UnaryOp op, double s, T v) {
  switch (op) {
    case UnaryOp::add_scalar: return (T)(v + s);
    case UnaryOp::mul_scalar: return (T)(v * s);
    case UnaryOp::exp: return exp(v);
    case UnaryOp::log: return log(v);
    case UnaryOp::sqrt: return sqrt(v);
    case UnaryOp::square: return v * v;
    case UnaryOp::pow: return (T)pow((double)v, s);
    case UnaryOp::relu: return v > 0 ? v : T(0);
    case UnaryOp::sigmoid: return 1 / (1 + exp(-v));
    case UnaryOp::tanh: return tanh(v);
    case UnaryOp::gelu: return (T)(0.5 * v * (1 + erf(v * M_SQRT1_2)));
  }
  return v;
}

// d f / d x at (x, y = f(x)).
template <class T>
__device__ T unary_derivative(UnaryOp op, double s, T x, T y) {
  switch (op) {
    case UnaryOp::add_scalar: return T(1);
    case UnaryOp::mul_scalar: return (T)s;
    case UnaryOp::exp: return y;
    case UnaryOp::log: return 1 / x;
    case UnaryOp::sqrt: return (T)(0.5 / y);
    case UnaryOp::square: return 2 * x;
    case UnaryOp::pow: return (T)(s * pow((double)x, s - 1));
    case UnaryOp::relu: return x > 0 ? T(1) : T(0);
    case UnaryOp::sigmoid: return y * (1 - y);
    case UnaryOp::tanh: return 1 - y * y;
    case UnaryOp::gelu:
      return (T)(0.5 * (1 + erf(x * M_SQRT1_2)) + x * exp(-0.5 * x * x) * 0.3989422804014327);
  }
  return T(0);
}

// y contiguous [n] = f(x strided)
template <class T>
__global__ void unary_kernel(UnaryOp op, double s, const T* x, Strided dx, T* y, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = unary_value<T>(op, s, x[strided_offset(i, dx.nd, dx.shape, dx.st)]);
}

// gx += gy * f'(x, y), all contiguous [n]. mul_scalar rounds gy * s once, as the CPU does.
template <class T>
__global__ void unary_backward_kernel(UnaryOp op, double s, const T* x, const T* y, const T* gy, T* gx, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  if (op == UnaryOp::mul_scalar)
    gx[i] += (T)(gy[i] * s);
  else if (op == UnaryOp::add_scalar)
    gx[i] += gy[i];
  else
    gx[i] += gy[i] * unary_derivative<T>(op, s, x[i], y[i]);
}

}  // namespace

void CudaBackend::unary(UnaryOp op, double s, const Tensor& x, Tensor& y) {
  const int64_t n = y.numel();
  if (n == 0) return;
  dispatch_float(y.dtype(), "unary", [&](auto t) {
    using T = decltype(t);
    unary_kernel<T><<<blocks_for(n), kThreads>>>(op, s, x.data<T>(), strided(x), y.data<T>(), n);
  });
  GB_CUDA_CHECK_LAUNCH();
}

void CudaBackend::unary_backward(UnaryOp op, double s, const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx) {
  const int64_t n = gx.numel();
  if (n == 0) return;
  dispatch_float(gx.dtype(), "unary_backward", [&](auto t) {
    using T = decltype(t);
    unary_backward_kernel<T><<<blocks_for(n), kThreads>>>(op, s, x.data<T>(), y.data<T>(), gy.data<T>(), gx.data<T>(), n);
  });
  GB_CUDA_CHECK_LAUNCH();
}

}  // namespace gb::cuda

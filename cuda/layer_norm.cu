// CUDA backend: layer norm over rows of x [R, D], forward and backward, plain kernels: one thread per
// row for the statistics and the input gradient, one thread per column for the gamma / beta
// gradients (rows walked in order: deterministic, no atomics). Statistics in double, two passes,
// as the CPU reference (tensor/cpu/norm.cpp). Fusion with the residual add is the CUDA issue's work.
#include <cmath>

#include "cuda/backend.h"
#include "cuda/launch.h"

namespace gb::cuda {
namespace {


template <class T>
__global__ void ln_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t R, int64_t D,
                           double eps) {
  const int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= R) return;
  const T* xr = x + r * D;
  double m = 0;
  for (int64_t d = 0; d < D; ++d) m += (double)xr[d];
  m /= (double)D;
  double v = 0;
  for (int64_t d = 0; d < D; ++d) v += ((double)xr[d] - m) * ((double)xr[d] - m);
  v /= (double)D;
  const T mt = (T)m, rt = (T)(1.0 / sqrt(v + eps));
  mean[r] = mt;
  rstd[r] = rt;
  for (int64_t d = 0; d < D; ++d)
    y[r * D + d] = (xr[d] - mt) * rt * (gamma ? gamma[d] : T(1)) + (beta ? beta[d] : T(0));
}

// gx += rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = gy * gamma.
template <class T>
__global__ void ln_backward_x(const T* gy, const T* x, const T* gamma, const T* mean, const T* rstd, T* gx, int64_t R,
                              int64_t D) {
  const int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= R) return;
  const T* gr = gy + r * D;
  const T* xr = x + r * D;
  const double m = (double)mean[r], rs = (double)rstd[r];
  double sd = 0, sdx = 0;
  for (int64_t d = 0; d < D; ++d) {
    const double dxh = (double)(gamma ? gr[d] * gamma[d] : gr[d]);
    sd += dxh;
    sdx += dxh * ((double)xr[d] - m);
  }
  sdx *= rs;
  const T c1 = (T)(rs * sd / (double)D), c2 = (T)(rs * sdx / (double)D);
  const T mt = mean[r], rt = rstd[r];
  for (int64_t d = 0; d < D; ++d) {
    const T dxh = gamma ? gr[d] * gamma[d] : gr[d];
    gx[r * D + d] += rt * dxh - c1 - (xr[d] - mt) * rt * c2;
  }
}

template <class T>
__global__ void ln_backward_affine(const T* gy, const T* x, const T* mean, const T* rstd, T* ggamma, T* gbeta,
                                   int64_t R, int64_t D) {
  const int64_t d = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (d >= D) return;
  double ag = 0, ab = 0;
  for (int64_t r = 0; r < R; ++r) {
    const double g = (double)gy[r * D + d];
    ag += g * ((double)x[r * D + d] - (double)mean[r]) * (double)rstd[r];
    ab += g;
  }
  if (ggamma) ggamma[d] += (T)ag;
  if (gbeta) gbeta[d] += (T)ab;
}

}  // namespace

void CudaBackend::layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y,
                                     Tensor& mean, Tensor& rstd) {
  const int64_t D = x.size(x.dim() - 1), R = x.numel() / D;
  if (R == 0) return;
  dispatch_float(y.dtype(), "layer_norm_forward", [&](auto t) {
    using T = decltype(t);
    ln_forward<T><<<blocks_for(R), kThreads>>>(x.data<T>(), data_or_null<T>(gamma), data_or_null<T>(beta), y.data<T>(), mean.data<T>(),
                                               rstd.data<T>(), R, D, eps);
  });
  GB_CUDA_CHECK_LAUNCH();
}

void CudaBackend::layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                      const Tensor& rstd, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  const int64_t D = x.size(x.dim() - 1), R = x.numel() / D;
  if (R == 0) return;
  dispatch_float(gy.dtype(), "layer_norm_backward", [&](auto t) {
    using T = decltype(t);
    if (gx.defined())
      ln_backward_x<T><<<blocks_for(R), kThreads>>>(gy.data<T>(), x.data<T>(), data_or_null<T>(gamma), mean.data<T>(),
                                                    rstd.data<T>(), gx.data<T>(), R, D);
    if (ggamma.defined() || gbeta.defined())
      ln_backward_affine<T><<<blocks_for(D), kThreads>>>(gy.data<T>(), x.data<T>(), mean.data<T>(), rstd.data<T>(),
                                                         data_or_null<T>(ggamma), data_or_null<T>(gbeta), R, D);
  });
  GB_CUDA_CHECK_LAUNCH();
}

}  // namespace gb::cuda

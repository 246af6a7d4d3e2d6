// CUDA backend: support table, registration, and the memory kernels (fill, strided copy, strided
// accumulate). One thread per element; offsets from gb::strided_offset (tensor/geometry.h, also
// used and tested on the CPU).
#include "cuda/backend.h"
#include "cuda/launch.h"

namespace gb::cuda {
namespace {

template <class T>
__global__ void fill_kernel(T* y, Strided d, int64_t n, T v) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[strided_offset(i, d.nd, d.shape, d.st)] = v;
}

template <class T>
__global__ void copy_kernel(T* y, Strided dy, const T* x, Strided dx, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[strided_offset(i, dy.nd, dy.shape, dy.st)] = x[strided_offset(i, dx.nd, dx.shape, dx.st)];
}

// y (strided) += x (strided, same shape). Distinct flat indices of y never alias in a gradient
// buffer (views of a contiguous buffer without stride 0), so no atomics are needed.
template <class T>
__global__ void accumulate_kernel(T* y, Strided dy, const T* x, Strided dx, int64_t n) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[strided_offset(i, dy.nd, dy.shape, dy.st)] += x[strided_offset(i, dx.nd, dx.shape, dx.st)];
}

}  // namespace

bool CudaBackend::supports(Kernel k, DType dt) const {
  const bool flt = dt == DType::F32 || dt == DType::F64;
  switch (k) {
    case Kernel::fill:
    case Kernel::copy:
      return flt || dt == DType::I32;
    case Kernel::accumulate:
    case Kernel::unary:
    case Kernel::unary_backward:
    case Kernel::sum_rows:
    case Kernel::layer_norm_forward:
    case Kernel::layer_norm_backward:
      return flt;
    default:
      return false;
  }
}

CudaBackend& cuda_backend() {
  static CudaBackend b;
  return b;
}

void CudaBackend::fill(Tensor& y, double v) {
  const int64_t n = y.numel();
  if (n == 0) return;
  if (y.dtype() == DType::I32) {
    fill_kernel<int32_t><<<blocks_for(n), kThreads>>>(y.data<int32_t>(), strided(y), n, (int32_t)v);
  } else {
    dispatch_float(y.dtype(), "fill", [&](auto t) {
      using T = decltype(t);
      fill_kernel<T><<<blocks_for(n), kThreads>>>(y.data<T>(), strided(y), n, (T)v);
    });
  }
  GB_CUDA_CHECK_LAUNCH();
}

void CudaBackend::copy(Tensor& y, const Tensor& x) {
  GB_CHECK(x.dtype() == y.dtype(), "cuda copy: dtype conversion is not ported (", x.desc(), " -> ", y.desc(), ")");
  const int64_t n = y.numel();
  if (n == 0) return;
  if (y.dtype() == DType::I32) {
    copy_kernel<int32_t><<<blocks_for(n), kThreads>>>(y.data<int32_t>(), strided(y), x.data<int32_t>(), strided(x), n);
  } else {
    dispatch_float(y.dtype(), "copy", [&](auto t) {
      using T = decltype(t);
      copy_kernel<T><<<blocks_for(n), kThreads>>>(y.data<T>(), strided(y), x.data<T>(), strided(x), n);
    });
  }
  GB_CUDA_CHECK_LAUNCH();
}

void CudaBackend::accumulate(Tensor& y, const Tensor& x) {
  const int64_t n = y.numel();
  if (n == 0) return;
  dispatch_float(y.dtype(), "accumulate", [&](auto t) {
    using T = decltype(t);
    accumulate_kernel<T><<<blocks_for(n), kThreads>>>(y.data<T>(), strided(y), x.data<T>(), strided(x), n);
  });
  GB_CUDA_CHECK_LAUNCH();
}

}  // namespace gb::cuda

// CUDA backend: row sums of a contiguous [rows, cols] buffer, one thread per row accumulating in
// double in column order (the CPU backend's order), so results are deterministic. Plain, not fast:
// a tree reduction per row is the CUDA issue's work.
#include "cuda/backend.h"
#include "cuda/launch.h"

namespace gb::cuda {
namespace {

template <class T>
__global__ void sum_rows_kernel(const T* x, T* y, int64_t rows, int64_t cols) {
  const int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  double acc = 0;
  for (int64_t c = 0; c < cols; ++c) acc += (double)x[r * cols + c];
  y[r] = (T)acc;
}

}  // namespace

void CudaBackend::sum_rows(const Tensor& x, Tensor& y) {
  const int64_t rows = y.numel(), cols = rows ? x.numel() / rows : 0;
  if (rows == 0) return;
  dispatch_float(y.dtype(), "sum_rows", [&](auto t) {
    using T = decltype(t);
    sum_rows_kernel<T><<<blocks_for(rows), kThreads>>>(x.data<T>(), y.data<T>(), rows, cols);
  });
  GB_CUDA_CHECK_LAUNCH();
}

}  // namespace gb::cuda

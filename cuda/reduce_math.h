// The arithmetic of the CUDA reductions (row sums, row maxima with the first maximum's index, the max
// backward), plain C++ shared by the GPU (cuda/reduce.cu) and its CPU emulation
// (tests/harness/cuda_emu.h); see cuda/kernel_common.h. x is contiguous [rows, cols] (the op moves
// the reduced dims last). One item per row walks its columns in order, accumulating in double as
// the CPU does, so results are deterministic and equal to the CPU's up to the last rounding.
// A tree reduction per row is the tuned variant's work.
#pragma once
#include <cstdint>

#include "cuda/kernel_common.h"
#include "tensor/backend.h"

namespace gb::cuda {

template <class T>
struct SumRowsItem {
  const T* x;
  T* y;
  int64_t cols;
  GB_HD void operator()(int64_t r) const {
    double acc = 0;
    for (int64_t c = 0; c < cols; ++c) acc += (double)x[r * cols + c];
    y[r] = (T)acc;
  }
};

// vals [rows] = the row's maximum, idx i32 [rows] = its first column.
template <class T>
struct MaxRowsItem {
  const T* x;
  T* vals;
  int32_t* idx;
  int64_t cols;
  GB_HD void operator()(int64_t r) const {
    const T* row = x + r * cols;
    int64_t best = 0;
    for (int64_t c = 1; c < cols; ++c)
      if (row[c] > row[best]) best = c;
    vals[r] = row[best];
    idx[r] = (int32_t)best;
  }
};

// gx [outer, n, inner] at (o, idx[o, i], i) += gy [outer, inner]: one item per (o, i); the targets of
// distinct items are distinct elements of gx, so no two items write the same place.
template <class T>
struct MaxBackwardItem {
  const T* gy;
  const int32_t* idx;
  T* gx;
  int64_t n, inner;
  GB_HD void operator()(int64_t j) const {
    const int64_t o = j / inner, i = j % inner;
    gx[(o * n + idx[j]) * inner + i] += gy[j];
  }
};

template <class Launch>
void sum_rows_impl(const Launch& launch, const Tensor& x, Tensor& y) {
  const int64_t rows = y.numel(), cols = rows ? x.numel() / rows : 0;
  dispatch_float(y.dtype(), "sum_rows", [&](auto t) {
    using T = decltype(t);
    launch(rows, SumRowsItem<T>{x.data<T>(), y.data<T>(), cols});
  });
}

template <class Launch>
void max_rows_impl(const Launch& launch, const Tensor& x, Tensor& vals, Tensor& idx) {
  const int64_t rows = vals.numel(), cols = rows ? x.numel() / rows : 0;
  if (rows == 0) return;
  GB_CHECK(cols > 0, "cuda max_rows: rows of no columns have no maximum");
  dispatch_float(vals.dtype(), "max_rows", [&](auto t) {
    using T = decltype(t);
    launch(rows, MaxRowsItem<T>{x.data<T>(), vals.data<T>(), idx.data<int32_t>(), cols});
  });
}

template <class Launch>
void max_backward_impl(const Launch& launch, const Tensor& gy, const Tensor& idx, Tensor& gx, int64_t outer, int64_t n,
                       int64_t inner) {
  if (inner == 0) return;
  dispatch_float(gx.dtype(), "max_backward", [&](auto t) {
    using T = decltype(t);
    launch(outer * inner, MaxBackwardItem<T>{gy.data<T>(), idx.data<int32_t>(), gx.data<T>(), n, inner});
  });
}

}  // namespace gb::cuda

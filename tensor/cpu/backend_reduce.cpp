// CPU backend: reductions over the rows of a contiguous [rows, cols] buffer (the op moves the reduced
// dims last). Each output row is summed by one thread in a fixed order, accumulated in double, so
// results do not depend on the thread count.
#include <algorithm>

#include "tensor/cpu/backend.h"
#include "tensor/cpu/parallel.h"
#include "tensor/dispatch.h"

namespace gb::cpu {

void CpuBackend::sum_rows(const Tensor& x, Tensor& y) {
  const int64_t rows = y.numel(), cols = rows ? x.numel() / rows : 0;
  GB_DISPATCH_FLOAT(y.dtype(), "sum_rows", {
    const T* xp = x.data<T>();
    T* o = y.data<T>();
    parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1)), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        double acc = 0;
        const T* row = xp + r * cols;
        for (int64_t c = 0; c < cols; ++c) acc += (double)row[c];
        o[r] = (T)acc;
      }
    });
  });
}

void CpuBackend::max_rows(const Tensor& x, Tensor& vals, Tensor& idx) {
  const int64_t rows = vals.numel(), cols = rows ? x.numel() / rows : 0;
  int32_t* id = idx.data<int32_t>();
  GB_DISPATCH_FLOAT(vals.dtype(), "max_rows", {
    const T* xp = x.data<T>();
    T* o = vals.data<T>();
    parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1)), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* row = xp + r * cols;
        int64_t best = 0;
        for (int64_t c = 1; c < cols; ++c)
          if (row[c] > row[best]) best = c;
        o[r] = row[best];
        id[r] = (int32_t)best;
      }
    });
  });
}

void CpuBackend::max_backward(const Tensor& gy, const Tensor& idx, Tensor& gx, int64_t outer, int64_t n,
                              int64_t inner) {
  const int32_t* id = idx.data<int32_t>();
  GB_DISPATCH_FLOAT(gx.dtype(), "max_backward", {
    const T* g = gy.data<T>();
    T* out = gx.data<T>();
    // Outer slices are disjoint in gx: split them across threads.
    parallel_for(outer, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o)
        for (int64_t i = 0; i < inner; ++i) out[(o * n + id[o * inner + i]) * inner + i] += g[o * inner + i];
    });
  });
}

}  // namespace gb::cpu

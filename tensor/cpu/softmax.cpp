#include "tensor/cpu/softmax.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "tensor/cpu/kernel_mode.h"
#include "tensor/cpu/parallel.h"
#include "tensor/cpu/softmax_fast.h"

namespace gb::cpu {

template <class T>
void softmax_forward(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (n == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (inner == 1 && x != y && !use_reference_kernels()) {  // contiguous rows: the vectorised loops
      parallel_for(outer, std::max<int64_t>(1, 16384 / n),
                   [&](int64_t b, int64_t e) { softmax_f32_rows(x + b * n, y + b * n, e - b, n, log); });
      return;
    }
  }
  // Line l = o * inner + i starts at o * n * inner + i, stride inner. Consecutive lines of one chunk
  // touch neighbouring addresses, so strided lines (inner > 1) still stream through the cache.
  parallel_for(outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t l = b; l < e; ++l) {
      const int64_t base = (l / inner) * n * inner + l % inner;
      const T* xl = x + base;
      T* yl = y + base;
      T mx = xl[0];
      for (int64_t k = 1; k < n; ++k) mx = std::max(mx, xl[k * inner]);
      // exp in T (one call per element: exp dominates the cost), sum in double.
      double s = 0;
      if (log) {
        for (int64_t k = 0; k < n; ++k) s += (double)std::exp(xl[k * inner] - mx);
        // (x - max) - log(sum): x - max is exact-ish and log(sum) small, so large logits keep precision.
        const double ls = std::log(s);
        for (int64_t k = 0; k < n; ++k) yl[k * inner] = (T)((double)(xl[k * inner] - mx) - ls);
      } else {
        for (int64_t k = 0; k < n; ++k) {
          const T e = std::exp(xl[k * inner] - mx);
          yl[k * inner] = e;
          s += (double)e;
        }
        const T inv = (T)(1.0 / s);
        for (int64_t k = 0; k < n; ++k) yl[k * inner] *= inv;
      }
    }
  });
}

template <class T>
void softmax_backward(const T* gy, const T* y, T* gx, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (n == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    if (inner == 1 && gx != gy && gx != y && !use_reference_kernels()) {
      parallel_for(outer, std::max<int64_t>(1, 16384 / n), [&](int64_t b, int64_t e) {
        softmax_f32_rows_backward_add(gy + b * n, y + b * n, gx + b * n, e - b, n, log);
      });
      return;
    }
  }
  parallel_for(outer * inner, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t l = b; l < e; ++l) {
      const int64_t base = (l / inner) * n * inner + l % inner;
      const T* g = gy + base;
      const T* yl = y + base;
      T* o = gx + base;
      double s = 0;
      if (log) {
        for (int64_t k = 0; k < n; ++k) s += (double)g[k * inner];
        const T st = (T)s;
        for (int64_t k = 0; k < n; ++k) o[k * inner] += g[k * inner] - std::exp(yl[k * inner]) * st;
      } else {
        for (int64_t k = 0; k < n; ++k) s += (double)g[k * inner] * (double)yl[k * inner];
        const T st = (T)s;
        for (int64_t k = 0; k < n; ++k) o[k * inner] += yl[k * inner] * (g[k * inner] - st);
      }
    }
  });
}

template void softmax_forward<float>(const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_forward<double>(const double*, double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t, int64_t, bool);

}  // namespace gb::cpu

// Elementwise CPU kernels. Operands are strided (a broadcast operand has stride 0 along the
// broadcast dimensions); the output is contiguous. The common case — every operand contiguous and of
// the output's shape — runs as one flat loop split across threads; the strided case splits the
// leading dimensions across threads (parallel_runs). The output is written once per element.
#pragma once
#include <cstdint>

#include "tensor/cpu/parallel.h"
#include "tensor/cpu/strided.h"
#include "tensor/shape.h"

namespace gb::cpu {

// y[i] = f(a[i])           y contiguous [shape]; a strided by a_st
template <class T, class F>
void unary_map(const Shape& shape, T* y, const T* a, const Shape& a_st, F f) {
  const int64_t n = numel(shape);
  if (a_st == contiguous_strides(shape)) {
    parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = f(a[i]);
    });
    return;
  }
  Shape y_st = contiguous_strides(shape);
  parallel_runs<2>(shape, {y_st.data(), a_st.data()}, [&](const int64_t* off, int64_t len) {
    const int64_t sa = shape.empty() ? 1 : a_st.back();
    for (int64_t i = 0; i < len; ++i) y[off[0] + i] = f(a[off[1] + i * sa]);
  });
}

// y[i] = f(a[i], b[i])     y contiguous [shape]; a, b strided (broadcast = stride 0)
template <class T, class F>
void binary_map(const Shape& shape, T* y, const T* a, const Shape& a_st, const T* b, const Shape& b_st, F f) {
  const int64_t n = numel(shape);
  const Shape c = contiguous_strides(shape);
  if (a_st == c && b_st == c) {
    parallel_for(n, 1 << 15, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) y[i] = f(a[i], b[i]);
    });
    return;
  }
  parallel_runs<3>(shape, {c.data(), a_st.data(), b_st.data()}, [&](const int64_t* off, int64_t len) {
    const int64_t sa = shape.empty() ? 1 : a_st.back(), sb = shape.empty() ? 1 : b_st.back();
    for (int64_t i = 0; i < len; ++i) y[off[0] + i] = f(a[off[1] + i * sa], b[off[2] + i * sb]);
  });
}

}  // namespace gb::cpu

// N-d iteration over a shape with one stride vector per operand (a broadcast operand has stride 0).
// Used by copies, conversions and the broadcasting elementwise kernels. The innermost dimension is
// handed to `fn` as a run so the compiler can vectorise the inner loop:
//   fn(const int64_t* offsets /*[nops] element offsets of the run start*/, int64_t len)
#pragma once
#include <array>
#include <cstdint>

#include "tensor/cpu/parallel.h"
#include "tensor/shape.h"

namespace gb::cpu {

template <int NOPS, class Fn>
void for_each_run(const Shape& shape, const std::array<const int64_t*, NOPS>& strides, Fn&& fn) {
  const int nd = (int)shape.size();
  for (auto s : shape)
    if (s == 0) return;
  std::array<int64_t, NOPS> off{};
  if (nd == 0) {
    fn(off.data(), 1);
    return;
  }
  const int64_t inner = shape[nd - 1];
  int64_t idx[kMaxDims] = {0};
  while (true) {
    fn(off.data(), inner);
    int d = nd - 2;
    for (; d >= 0; --d) {
      ++idx[d];
      for (int k = 0; k < NOPS; ++k) off[k] += strides[k][d];
      if (idx[d] < shape[d]) break;
      for (int k = 0; k < NOPS; ++k) off[k] -= strides[k][d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

// for_each_run split across threads by the leading dimensions: those are collapsed into `outer`
// slabs (enough of them to balance the threads), and each thread walks its slabs' runs in order.
// Operand 0 is the one written; threads write disjoint elements of it as long as it does not alias
// itself (no stride 0 along a dimension of size > 1; the caller checks with writes_disjoint), so the
// result is the same for any thread count. Small shapes (< 2 * grain elements) run on the caller.
template <int NOPS, class Fn>
void parallel_runs(const Shape& shape, const std::array<const int64_t*, NOPS>& strides, Fn&& fn,
                   int64_t grain = int64_t(1) << 15) {
  const int nd = (int)shape.size();
  const int64_t n = numel(shape);
  if (nd < 2 || n < 2 * grain || num_threads() == 1) {
    for_each_run<NOPS>(shape, strides, fn);
    return;
  }
  int d = 1;  // leading dimensions [0, d) form the slabs; at least one dimension stays inside
  int64_t outer = shape[0];
  while (d < nd - 1 && outer < 8 * num_threads()) outer *= shape[d++];
  const Shape sub(shape.begin() + d, shape.end());
  std::array<const int64_t*, NOPS> sub_st;
  for (int k = 0; k < NOPS; ++k) sub_st[k] = strides[k] + d;
  const int64_t per = n / outer;
  parallel_for(outer, std::max<int64_t>(1, grain / std::max<int64_t>(per, 1)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      std::array<int64_t, NOPS> base{};
      int64_t rem = o;
      for (int k = d - 1; k >= 0; --k) {
        const int64_t i = rem % shape[k];
        rem /= shape[k];
        for (int op = 0; op < NOPS; ++op) base[op] += i * strides[op][k];
      }
      for_each_run<NOPS>(sub, sub_st, [&](const int64_t* off, int64_t len) {
        std::array<int64_t, NOPS> o2;
        for (int op = 0; op < NOPS; ++op) o2[op] = base[op] + off[op];
        fn(o2.data(), len);
      });
    }
  });
}

// True when no two indices of `shape` map to one element under `st` through a zero stride (the
// views glassbox builds — slices, permutes, reshapes — never overlap otherwise).
inline bool writes_disjoint(const Shape& shape, const Shape& st) {
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] > 1 && st[i] == 0) return false;
  return true;
}

}  // namespace gb::cpu

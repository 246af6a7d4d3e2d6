// N-d iteration over a shape with one stride vector per operand (a broadcast operand has stride 0).
// Used by copies, conversions and the broadcasting elementwise kernels. The innermost dimension is
// handed to `fn` as a run so the compiler can vectorise the inner loop:
//   fn(const int64_t* offsets /*[nops] element offsets of the run start*/, int64_t len)
#pragma once
#include <array>
#include <cstdint>

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

}  // namespace gb::cpu

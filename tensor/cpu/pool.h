// Max pooling over the last three dims (a 2-D pool is a 3-D pool with depth 1 and kernel depth 1).
//   x [planes, D, H, W] (planes = N*C)  ->  y [planes, OD, OH, OW], argmax idx [planes, OD, OH, OW]
// Padding counts as -inf: it never wins. idx is the flat index (d*H + h)*W + w within the plane of the
// FIRST maximal element in window order (kd, kh, kw); a NaN wins and propagates, as in torch.
// One kernel serves both kernel modes; planes are split across threads (each writes only its own
// plane of y / gx), so results do not depend on the thread count.
#pragma once
#include <array>
#include <cstdint>

namespace gb::cpu {

struct PoolGeom {
  int64_t planes = 1;
  std::array<int64_t, 3> in{1, 1, 1}, k{1, 1, 1}, stride{1, 1, 1}, pad{0, 0, 0}, out{1, 1, 1};
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
};

template <class T>
void max_pool_forward(const PoolGeom& g, const T* x, T* y, int32_t* idx);
// gx[plane, idx[o]] += gy[o]
template <class T>
void max_pool_backward(const PoolGeom& g, const T* gy, const int32_t* idx, T* gx);

}  // namespace gb::cpu

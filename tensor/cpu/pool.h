// Max pooling over the last three dims (a 2-D pool is a 3-D pool with depth 1 and kernel depth 1).
//   x [planes, D, H, W] (planes = N*C)  ->  y [planes, OD, OH, OW], argmax idx [planes, OD, OH, OW]
// Padding counts as -inf: it never wins. idx is the flat index (d*H + h)*W + w within the plane of the
// FIRST maximal element in window order (kd, kh, kw); a NaN wins and propagates, as in torch.
// One kernel serves both kernel modes; planes are split across threads (each writes only its own
// plane of y / gx), so results do not depend on the thread count.
#pragma once
#include <array>
#include <cstdint>

#include "tensor/geometry.h"

namespace gb::cpu {

using ::gb::PoolGeom;

template <class T>
void max_pool_forward(const PoolGeom& g, const T* x, T* y, int32_t* idx);
// gx[plane, idx[o]] += gy[o]
template <class T>
void max_pool_backward(const PoolGeom& g, const T* gy, const int32_t* idx, T* gx);

}  // namespace gb::cpu

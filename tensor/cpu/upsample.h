// Linear resampling (bilinear / trilinear) over the last three dims, with torch's coordinate rules
// (a bilinear resize is a trilinear one with depth 1 -> 1).
//   x [planes, D, H, W] (planes = N*C)  ->  y [planes, OD, OH, OW]
// Along each dim, output coordinate o reads source coordinate
//   align_corners:  src = o * (in - 1) / (out - 1)        (0 when out == 1)
//   otherwise:      src = max((o + 0.5) * in / out - 0.5, 0)
// then i0 = min(floor(src), in - 1), i1 = min(i0 + 1, in - 1), l1 = src - i0 (clamped to [0, 1]),
// l0 = 1 - l1, and y = sum over the 2x2x2 taps of l_d l_h l_w x. When i0 == i1 the two taps are one
// tap of weight 1. upsample_linear_*_ref are those formulas element by element (the spec, taken with
// the reference-kernel switch); upsample_linear_* are separable (W interpolation of each input row once,
// then whole-row H/D mixes): the forward is bitwise equal to the reference, the backward equal to
// rounding. Threads split (plane, output depth) units (forward) and planes (backward), so results do
// not depend on the thread count.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "tensor/geometry.h"

namespace gb::cpu {

struct LinearTap {
  int64_t i0 = 0, i1 = 0;
  double l0 = 1, l1 = 0;
};
// The taps of every output coordinate along one dim.
std::vector<LinearTap> linear_taps(int64_t in, int64_t out, bool align_corners);

using ::gb::UpsampleGeom;

template <class T>
void upsample_linear_forward(const UpsampleGeom& g, const T* x, T* y);
// gx += adjoint(gy)
template <class T>
void upsample_linear_backward(const UpsampleGeom& g, const T* gy, T* gx);
template <class T>
void upsample_linear_forward_ref(const UpsampleGeom& g, const T* x, T* y);
template <class T>
void upsample_linear_backward_ref(const UpsampleGeom& g, const T* gy, T* gx);

}  // namespace gb::cpu

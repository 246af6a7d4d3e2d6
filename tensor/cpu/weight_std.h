// Optimised weight standardisation (the reference, tensor/cpu/conv.h, keeps serial double sums):
// the same formulas with the row statistics and gradient sums in double over kLanes independent
// accumulators (tensor/cpu/lane_sums.h), so a row costs a few cycles per element instead of the
// add latency. Bitwise the same for any thread count (one thread per row, fixed order); agrees with
// the reference to rounding. w, y, gy, gw [O, K].
#pragma once
#include <cstdint>

namespace gb::cpu {

template <class T>
void weight_standardize_forward_fast(int64_t O, int64_t K, const T* w, double eps, T* y);
template <class T>
void weight_standardize_backward_fast(int64_t O, int64_t K, const T* w, double eps, const T* gy, T* gw);

}  // namespace gb::cpu

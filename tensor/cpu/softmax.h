// Softmax / log-softmax kernels (CPU reference). The reduced dimension is viewed as the middle of a
// contiguous [outer, n, inner] buffer; each line (o, :, i) is handled by one thread, max-shifted for
// stability, with the exponential sum accumulated in double. Backward ADDS into gx. f32 with inner = 1
// takes the vectorised loops of softmax_fast.h unless the reference-kernel switch is on.
#pragma once
#include <cstdint>

namespace gb::cpu {

// x, y [outer, n, inner]. log: y = x - max - log(sum exp(x - max)); else y = exp(x - max) / sum.
template <class T>
void softmax_forward(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log);
// y is the forward output. softmax: gx += y * (gy - sum(gy * y)); log: gx += gy - exp(y) * sum(gy).
template <class T>
void softmax_backward(const T* gy, const T* y, T* gx, int64_t outer, int64_t n, int64_t inner, bool log);

}  // namespace gb::cpu

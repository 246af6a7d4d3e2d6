// Normalisation kernels (CPU reference): group norm, batch norm, layer norm, forward and backward.
// All buffers are contiguous. Statistics are accumulated in double, two passes (mean, then centred
// sum of squares) over data that one thread owns, so results are bitwise identical for any thread
// count. Backward passes ADD into gx / ggamma / gbeta (each may be nullptr = not wanted).
// Shapes: x [N, C, S] where S is the product of the spatial dims (1 when there are none).
#pragma once
#include <cstdint>

namespace gb::cpu {

// Per (n, g) over (C/G channels, S): mean and rstd = 1/sqrt(biased var + eps), each [N*G].
// y = (x - mean) * rstd * gamma[c] + beta[c]; gamma / beta may be nullptr (1 / 0).
template <class T>
void group_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t N, int64_t C,
                        int64_t S, int64_t G, double eps);
template <class T>
void group_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* rstd, T* gx, T* ggamma,
                         T* gbeta, int64_t N, int64_t C, int64_t S, int64_t G);

// Batch statistics per channel over (N, S): mean [C] and biased var [C].
template <class T>
void batch_norm_stats(const T* x, double* mean, double* var, int64_t N, int64_t C, int64_t S);
// y = (x - mean[c]) * rstd[c] * gamma[c] + beta[c]; mean, rstd [C].
template <class T>
void batch_norm_apply(const T* x, const T* gamma, const T* beta, const T* mean, const T* rstd, T* y, int64_t N,
                      int64_t C, int64_t S);
// training: mean / rstd are the batch statistics (they depend on x); eval: constants (running stats).
template <class T>
void batch_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* rstd, bool training, T* gx,
                         T* ggamma, T* gbeta, int64_t N, int64_t C, int64_t S);

// Rows of x [R, D]: mean, rstd [R]; gamma, beta [D] or nullptr.
template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t R, int64_t D,
                        double eps);
template <class T>
void layer_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* rstd, T* gx, T* ggamma,
                         T* gbeta, int64_t R, int64_t D);

}  // namespace gb::cpu

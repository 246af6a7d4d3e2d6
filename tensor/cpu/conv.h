// Convolution kernels (2-D and 3-D share one geometry: a 2-D conv is a 3-D conv with D = KD = 1).
// Buffers are contiguous:
//   x  [N, C, D, H, W]      w  [O, C/groups, KD, KH, KW]      bias [O] (nullable)
//   y  [N, O, OD, OH, OW]
// Backward passes ACCUMULATE (+=) into gx / gw / gb; a null pointer means "not wanted".
//
// conv_*_ref (conv_ref.cpp) are plain loops, the spec. conv_* (conv.cpp) are the optimised path:
// vol2col + gemm per (image, group), threaded over independent outputs, so results are bitwise
// reproducible for any thread count.
#pragma once
#include <array>
#include <cstdint>

namespace gb::cpu {

struct ConvGeom {
  int64_t N = 1, C = 1, O = 1, groups = 1;
  std::array<int64_t, 3> in{1, 1, 1};      // D, H, W
  std::array<int64_t, 3> k{1, 1, 1};       // KD, KH, KW
  std::array<int64_t, 3> out{1, 1, 1};     // OD, OH, OW
  std::array<int64_t, 3> stride{1, 1, 1}, pad{0, 0, 0}, dil{1, 1, 1};

  int64_t Cg() const { return C / groups; }
  int64_t Og() const { return O / groups; }
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t k_size() const { return k[0] * k[1] * k[2]; }
  // Forward multiply-adds counted as 2 FLOPs.
  double flops() const { return 2.0 * (double)N * (double)O * (double)out_size() * (double)Cg() * (double)k_size(); }
};

// Output size along one dimension (torch): floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1.
inline int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

template <class T>
void conv_forward_ref(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv_backward_ref(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gbias);

template <class T>
void conv_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gbias);

// The optimised path processes output columns in tiles of whole output rows so that one col buffer
// holds at most this many elements (default 4M). Tests lower it to force the multi-tile branch.
void set_conv_tile_elems(int64_t n);
int64_t conv_tile_elems();

// vol2col for one image and one channel group over the output rows [r0, r1) (a row is one (od, oh),
// r = od * OH + oh): col [Cg*KD*KH*KW, (r1 - r0) * OW], zero where the window reads padding.
// x points at channel 0 of the group ([Cg, D, H, W]).
template <class T>
void vol2col(const ConvGeom& g, const T* x, int64_t r0, int64_t r1, T* col);
// The adjoint over the same rows: gx [Cg, D, H, W] += col2vol(col).
template <class T>
void col2vol_add(const ConvGeom& g, const T* col, int64_t r0, int64_t r1, T* gx);

// Weight standardisation (one kernel, used by both modes): per output channel o of w [O, K],
// y = (w - mean) / sqrt(var + eps), biased variance. Statistics are accumulated in double.
template <class T>
void weight_standardize_forward(int64_t O, int64_t K, const T* w, double eps, T* y);
// gw += rstd * (gy - mean(gy) - xhat * mean(gy * xhat)) per row, xhat = (w - mean) * rstd.
template <class T>
void weight_standardize_backward(int64_t O, int64_t K, const T* w, double eps, const T* gy, T* gw);

}  // namespace gb::cpu

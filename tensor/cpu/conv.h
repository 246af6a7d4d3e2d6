// Convolution kernels (2-D and 3-D share one geometry: a 2-D conv is a 3-D conv with D = KD = 1).
// Buffers are contiguous:
//   x  [N, C, D, H, W]      w  [O, C/groups, KD, KH, KW]      bias [O] (nullable)
//   y  [N, O, OD, OH, OW]
// Backward passes ACCUMULATE (+=) into gx / gw / gb; a null pointer means "not wanted".
//
// conv_*_ref (conv_ref.cpp) are plain loops, the spec. conv_* (conv.cpp) are the optimised path,
// which picks one of three algorithms per pass (forward, input gradient, weight gradient):
//   vol2col + gemm (conv.cpp)   per (image, group): the general case, and large channel counts,
//                               where the GEMM runs near peak;
//   direct (conv_direct.h)      2-D, one group, few channels (decoder and head convs on large
//                               images, the root conv): output rows as vectors, no col buffer;
//   Winograd (conv_winograd.h)  2-D 3x3 stride 1 (forward and input gradient): 2.25x fewer
//                               multiply-adds, 16 GEMMs per image; chosen where it wins (C and
//                               O >= 64, at least 28x28 output per image), never by the batch.
// conv_use_winograd and conv_use_direct hold the shape rules (Winograd is asked first); set_conv_algo
// overrides them for tests and benchmarks. Both are threaded over independent outputs, so results are bitwise reproducible for
// any thread count.
#pragma once
#include <array>
#include <cstdint>

#include "tensor/geometry.h"

namespace gb::cpu {

using ::gb::ConvGeom;
using ::gb::conv_out_size;

template <class T>
void conv_forward_ref(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv_backward_ref(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gbias);

template <class T>
void conv_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gbias);

// Which algorithm conv_forward / conv_backward use: Auto (the shape rules), Im2col (always vol2col +
// gemm: the path before the direct kernels), Direct (direct wherever it supports the pass), Winograd
// (F(2x2, 3x3), conv_winograd.h, wherever it supports the pass; vol2col + gemm elsewhere).
enum class ConvAlgo { Auto, Im2col, Direct, Winograd };
void set_conv_algo(ConvAlgo a);
ConvAlgo conv_algo();
struct ConvAlgoGuard {  // sets the algorithm for a scope
  explicit ConvAlgoGuard(ConvAlgo a) : prev(conv_algo()) { set_conv_algo(a); }
  ~ConvAlgoGuard() { set_conv_algo(prev); }
  ConvAlgo prev;
};

// The optimised path processes output columns in tiles of whole output rows so that one col buffer
// holds at most this many elements (default 4M). Tests lower it to force the multi-tile branch.
void set_conv_tile_elems(int64_t n);
int64_t conv_tile_elems();

// Per-thread scratch shared by the conv paths, grown on demand and kept (no page faults per call):
// slot 0 vol2col's col and Winograd's V, slot 1 the input gradient's gcol and Winograd's M, slot 2
// Winograd's U. A thread runs one conv pass at a time, so two paths never hold a slot at once, and
// the buffers cost the largest of the paths' needs, not their sum. Never zeroed.
template <class T>
T* conv_scratch(int slot, int64_t n);

// vol2col for one image and one channel group over the output rows [r0, r1) (a row is one (od, oh),
// r = od * OH + oh): col [Cg*KD*KH*KW, (r1 - r0) * OW], zero where the window reads padding.
// x points at channel 0 of the group ([Cg, D, H, W]).
template <class T>
void vol2col(const ConvGeom& g, const T* x, int64_t r0, int64_t r1, T* col);
// The adjoint over the same rows: gx [Cg, D, H, W] += col2vol(col).
template <class T>
void col2vol_add(const ConvGeom& g, const T* col, int64_t r0, int64_t r1, T* gx);

// Weight standardisation, the reference (tensor/cpu/weight_std.h has the optimised kernels): per output
// channel o of w [O, K],
// y = (w - mean) / sqrt(var + eps), biased variance. Statistics are accumulated in double.
template <class T>
void weight_standardize_forward(int64_t O, int64_t K, const T* w, double eps, T* y);
// gw += rstd * (gy - mean(gy) - xhat * mean(gy * xhat)) per row, xhat = (w - mean) * rstd.
template <class T>
void weight_standardize_backward(int64_t O, int64_t K, const T* w, double eps, const T* gy, T* gw);

}  // namespace gb::cpu

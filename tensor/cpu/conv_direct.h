// Direct 2-D convolution for few channels (the decoder's and the segmentation head's 3x3 convs on
// large images, the 7x7/2 root): no col buffer, the output row is the vector axis.
//
// Why: vol2col + gemm turns a conv into y [O, OH*OW] = w [O, C*KH*KW] @ col. With O = 3..16 the
// GEMM's 14-row micro-tile is mostly padding, and the input gradient gcol = w^T gy has K = O: it
// writes a C*KH*KW x OH*OW buffer at memory speed and then scatters it back (col2vol). The direct
// kernels instead keep a block of OB output channels x NV vectors of one output row in registers,
// broadcast one weight per (input channel, tap, output channel) and load the input row shifted by
// the tap. The input gradient of a stride-1 conv is the same kernel run on gy with the weights
// transposed (c <-> o) and flipped (tap t -> KH*KW-1-t), padding dil*(K-1) - pad. The weight
// gradient is a reduction over space: for a block of output channels, one input channel and a
// group of taps, vector partial sums gy * shifted x stay in registers over a block of rows, and
// each gw element's lanes are added once at the end.
//
// Coverage: 2-D (depth 1), one group, any kernel size, stride, dilation and padding for forward and
// weight gradient; the input gradient needs stride 1 and pad <= dil * (k - 1). Output channels go
// in blocks of at most 8 (AVX-512), 6 (AVX2) or 4 (portable). Which convs take it is the shape rule
// conv_use_direct (conv_direct.cpp, with the measurements); 3-D and grouped convs stay on vol2col +
// gemm.
//
// Layers (this header is internal to tensor/cpu):
//   conv_direct.cpp           the driver: shape rule, padded copies, weight packing, threads, and
//                             the portable kernels (CPUs without AVX2)
//   conv_direct_avx512.cpp    f32 and f64 kernels built with AVX-512 flags
//   conv_direct_avx2.cpp      f32 and f64 kernels built with AVX2 + FMA flags
//   conv_direct_kernels.h     the kernel templates those three instantiate, over a small vector type
// The instruction set follows gemm (gemm_path_resolved(), gemm_kernels.h), so forcing the
// SGEMM path in a test also runs the matching direct kernels.
//
// Padded input ("slab"): the kernels never test bounds. The driver copies the rows a task needs
// into [Ci, SW, HS, WQ]: channel, column phase (padded column j = q * SW + phase, SW = W stride),
// padded row, q. Outside the input it holds zeros; each row is long enough (WQ) that a whole
// number of vectors can be read for any tap. With the phase split a W-strided conv reads
// contiguous q: output column ow, tap kw reads q = ow + (kw * dw) / SW in phase (kw * dw) % SW.
#pragma once
#include <cstdint>

#include "tensor/geometry.h"

namespace gb::cpu {

// `rows` consecutive output rows [0, OW) for a block of OB output channels, all taps and input
// channels:
//   out[ob][r][ow] (+)= bias[ob] + sum_c sum_t wp[c][t][ob] * in[c * in_cstride + r * in_rstride + toff[t] + ow]
// summed in the order c ascending, t ascending (one float accumulator per output element). A
// register tile is NV vectors along the row, or, when a row fits one vector (OW <= L: 8x8 .. 16x16
// maps), NV rows, so small maps still fill the tile.
template <class T>
struct DirectRowArgs {
  const T* in;           // slab at (channel 0, phase 0, first padded row of the first output row, q 0)
  int64_t in_cstride;    // slab elements per channel (SW * HS * WQ)
  int64_t in_rstride;    // slab elements per output row (SH * WQ)
  const int64_t* toff;   // [ntaps] offset of tap t from `in`: phase * HS * WQ + kh * dh * WQ + q(kw)
  int ntaps;
  int64_t C;             // input channels
  const T* wp;           // packed weights [C][ntaps][OB]
  const T* bias;         // [OB] or null (added first)
  T* out;                // output at (channel o0, first row, column 0)
  int64_t out_cstride;   // OH * OW
  int64_t rows, OW;
  int OB;                // 1..ob_max of the kernel set
  bool accumulate;       // out += sum (gradients) instead of out = sum
};

// Weight-gradient partial sums for a block of OB output channels, one input channel, a group of
// nt taps, over `images` x `rows` output rows (images outer):
//   acc[ob][t][lane] += sum over images i, rows r, columns ow = lane (mod L):
//                         gy[i][ob][r][ow] * x[i][r][toff[t] + ow]
// acc holds L lanes per (ob, t); the driver reduces the lanes once at the end in a fixed order.
template <class T>
struct DirectGwArgs {
  const T* x;            // padded x of the first image, this channel, at the first row of the block
  int64_t x_nstride;     // padded x elements per image (Ci * slab cstride)
  int64_t x_rstride;     // slab elements per output row (SH * WQ)
  const int64_t* toff;   // [nt] tap offsets (as DirectRowArgs::toff)
  int nt;
  const T* gy;           // gy at (first image, channel o0, first row of the block, column 0)
  int64_t gy_nstride, gy_cstride, gy_rstride;  // O * OH * OW, OH * OW, OW
  int64_t images, rows, OW;
  T* acc;                // [OB][nt][L]
  int OB;
};

// One instruction set's kernels.
template <class T>
struct DirectKernels {
  const char* name;
  int lanes;             // L: elements per vector
  int ob_max;            // largest output-channel block
  int nv_max[9];         // nv_max[OB]: vectors per forward register tile
  int nt_max[9];         // nt_max[OB]: taps per weight-gradient register group
  void (*row)(const DirectRowArgs<T>&);
  void (*gw)(const DirectGwArgs<T>&);
};

const DirectKernels<float>& direct_kernels_avx512();
const DirectKernels<float>& direct_kernels_avx2();
const DirectKernels<double>& direct_kernels_avx512_f64();  // the same templates over double vectors
const DirectKernels<double>& direct_kernels_avx2_f64();
template <class T>
const DirectKernels<T>& direct_kernels_portable();

// Which passes of a conv the direct path takes (conv_direct.cpp: direct_plan has the rule).
enum class ConvPass { Forward, GradInput, GradWeight };
bool conv_use_direct(const ConvGeom& g, ConvPass pass);

// The three passes. Same contract as conv_forward / conv_backward (conv.h): y is written, gx and gw
// are accumulated (+=). Only call when conv_use_direct says so (or, for tests, when
// conv_direct_supported does). Bias gradients stay with the caller.
template <class T>
void conv_direct_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv_direct_grad_input(const ConvGeom& g, const T* w, const T* gy, T* gx);
template <class T>
void conv_direct_grad_weight(const ConvGeom& g, const T* x, const T* gy, T* gw);

// Whether the direct kernels can run this pass at all (2-D, groups 1; the input gradient also
// needs stride 1 and pad <= dil * (k - 1)), regardless of whether they are faster.
bool conv_direct_supported(const ConvGeom& g, ConvPass pass);

// Counts direct-kernel calls per pass since the last reset (tests check that a shape really takes
// the direct path).
struct ConvDirectCounts {
  int64_t forward = 0, grad_input = 0, grad_weight = 0;
};
ConvDirectCounts conv_direct_counts();
void reset_conv_direct_counts();

}  // namespace gb::cpu

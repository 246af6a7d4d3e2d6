// Winograd F(2x2, 3x3) convolution for 2-D 3x3 stride-1 convolutions (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", CVPR 2016): each 2x2 output tile is computed from
// its 4x4 input tile with 16 multiplies per (input, output) channel pair instead of 36: 2.25x fewer
// multiply-adds than vol2col + GEMM or the direct kernels. Chosen by shape (conv_use_winograd says
// where and by how much); ConvAlgo::Winograd forces it wherever it applies. The transforms work on
// whole rows of tiles, elementwise along the row, so the compiler vectorises them.
//   weights  U[xi][o][c] = (G g_oc G^T)[xi]          G 4x3, xi = 4 * row + col of the 4x4 transform
//   input    V[xi][c][t] = (B^T d_ct B)[xi]          d_ct the 4x4 input tile t of channel c (zero
//                                                    outside the image: the padding)
//   product  M[xi] = U[xi] @ V[xi]                   16 GEMMs [O, C] x [C, tiles] (tensor/cpu/gemm.h)
//   output   y tile = A^T M_ot A                     2x2, cropped at the right and bottom edges
// The input gradient of a stride-1 conv is the same transform run on gy with the kernel rotated
// 180 degrees, channels swapped and padding 2 - pad (so pad <= 2). The weight gradient keeps the
// other paths. Transforms use only adds and halvings: in f32 the result differs from the direct sum
// by rounding of the order of the transform's sums (checked against the reference in the op
// harness, column cpu-winograd, and in tests/ops/test_conv_values.cpp).
// Determinism: one image at a time; transforms write disjoint outputs per thread, and the GEMMs are
// thread-count independent (gemm_driver.h), so results do not depend on threads or on the batch.
#pragma once
#include "tensor/cpu/conv.h"
#include "tensor/cpu/conv_direct.h"

namespace gb::cpu {

// The shapes the transform handles for a pass: 2-D, 3x3, stride 1, dilation 1, one group, pad <= 2
// in each dimension (GradWeight: never).
bool conv_winograd_supported(const ConvGeom& g, ConvPass pass);
// The shape rule (with set_conv_algo: Winograd forces it wherever supported; Im2col and Direct never
// choose it; Auto chooses it at large enough shapes).
bool conv_use_winograd(const ConvGeom& g, ConvPass pass);

// y = conv(x, w) (no bias), or y += conv(x, w) when accumulate.
template <class T>
void conv_winograd_forward(const ConvGeom& g, const T* x, const T* w, T* y, bool accumulate);
// gx += the input gradient of conv(x, w) for the output gradient gy.
template <class T>
void conv_winograd_grad_input(const ConvGeom& g, const T* w, const T* gy, T* gx);

}  // namespace gb::cpu

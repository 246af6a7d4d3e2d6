#include "tensor/cpu/conv_winograd.h"

#include <algorithm>
#include <memory>

#include "tensor/cpu/gemm.h"
#include "tensor/cpu/parallel.h"

namespace gb::cpu {
namespace {

bool is_2d_3x3_s1(const ConvGeom& g) {
  return g.groups == 1 && g.in[0] == 1 && g.k[0] == 1 && g.out[0] == 1 && g.k[1] == 3 && g.k[2] == 3 &&
         g.stride[1] == 1 && g.stride[2] == 1 && g.dil[1] == 1 && g.dil[2] == 1 && g.pad[0] == 0 &&
         g.pad[1] <= 2 && g.pad[2] <= 2 && g.out[1] >= 1 && g.out[2] >= 1;
}

// Tiles per GEMM chunk: whole rows of 2x2 tiles, so that V (16 x C x chunk) stays within the same
// scratch budget as vol2col's col (conv_tile_elems, 4M elements by default), at least one row.
int64_t chunk_tile_rows(int64_t C, int64_t tiles_w, int64_t tiles_h) {
  const int64_t per_row = 16 * std::max<int64_t>(C, 1) * tiles_w;
  return std::max<int64_t>(1, std::min<int64_t>(tiles_h, conv_tile_elems() / per_row));
}

// Distance between the 16 planes xi of U, V and M: n elements rounded up to a cache line and kept
// away from multiples of 4 KiB. The transforms write (or read) all 16 planes in one pass, and planes
// a multiple of 4 KiB apart share L1 sets and alias in the store buffer (C 512 on 56x56 has planes
// exactly 252 x 4 KiB apart).
template <class T>
int64_t plane_stride(int64_t n) {
  constexpr int64_t line = 64 / (int64_t)sizeof(T);
  int64_t s = (n + line - 1) / line * line;
  while ((s * (int64_t)sizeof(T)) % 4096 < 256 || (s * (int64_t)sizeof(T)) % 4096 > 4096 - 256) s += line;
  return s;
}

// U[xi * us + o * C + c] = G g G^T for g = w[o][c] (3x3), G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
// With `adjoint`, w is stored [C][O][3][3] (the forward conv's weight, C and O here being that conv's
// O and C) and g = w[c][o] rotated 180 degrees: the kernel of the input gradient, read in place.
// Work goes in runs of kB consecutive c for one o: the run's kernels are gathered into g[9][kB], the
// transform is then elementwise along the run (vectorised), and each plane of U gets a contiguous run.
template <class T>
void transform_weights(int64_t O, int64_t C, const T* w, T* U, int64_t us, bool adjoint) {
  constexpr int64_t kB = 16;
  const int64_t runs_per_o = (C + kB - 1) / kB;
  parallel_for(O * runs_per_o, 4, [&](int64_t bb, int64_t be) {
    T g[9][kB], t[4][3][kB];
    for (int64_t run = bb; run < be; ++run) {
      const int64_t o = run / runs_per_o, c0 = (run % runs_per_o) * kB, n = std::min(kB, C - c0);
      for (int64_t ci = 0; ci < kB; ++ci) {
        const int64_t c = c0 + std::min(ci, n - 1);  // lanes past the run repeat its last kernel
        if (adjoint) {
          const T* src = w + (c * O + o) * 9;
          for (int k = 0; k < 9; ++k) g[k][ci] = src[8 - k];
        } else {
          const T* src = w + (o * C + c) * 9;
          for (int k = 0; k < 9; ++k) g[k][ci] = src[k];
        }
      }
      for (int j = 0; j < 3; ++j)  // G g
        for (int64_t ci = 0; ci < kB; ++ci) {
          const T g0 = g[0 * 3 + j][ci], g1 = g[1 * 3 + j][ci], g2 = g[2 * 3 + j][ci];
          t[0][j][ci] = g0;
          t[1][j][ci] = T(0.5) * (g0 + g1 + g2);
          t[2][j][ci] = T(0.5) * (g0 - g1 + g2);
          t[3][j][ci] = g2;
        }
      T* u = U + o * C + c0;
      for (int i = 0; i < 4; ++i) {  // (G g) G^T
        T* u0 = u + (i * 4 + 0) * us;
        T* u1 = u + (i * 4 + 1) * us;
        T* u2 = u + (i * 4 + 2) * us;
        T* u3 = u + (i * 4 + 3) * us;
        for (int64_t ci = 0; ci < n; ++ci) {
          const T a0 = t[i][0][ci], a1 = t[i][1][ci], a2 = t[i][2][ci];
          u0[ci] = a0;
          u1[ci] = T(0.5) * (a0 + a1 + a2);
          u2[ci] = T(0.5) * (a0 - a1 + a2);
          u3[ci] = a2;
        }
      }
    }
  });
}

// V[xi * vs + c * Tn + t] for the tiles of tile rows [ty0, ty1) of one image x [C, H, W]; Tn tiles
// in the chunk. B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. One work item is one tile row of one
// channel: its 4 input rows are copied, zero-padded, into rows r [4][2 tw + 2] (tile tx covers columns
// 2 tx .. 2 tx + 3), B^T d is then elementwise across those rows and (B^T d) B a stride-2 pass along
// them, loops over tx the compiler vectorises. Same operations in the same order as the tile-by-tile
// formula, so the same bits.
template <class T>
void transform_input(const ConvGeom& g, const T* x, int64_t C, int64_t ty0, int64_t ty1, int64_t tw, T* V,
                     int64_t vs) {
  const int64_t H = g.in[1], W = g.in[2], ph = g.pad[1], pw = g.pad[2];
  const int64_t nrow = ty1 - ty0, Tn = nrow * tw, Wp = 2 * tw + 2;
  // Input columns [0, xhi) land at r[..][pw ...]; the rest of a row stays zero.
  const int64_t xhi = std::min(W, Wp - pw);
  parallel_for(C * nrow, 1, [&](int64_t b, int64_t e) {
    std::unique_ptr<T[]> buf(new T[(size_t)(8 * Wp)]);
    T* r[4] = {buf.get(), buf.get() + Wp, buf.get() + 2 * Wp, buf.get() + 3 * Wp};
    T* s = buf.get() + 4 * Wp;  // one row of B^T d
    for (int64_t q = b; q < e; ++q) {
      const int64_t c = q / nrow, ty = ty0 + q % nrow;
      const T* xc = x + c * H * W;
      for (int i = 0; i < 4; ++i) {
        const int64_t yy = 2 * ty - ph + i;
        std::fill(r[i], r[i] + Wp, T(0));
        if (yy >= 0 && yy < H && xhi > 0) std::copy(xc + yy * W, xc + yy * W + xhi, r[i] + pw);
      }
      const int64_t col = c * Tn + (ty - ty0) * tw;
      for (int i = 0; i < 4; ++i) {
        // row i of B^T d: r0 - r2, r1 + r2, r2 - r1, r1 - r3
        const T *r0 = r[0], *r1 = r[1], *r2 = r[2], *r3 = r[3];
        switch (i) {
          case 0: for (int64_t k = 0; k < Wp; ++k) s[k] = r0[k] - r2[k]; break;
          case 1: for (int64_t k = 0; k < Wp; ++k) s[k] = r1[k] + r2[k]; break;
          case 2: for (int64_t k = 0; k < Wp; ++k) s[k] = r2[k] - r1[k]; break;
          default: for (int64_t k = 0; k < Wp; ++k) s[k] = r1[k] - r3[k]; break;
        }
        T* v0 = V + (i * 4 + 0) * vs + col;
        T* v1 = V + (i * 4 + 1) * vs + col;
        T* v2 = V + (i * 4 + 2) * vs + col;
        T* v3 = V + (i * 4 + 3) * vs + col;
        for (int64_t tx = 0; tx < tw; ++tx) {
          const T s0 = s[2 * tx], s1 = s[2 * tx + 1], s2 = s[2 * tx + 2], s3 = s[2 * tx + 3];
          v0[tx] = s0 - s2;
          v1[tx] = s1 + s2;
          v2[tx] = s2 - s1;
          v3[tx] = s1 - s3;
        }
      }
    }
  });
}

// y [O, OH, OW] (+)= A^T M A per tile, A^T = [1 1 1 0; 0 1 -1 -1], cropped to the image. One work
// item is one tile row of one output channel: A^T m is elementwise across the planes' runs of tw
// tiles, (A^T m) A interleaves into an output row buffer of 2 tw, which is then cropped into y.
template <class T>
void transform_output(const ConvGeom& g, const T* M, int64_t ms, int64_t O, int64_t ty0, int64_t ty1,
                      int64_t tw, T* y, bool accumulate) {
  const int64_t OH = g.out[1], OW = g.out[2];
  const int64_t nrow = ty1 - ty0, Tn = nrow * tw;
  parallel_for(O * nrow, 1, [&](int64_t b, int64_t e) {
    std::unique_ptr<T[]> buf(new T[(size_t)(10 * tw)]);
    T* s[2][4];  // rows of A^T m, per column j of the tile
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 4; ++j) s[i][j] = buf.get() + (i * 4 + j) * tw;
    T* out = buf.get() + 8 * tw;  // one output row, 2 tw wide
    for (int64_t q = b; q < e; ++q) {
      const int64_t o = q / nrow, ty = ty0 + q % nrow;
      const int64_t col = o * Tn + (ty - ty0) * tw;
      for (int j = 0; j < 4; ++j) {
        const T* m0 = M + (0 * 4 + j) * ms + col;
        const T* m1 = M + (1 * 4 + j) * ms + col;
        const T* m2 = M + (2 * 4 + j) * ms + col;
        const T* m3 = M + (3 * 4 + j) * ms + col;
        T* a = s[0][j];
        T* d = s[1][j];
        for (int64_t tx = 0; tx < tw; ++tx) {
          a[tx] = m0[tx] + m1[tx] + m2[tx];
          d[tx] = m1[tx] - m2[tx] - m3[tx];
        }
      }
      T* yo = y + o * OH * OW;
      for (int i = 0; i < 2; ++i) {
        const int64_t yy = 2 * ty + i;
        if (yy >= OH) break;
        const T *s0 = s[i][0], *s1 = s[i][1], *s2 = s[i][2], *s3 = s[i][3];
        for (int64_t tx = 0; tx < tw; ++tx) {
          out[2 * tx] = s0[tx] + s1[tx] + s2[tx];
          out[2 * tx + 1] = s1[tx] - s2[tx] - s3[tx];
        }
        T* row = yo + yy * OW;
        if (accumulate)
          for (int64_t k = 0; k < OW; ++k) row[k] += out[k];
        else
          std::copy(out, out + OW, row);
      }
    }
  });
}

// The forward pass given transformed weights U [16][O][C], planes us apart.
template <class T>
void forward_with(const ConvGeom& g, const T* U, int64_t us, const T* x, T* y, bool accumulate) {
  const int64_t C = g.C, O = g.O, OH = g.out[1], OW = g.out[2];
  const int64_t th = (OH + 1) / 2, tw = (OW + 1) / 2;
  const int64_t rows = chunk_tile_rows(C, tw, th);
  const int64_t vs = plane_stride<T>(C * rows * tw), ms = plane_stride<T>(O * rows * tw);
  T* V = conv_scratch<T>(0, 16 * vs);  // [16][C][chunk tiles], planes vs apart
  T* M = conv_scratch<T>(1, 16 * ms);  // [16][O][chunk tiles], planes ms apart
  for (int64_t n = 0; n < g.N; ++n) {
    const T* xn = x + n * C * g.in[1] * g.in[2];
    T* yn = y + n * O * OH * OW;
    for (int64_t ty0 = 0; ty0 < th; ty0 += rows) {
      const int64_t ty1 = std::min(th, ty0 + rows), Tn = (ty1 - ty0) * tw;
      transform_input(g, xn, C, ty0, ty1, tw, V, vs);
      for (int xi = 0; xi < 16; ++xi)
        gemm<T>(false, false, O, Tn, C, T(1), U + xi * us, C, V + xi * vs, Tn, T(0), M + xi * ms, Tn);
      transform_output(g, M, ms, O, ty0, ty1, tw, yn, accumulate);
    }
  }
}

}  // namespace

bool conv_winograd_supported(const ConvGeom& g, ConvPass pass) {
  return pass != ConvPass::GradWeight && is_2d_3x3_s1(g);
}

bool conv_use_winograd(const ConvGeom& g, ConvPass pass) {
  switch (conv_algo()) {
    case ConvAlgo::Im2col:
    case ConvAlgo::Direct: return false;
    case ConvAlgo::Winograd: return conv_winograd_supported(g, pass);
    case ConvAlgo::Auto: break;
  }
  // Chosen where the 2.25x fewer multiply-adds outweigh the transforms, measured against the better of
  // vol2col + gemm and the direct kernels at R50-ViT-B_16's 3x3 shapes (2 cores, AVX-512,
  // bench/RESULTS.md "Winograd by shape"): both channel counts >= 64 (at O 16 or C 16 the GEMMs are
  // too thin: 0.35-0.64x), and at least 784 output pixels per image (28 x 28), since the weight
  // transform costs O x C per call (14 x 14: 0.52-1.14x at batch 1). Inside: 1.03-2.4x. The rule
  // never looks at the batch size (14 x 14 would win at batch 4, 1.04-1.33x): an image must get the
  // same bits alone or in a batch (IG's batched and unbatched paths agree bit for bit). The same rule
  // serves the input gradient, a conv with C and O swapped.
  return conv_winograd_supported(g, pass) && g.C >= 64 && g.O >= 64 && g.out_size() >= 784;
}

namespace {
// The transform of weights w (adjoint: see transform_weights) for the conv g, then the forward pass.
template <class T>
void winograd_run(const ConvGeom& g, const T* x, const T* w, T* y, bool accumulate, bool adjoint) {
  const int64_t us = plane_stride<T>(g.O * g.C);
  T* U = conv_scratch<T>(2, 16 * us);  // [16][O][C], planes us apart
  transform_weights(g.O, g.C, w, U, us, adjoint);
  forward_with(g, U, us, x, y, accumulate);
}

}  // namespace

template <class T>
void conv_winograd_forward(const ConvGeom& g, const T* x, const T* w, T* y, bool accumulate) {
  winograd_run(g, x, w, y, accumulate, false);
}

template <class T>
void conv_winograd_grad_input(const ConvGeom& g, const T* w, const T* gy, T* gx) {
  // gx = conv(gy, w') with w'[c][o] = w[o][c] rotated 180 degrees, padding 2 - pad: a stride-1
  // conv's adjoint. The geometry swaps channels and in/out sizes; w' is read from w in place.
  ConvGeom t = g;
  t.C = g.O;
  t.O = g.C;
  t.in = g.out;
  t.out = g.in;
  t.pad = {0, 2 - g.pad[1], 2 - g.pad[2]};
  winograd_run(t, gy, w, gx, true, true);
}

template void conv_winograd_forward<float>(const ConvGeom&, const float*, const float*, float*, bool);
template void conv_winograd_forward<double>(const ConvGeom&, const double*, const double*, double*, bool);
template void conv_winograd_grad_input<float>(const ConvGeom&, const float*, const float*, float*);
template void conv_winograd_grad_input<double>(const ConvGeom&, const double*, const double*, double*);

}  // namespace gb::cpu

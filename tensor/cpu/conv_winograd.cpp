#include "tensor/cpu/conv_winograd.h"

#include <algorithm>
#include <memory>

#include "tensor/cpu/gemm.h"
#include "tensor/cpu/parallel.h"

namespace gb::cpu {
namespace {

// Grow-only scratch per calling thread (slot 0: U, 1: V, 2: M, 3: rotated weights), never zeroed:
// every element read is written first. Fresh zeroed vectors per call cost more than the transforms
// (tens of MB of page faults at the decoder's shapes).
template <class T>
T* scratch(int slot, int64_t n) {
  thread_local std::unique_ptr<T[]> buf[4];
  thread_local int64_t cap[4] = {0, 0, 0, 0};
  if (cap[slot] < n) {
    buf[slot].reset(new T[(size_t)n]);
    cap[slot] = n;
  }
  return buf[slot].get();
}

bool is_2d_3x3_s1(const ConvGeom& g) {
  return g.groups == 1 && g.in[0] == 1 && g.k[0] == 1 && g.out[0] == 1 && g.k[1] == 3 && g.k[2] == 3 &&
         g.stride[1] == 1 && g.stride[2] == 1 && g.dil[1] == 1 && g.dil[2] == 1 && g.pad[0] == 0 &&
         g.pad[1] <= 2 && g.pad[2] <= 2 && g.out[1] >= 1 && g.out[2] >= 1;
}

// Tiles per GEMM chunk: whole rows of 2x2 tiles, so that V (16 x C x chunk) stays near 4M elements.
int64_t chunk_tile_rows(int64_t C, int64_t tiles_w, int64_t tiles_h) {
  const int64_t per_row = 16 * std::max<int64_t>(C, 1) * tiles_w;
  return std::max<int64_t>(1, std::min<int64_t>(tiles_h, (int64_t(1) << 22) / per_row));
}

// U[xi][o][c] = G g G^T for g = w[o][c] (3x3), G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
template <class T>
void transform_weights(int64_t O, int64_t C, const T* w, T* U) {
  const int64_t OC = O * C;
  parallel_for(OC, 64, [&](int64_t b, int64_t e) {
    for (int64_t oc = b; oc < e; ++oc) {
      const T* g = w + oc * 9;
      T t[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        const T g0 = g[0 * 3 + j], g1 = g[1 * 3 + j], g2 = g[2 * 3 + j];
        t[0][j] = g0;
        t[1][j] = T(0.5) * (g0 + g1 + g2);
        t[2][j] = T(0.5) * (g0 - g1 + g2);
        t[3][j] = g2;
      }
      for (int i = 0; i < 4; ++i) {  // (G g) G^T
        const T a0 = t[i][0], a1 = t[i][1], a2 = t[i][2];
        U[(i * 4 + 0) * OC + oc] = a0;
        U[(i * 4 + 1) * OC + oc] = T(0.5) * (a0 + a1 + a2);
        U[(i * 4 + 2) * OC + oc] = T(0.5) * (a0 - a1 + a2);
        U[(i * 4 + 3) * OC + oc] = a2;
      }
    }
  });
}

// V[xi][c][t] for the tiles of tile rows [ty0, ty1) of one image x [C, H, W]; Tn tiles in the chunk.
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
template <class T>
void transform_input(const ConvGeom& g, const T* x, int64_t C, int64_t ty0, int64_t ty1, int64_t tw, T* V) {
  const int64_t H = g.in[1], W = g.in[2], ph = g.pad[1], pw = g.pad[2];
  const int64_t Tn = (ty1 - ty0) * tw, CT = C * Tn;
  parallel_for(C * (ty1 - ty0), 1, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      const int64_t c = q / (ty1 - ty0), ty = ty0 + q % (ty1 - ty0);
      const T* xc = x + c * H * W;
      for (int64_t tx = 0; tx < tw; ++tx) {
        T d[4][4];
        const int64_t y0 = 2 * ty - ph, x0 = 2 * tx - pw;
        if (y0 >= 0 && y0 + 3 < H && x0 >= 0 && x0 + 3 < W) {  // interior: no padding to test
          const T* p = xc + y0 * W + x0;
          for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) d[i][j] = p[i * W + j];
        } else {
          for (int i = 0; i < 4; ++i) {
            const int64_t yy = y0 + i;
            for (int j = 0; j < 4; ++j) {
              const int64_t xx = x0 + j;
              d[i][j] = (yy >= 0 && yy < H && xx >= 0 && xx < W) ? xc[yy * W + xx] : T(0);
            }
          }
        }
        T s[4][4];  // B^T d
        for (int j = 0; j < 4; ++j) {
          s[0][j] = d[0][j] - d[2][j];
          s[1][j] = d[1][j] + d[2][j];
          s[2][j] = d[2][j] - d[1][j];
          s[3][j] = d[1][j] - d[3][j];
        }
        const int64_t col = c * Tn + (ty - ty0) * tw + tx;
        for (int i = 0; i < 4; ++i) {  // (B^T d) B
          V[(i * 4 + 0) * CT + col] = s[i][0] - s[i][2];
          V[(i * 4 + 1) * CT + col] = s[i][1] + s[i][2];
          V[(i * 4 + 2) * CT + col] = s[i][2] - s[i][1];
          V[(i * 4 + 3) * CT + col] = s[i][1] - s[i][3];
        }
      }
    }
  });
}

// y [O, OH, OW] (+)= A^T M A per tile, A^T = [1 1 1 0; 0 1 -1 -1], cropped to the image.
template <class T>
void transform_output(const ConvGeom& g, const T* M, int64_t O, int64_t ty0, int64_t ty1, int64_t tw, T* y,
                      bool accumulate) {
  const int64_t OH = g.out[1], OW = g.out[2];
  const int64_t Tn = (ty1 - ty0) * tw, OT = O * Tn;
  parallel_for(O * (ty1 - ty0), 1, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      const int64_t o = q / (ty1 - ty0), ty = ty0 + q % (ty1 - ty0);
      T* yo = y + o * OH * OW;
      for (int64_t tx = 0; tx < tw; ++tx) {
        const int64_t col = o * Tn + (ty - ty0) * tw + tx;
        T m[4][4];
        for (int xi = 0; xi < 16; ++xi) m[xi / 4][xi % 4] = M[xi * OT + col];
        T s[2][4];  // A^T m
        for (int j = 0; j < 4; ++j) {
          s[0][j] = m[0][j] + m[1][j] + m[2][j];
          s[1][j] = m[1][j] - m[2][j] - m[3][j];
        }
        for (int i = 0; i < 2; ++i) {
          const int64_t yy = 2 * ty + i;
          if (yy >= OH) break;
          const T r0 = s[i][0] + s[i][1] + s[i][2], r1 = s[i][1] - s[i][2] - s[i][3];
          T* row = yo + yy * OW + 2 * tx;
          if (accumulate) {
            row[0] += r0;
            if (2 * tx + 1 < OW) row[1] += r1;
          } else {
            row[0] = r0;
            if (2 * tx + 1 < OW) row[1] = r1;
          }
        }
      }
    }
  });
}

// The forward pass given transformed weights U [16][O][C].
template <class T>
void forward_with(const ConvGeom& g, const T* U, const T* x, T* y, bool accumulate) {
  const int64_t C = g.C, O = g.O, OH = g.out[1], OW = g.out[2];
  const int64_t th = (OH + 1) / 2, tw = (OW + 1) / 2;
  const int64_t rows = chunk_tile_rows(C, tw, th);
  T* V = scratch<T>(1, 16 * C * rows * tw);  // [16][C][chunk tiles]
  T* M = scratch<T>(2, 16 * O * rows * tw);  // [16][O][chunk tiles]
  for (int64_t n = 0; n < g.N; ++n) {
    const T* xn = x + n * C * g.in[1] * g.in[2];
    T* yn = y + n * O * OH * OW;
    for (int64_t ty0 = 0; ty0 < th; ty0 += rows) {
      const int64_t ty1 = std::min(th, ty0 + rows), Tn = (ty1 - ty0) * tw;
      transform_input(g, xn, C, ty0, ty1, tw, V);
      for (int xi = 0; xi < 16; ++xi)
        gemm<T>(false, false, O, Tn, C, T(1), U + xi * O * C, C, V + xi * C * Tn, Tn, T(0), M + xi * O * Tn, Tn);
      transform_output(g, M, O, ty0, ty1, tw, yn, accumulate);
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
  // Not chosen by the shape rule yet: at R50-ViT-B_16's decoder shapes (2 cores, AVX2, bench/RESULTS.md)
  // it beat the better of vol2col + gemm and the direct kernels only at C 512 / O 128 on 56x56
  // (forward 1.12x, input gradient 1.38x), the input gradient at C 1024 (1.10x) and the forward at
  // C 256 / O 256 on 28x28 (1.06x), and lost at the rest (0.30-0.99x): the 2.25x fewer multiply-adds
  // are mostly lost in the scalar transforms. Vectorised transforms (8 tiles per vector) are the next
  // step; ConvAlgo::Winograd runs it for tests and benchmarks.
  (void)g;
  (void)pass;
  return false;
}

template <class T>
void conv_winograd_forward(const ConvGeom& g, const T* x, const T* w, T* y, bool accumulate) {
  T* U = scratch<T>(0, 16 * g.O * g.C);  // [16][O][C]
  transform_weights(g.O, g.C, w, U);
  forward_with(g, U, x, y, accumulate);
}

template <class T>
void conv_winograd_grad_input(const ConvGeom& g, const T* w, const T* gy, T* gx) {
  // gx = conv(gy, w') with w'[c][o] = w[o][c] rotated 180 degrees, padding 2 - pad: a stride-1
  // conv's adjoint. The geometry swaps channels and in/out sizes.
  ConvGeom t = g;
  t.C = g.O;
  t.O = g.C;
  t.in = g.out;
  t.out = g.in;
  t.pad = {0, 2 - g.pad[1], 2 - g.pad[2]};
  T* wr = scratch<T>(3, g.C * g.O * 9);  // [C][O][3][3]
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < g.C; ++c)
      for (int k = 0; k < 9; ++k) wr[(c * g.O + o) * 9 + (8 - k)] = w[(o * g.C + c) * 9 + k];
  conv_winograd_forward(t, gy, wr, gx, true);
}

template void conv_winograd_forward<float>(const ConvGeom&, const float*, const float*, float*, bool);
template void conv_winograd_forward<double>(const ConvGeom&, const double*, const double*, double*, bool);
template void conv_winograd_grad_input<float>(const ConvGeom&, const float*, const float*, float*);
template void conv_winograd_grad_input<double>(const ConvGeom&, const double*, const double*, double*);

}  // namespace gb::cpu

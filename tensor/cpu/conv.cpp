// Optimised convolution: Winograd F(2x2, 3x3) where conv_use_winograd says so (conv_winograd.h), the
// direct kernels where conv_use_direct says so (conv_direct.h), else
// vol2col + gemm per (image, group, tile of output rows).
//   forward   y_g [Og, OS]   = w_g [Og, CK] @ col [CK, OS]              (CK = Cg*KD*KH*KW, OS = OD*OH*OW)
//   grad w    gw_g [Og, CK] += gy_g [Og, OS] @ col^T                    (images, tiles in order: deterministic)
//   grad x    gcol [CK, OS]  = w_g^T @ gy_g, then gx_g += col2vol(gcol)
// The OS columns are processed in tiles of whole output rows (od, oh) so that col never exceeds
// conv_tile_elems() elements (a 3-D conv on a large volume would otherwise need CK x OS floats);
// the tile size depends only on the shapes, never on the thread count. col lives in a per-thread
// scratch slot that is reused across calls (no page faults per call; conv_scratch in conv.h).
// A pointwise conv (1x1x1 kernel, stride 1, no padding) uses x itself as col.
// Threads: vol2col splits col rows, col2vol splits input channels, gemm splits C itself, the bias
// splits output channels, its gradient (both algorithms) (image, channel) planes summed afterwards
// in image order. No output is written by two threads, so results do not depend on the thread count.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "tensor/cpu/conv.h"
#include "tensor/cpu/conv_direct.h"
#include "tensor/cpu/conv_winograd.h"
#include "tensor/cpu/gemm.h"
#include "tensor/cpu/parallel.h"

namespace gb::cpu {
namespace {

std::atomic<int64_t> g_tile_elems{int64_t(1) << 22};  // 4M elements: 16 MB of f32 per col buffer

bool pointwise(const ConvGeom& g) {
  for (int d = 0; d < 3; ++d)
    if (g.k[d] != 1 || g.stride[d] != 1 || g.pad[d] != 0) return false;
  return true;
}

// Output rows (od, oh) per tile: as many as fit g_tile_elems, at least one.
int64_t tile_rows(const ConvGeom& g, int64_t CK) {
  const int64_t rows = g.out[0] * g.out[1];
  return std::max<int64_t>(1, std::min(rows, g_tile_elems.load() / std::max<int64_t>(CK * g.out[2], 1)));
}

// Range [lo, hi) of output coordinates whose input coordinate o*s + off lies in [0, n).
inline void valid_range(int64_t n, int64_t s, int64_t off, int64_t nout, int64_t& lo, int64_t& hi) {
  // o*s + off >= 0  <=>  o >= ceil(-off / s);   o*s + off <= n - 1  <=>  o <= floor((n - 1 - off) / s)
  lo = off >= 0 ? 0 : (-off + s - 1) / s;
  const int64_t top = n - 1 - off;
  hi = top < 0 ? 0 : std::min(nout, top / s + 1);
  if (lo > hi) lo = hi;
}

// y [N, O, OS] += bias [O] per channel (nothing when bias is null).
template <class T>
void add_bias(const ConvGeom& g, const T* bias, T* y) {
  if (!bias) return;
  const int64_t OS = g.out_size();
  parallel_for(g.N * g.O, std::max<int64_t>(1, 32768 / std::max<int64_t>(OS, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T bv = bias[r % g.O];
      T* yr = y + r * OS;
      for (int64_t p = 0; p < OS; ++p) yr[p] += bv;
    }
  });
}

}  // namespace

template <class T>
T* conv_scratch(int slot, int64_t n) {
  thread_local std::unique_ptr<T[]> buf[3];
  thread_local int64_t cap[3] = {0, 0, 0};
  if (cap[slot] < n) {
    buf[slot].reset(new T[(size_t)n]);
    cap[slot] = n;
  }
  return buf[slot].get();
}
template float* conv_scratch<float>(int, int64_t);
template double* conv_scratch<double>(int, int64_t);

void set_conv_tile_elems(int64_t n) { g_tile_elems = std::max<int64_t>(n, 1); }
int64_t conv_tile_elems() { return g_tile_elems.load(); }

template <class T>
void vol2col(const ConvGeom& g, const T* x, int64_t r0, int64_t r1, T* col) {
  const int64_t K = g.k_size(), rows = g.Cg() * K, IS = g.in_size();
  const int64_t OH = g.out[1], OW = g.out[2], sw = g.stride[2], TS = (r1 - r0) * OW;
  parallel_for(rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(TS, 1)), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      const int64_t c = r / K, kk = r % K;
      const int64_t kd = kk / (g.k[1] * g.k[2]), kh = (kk / g.k[2]) % g.k[1], kw = kk % g.k[2];
      const T* xc = x + c * IS;
      T* out = col + r * TS;
      const int64_t offw = kw * g.dil[2] - g.pad[2];
      int64_t wlo, whi;
      valid_range(g.in[2], sw, offw, OW, wlo, whi);
      for (int64_t row = r0; row < r1; ++row) {
        const int64_t od = row / OH, oh = row % OH;
        T* o = out + (row - r0) * OW;
        const int64_t id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
        const int64_t ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
        if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) {
          std::fill(o, o + OW, T(0));
          continue;
        }
        const T* xr = xc + (id * g.in[1] + ih) * g.in[2];  // reads xr[ow * sw + offw], ow in [wlo, whi)
        std::fill(o, o + wlo, T(0));
        if (sw == 1) {
          if (whi > wlo) std::memcpy(o + wlo, xr + wlo + offw, sizeof(T) * (size_t)(whi - wlo));
        } else {
          for (int64_t ow = wlo; ow < whi; ++ow) o[ow] = xr[ow * sw + offw];
        }
        std::fill(o + whi, o + OW, T(0));
      }
    }
  });
}

template <class T>
void col2vol_add(const ConvGeom& g, const T* col, int64_t r0, int64_t r1, T* gx) {
  const int64_t K = g.k_size(), IS = g.in_size();
  const int64_t OH = g.out[1], OW = g.out[2], sw = g.stride[2], TS = (r1 - r0) * OW;
  // One channel's K rows only touch that channel of gx: split channels, keep rows in order.
  parallel_for(g.Cg(), 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c)
      for (int64_t kk = 0; kk < K; ++kk) {
        const int64_t kd = kk / (g.k[1] * g.k[2]), kh = (kk / g.k[2]) % g.k[1], kw = kk % g.k[2];
        const T* in = col + (c * K + kk) * TS;
        T* gc = gx + c * IS;
        const int64_t offw = kw * g.dil[2] - g.pad[2];
        int64_t wlo, whi;
        valid_range(g.in[2], sw, offw, OW, wlo, whi);
        for (int64_t row = r0; row < r1; ++row) {
          const int64_t od = row / OH, oh = row % OH;
          const int64_t id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
          const int64_t ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
          if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) continue;
          const T* i = in + (row - r0) * OW;
          T* xr = gc + (id * g.in[1] + ih) * g.in[2];
          for (int64_t ow = wlo; ow < whi; ++ow) xr[ow * sw + offw] += i[ow];
        }
      }
  });
}

template <class T>
void conv_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y) {
  if (conv_use_winograd(g, ConvPass::Forward)) {
    conv_winograd_forward(g, x, w, y, false);
    return add_bias(g, bias, y);
  }
  if (conv_use_direct(g, ConvPass::Forward)) return conv_direct_forward(g, x, w, bias, y);
  const int64_t Cg = g.Cg(), Og = g.Og(), CK = Cg * g.k_size(), IS = g.in_size(), OS = g.out_size();
  const int64_t OW = g.out[2], rows = g.out[0] * g.out[1];
  const bool pw = pointwise(g);
  const int64_t tr = pw ? rows : tile_rows(g, CK);
  T* col = pw ? nullptr : conv_scratch<T>(0, CK * tr * OW);  // col [CK, tile columns]
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const T* xg = x + (n * g.C + grp * Cg) * IS;  // [Cg, D, H, W]
      T* yg = y + (n * g.O + grp * Og) * OS;        // [Og, OS]
      const T* wg = w + grp * Og * CK;              // [Og, CK]
      if (pw) {
        gemm<T>(false, false, Og, OS, CK, T(1), wg, CK, xg, OS, T(0), yg, OS);
        continue;
      }
      for (int64_t r0 = 0; r0 < rows; r0 += tr) {
        const int64_t r1 = std::min(rows, r0 + tr), TS = (r1 - r0) * OW;
        vol2col(g, xg, r0, r1, col);
        gemm<T>(false, false, Og, TS, CK, T(1), wg, CK, col, TS, T(0), yg + r0 * OW, OS);
      }
    }
  add_bias(g, bias, y);
}

template <class T>
void conv_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gbias) {
  // Each gradient takes Winograd, the direct kernels or vol2col + gemm on its own (the rules differ).
  if (gx && conv_use_winograd(g, ConvPass::GradInput)) {
    conv_winograd_grad_input(g, w, gy, gx);
    gx = nullptr;
  }
  if (gx && conv_use_direct(g, ConvPass::GradInput)) {
    conv_direct_grad_input(g, w, gy, gx);
    gx = nullptr;
  }
  if (gw && conv_use_direct(g, ConvPass::GradWeight)) {
    conv_direct_grad_weight(g, x, gy, gw);
    gw = nullptr;
  }
  const int64_t Cg = g.Cg(), Og = g.Og(), CK = Cg * g.k_size(), IS = g.in_size(), OS = g.out_size();
  const int64_t OW = g.out[2], rows = g.out[0] * g.out[1];
  const bool pw = pointwise(g);
  const int64_t tr = pw ? rows : tile_rows(g, CK);
  T* col = (pw || !gw) ? nullptr : conv_scratch<T>(0, CK * tr * OW);   // col  [CK, tile] of x, for gw
  T* gcol = (pw || !gx) ? nullptr : conv_scratch<T>(1, CK * tr * OW);  // gcol [CK, tile], for gx
  for (int64_t n = 0; n < (gx || gw ? g.N : 0); ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const T* gyg = gy + (n * g.O + grp * Og) * OS;  // [Og, OS]
      const T* wg = w + grp * Og * CK;                // [Og, CK]
      const T* xg = gw ? x + (n * g.C + grp * Cg) * IS : nullptr;
      T* gxg = gx ? gx + (n * g.C + grp * Cg) * IS : nullptr;  // [Cg, D, H, W]
      T* gwg = gw ? gw + grp * Og * CK : nullptr;              // [Og, CK]
      if (pw) {
        if (gw) gemm<T>(false, true, Og, CK, OS, T(1), gyg, OS, xg, OS, T(1), gwg, CK);
        if (gx) gemm<T>(true, false, CK, OS, Og, T(1), wg, CK, gyg, OS, T(1), gxg, OS);
        continue;
      }
      for (int64_t r0 = 0; r0 < rows; r0 += tr) {
        const int64_t r1 = std::min(rows, r0 + tr), TS = (r1 - r0) * OW;
        if (gw) {
          vol2col(g, xg, r0, r1, col);
          gemm<T>(false, true, Og, CK, TS, T(1), gyg + r0 * OW, OS, col, TS, T(1), gwg, CK);
        }
        if (gx) {
          gemm<T>(true, false, CK, TS, Og, T(1), wg, CK, gyg + r0 * OW, OS, T(0), gcol, TS);
          col2vol_add(g, gcol, r0, r1, gxg);
        }
      }
    }
  if (gbias) {
    // Plane sums in double, 4 interleaved partial sums (p mod 4) so the adds do not wait on each
    // other, one (image, channel) plane per work item (the head has O = 3: split over images too);
    // then gbias[o] += planes summed over images in order. Fixed order: any thread count.
    std::vector<double> plane((size_t)(g.N * g.O));
    parallel_for(g.N * g.O, std::max<int64_t>(1, 16384 / std::max<int64_t>(OS, 1)), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* r = gy + i * OS;
        double a4[4] = {0, 0, 0, 0};
        int64_t p = 0;
        for (; p + 4 <= OS; p += 4)
          for (int k = 0; k < 4; ++k) a4[k] += (double)r[p + k];
        for (; p < OS; ++p) a4[p % 4] += (double)r[p];
        plane[(size_t)i] = (a4[0] + a4[1]) + (a4[2] + a4[3]);
      }
    });
    for (int64_t o = 0; o < g.O; ++o) {
      double acc = 0;
      for (int64_t n = 0; n < g.N; ++n) acc += plane[(size_t)(n * g.O + o)];
      gbias[o] += (T)acc;
    }
  }
}

#define GB_CONV_INST(T)                                                                        \
  template void vol2col<T>(const ConvGeom&, const T*, int64_t, int64_t, T*);                   \
  template void col2vol_add<T>(const ConvGeom&, const T*, int64_t, int64_t, T*);               \
  template void conv_forward<T>(const ConvGeom&, const T*, const T*, const T*, T*);            \
  template void conv_backward<T>(const ConvGeom&, const T*, const T*, const T*, T*, T*, T*);
GB_CONV_INST(float)
GB_CONV_INST(double)

}  // namespace gb::cpu

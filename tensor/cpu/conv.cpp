// Optimised convolution: vol2col + gemm per (image, group).
//   forward   y_g [Og, OS]   = w_g [Og, CK] @ col [CK, OS]              (CK = Cg*KD*KH*KW, OS = OD*OH*OW)
//   grad w    gw_g [Og, CK] += gy_g [Og, OS] @ col^T                    (images in order: deterministic)
//   grad x    gcol [CK, OS]  = w_g^T @ gy_g, then gx_g += col2vol(gcol)
// A pointwise conv (1x1x1 kernel, stride 1, no padding) uses x itself as col.
// Threads: vol2col splits col rows, col2vol splits input channels, gemm splits C itself, bias and
// its gradient split output channels. No output is written by two threads, so results do not depend
// on the thread count.
#include <algorithm>
#include <cstring>
#include <memory>

#include "tensor/cpu/conv.h"
#include "tensor/cpu/gemm.h"
#include "tensor/cpu/parallel.h"

namespace gb::cpu {
namespace {

bool pointwise(const ConvGeom& g) {
  for (int d = 0; d < 3; ++d)
    if (g.k[d] != 1 || g.stride[d] != 1 || g.pad[d] != 0) return false;
  return true;
}

// Range [lo, hi) of output coordinates whose input coordinate o*s + off lies in [0, n).
inline void valid_range(int64_t n, int64_t s, int64_t off, int64_t nout, int64_t& lo, int64_t& hi) {
  // o*s + off >= 0  <=>  o >= ceil(-off / s);   o*s + off <= n - 1  <=>  o <= floor((n - 1 - off) / s)
  lo = off >= 0 ? 0 : (-off + s - 1) / s;
  const int64_t top = n - 1 - off;
  hi = top < 0 ? 0 : std::min(nout, top / s + 1);
  if (lo > hi) lo = hi;
}

template <class T>
std::unique_ptr<T[]> buffer(int64_t n) {
  return std::unique_ptr<T[]>(new T[(size_t)std::max<int64_t>(n, 1)]);
}

}  // namespace

template <class T>
void vol2col(const ConvGeom& g, const T* x, T* col) {
  const int64_t K = g.k_size(), rows = g.Cg() * K, OS = g.out_size(), IS = g.in_size();
  const int64_t OW = g.out[2], sw = g.stride[2];
  parallel_for(rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(OS, 1)), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      const int64_t c = r / K, kk = r % K;
      const int64_t kd = kk / (g.k[1] * g.k[2]), kh = (kk / g.k[2]) % g.k[1], kw = kk % g.k[2];
      const T* xc = x + c * IS;
      T* out = col + r * OS;
      const int64_t offw = kw * g.dil[2] - g.pad[2];
      int64_t wlo, whi;
      valid_range(g.in[2], sw, offw, OW, wlo, whi);
      for (int64_t od = 0; od < g.out[0]; ++od) {
        const int64_t id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          T* o = out + (od * g.out[1] + oh) * OW;
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
    }
  });
}

template <class T>
void col2vol_add(const ConvGeom& g, const T* col, T* gx) {
  const int64_t K = g.k_size(), OS = g.out_size(), IS = g.in_size();
  const int64_t OW = g.out[2], sw = g.stride[2];
  // One channel's K rows only touch that channel of gx: split channels, keep rows in order.
  parallel_for(g.Cg(), 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c)
      for (int64_t kk = 0; kk < K; ++kk) {
        const int64_t kd = kk / (g.k[1] * g.k[2]), kh = (kk / g.k[2]) % g.k[1], kw = kk % g.k[2];
        const T* in = col + (c * K + kk) * OS;
        T* gc = gx + c * IS;
        const int64_t offw = kw * g.dil[2] - g.pad[2];
        int64_t wlo, whi;
        valid_range(g.in[2], sw, offw, OW, wlo, whi);
        for (int64_t od = 0; od < g.out[0]; ++od) {
          const int64_t id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
          if (id < 0 || id >= g.in[0]) continue;
          for (int64_t oh = 0; oh < g.out[1]; ++oh) {
            const int64_t ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
            if (ih < 0 || ih >= g.in[1]) continue;
            const T* i = in + (od * g.out[1] + oh) * OW;
            T* xr = gc + (id * g.in[1] + ih) * g.in[2];
            for (int64_t ow = wlo; ow < whi; ++ow) xr[ow * sw + offw] += i[ow];
          }
        }
      }
  });
}

template <class T>
void conv_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t Cg = g.Cg(), Og = g.Og(), CK = Cg * g.k_size(), IS = g.in_size(), OS = g.out_size();
  const bool pw = pointwise(g);
  auto col = pw ? nullptr : buffer<T>(CK * OS);  // col [CK, OS]
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const T* xg = x + (n * g.C + grp * Cg) * IS;  // [Cg, D, H, W]
      const T* cp = xg;
      if (!pw) {
        vol2col(g, xg, col.get());
        cp = col.get();
      }
      gemm<T>(false, false, Og, OS, CK, T(1), w + grp * Og * CK, CK, cp, OS, T(0), y + (n * g.O + grp * Og) * OS, OS);
    }
  if (bias)
    parallel_for(g.N * g.O, std::max<int64_t>(1, 32768 / std::max<int64_t>(OS, 1)), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T bv = bias[r % g.O];
        T* yr = y + r * OS;
        for (int64_t p = 0; p < OS; ++p) yr[p] += bv;
      }
    });
}

template <class T>
void conv_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gbias) {
  const int64_t Cg = g.Cg(), Og = g.Og(), CK = Cg * g.k_size(), IS = g.in_size(), OS = g.out_size();
  const bool pw = pointwise(g);
  auto col = (pw || !gw) ? nullptr : buffer<T>(CK * OS);   // col  [CK, OS] of x, for gw
  auto gcol = (pw || !gx) ? nullptr : buffer<T>(CK * OS);  // gcol [CK, OS], for gx
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const T* gyg = gy + (n * g.O + grp * Og) * OS;  // [Og, OS]
      const T* wg = w + grp * Og * CK;                // [Og, CK]
      if (gw) {
        const T* xg = x + (n * g.C + grp * Cg) * IS;
        const T* cp = xg;
        if (!pw) {
          vol2col(g, xg, col.get());
          cp = col.get();
        }
        gemm<T>(false, true, Og, CK, OS, T(1), gyg, OS, cp, OS, T(1), gw + grp * Og * CK, CK);
      }
      if (gx) {
        T* gxg = gx + (n * g.C + grp * Cg) * IS;  // [Cg, D, H, W]
        if (pw) {
          gemm<T>(true, false, CK, OS, Og, T(1), wg, CK, gyg, OS, T(1), gxg, OS);
        } else {
          gemm<T>(true, false, CK, OS, Og, T(1), wg, CK, gyg, OS, T(0), gcol.get(), OS);
          col2vol_add(g, gcol.get(), gxg);
        }
      }
    }
  if (gbias)
    parallel_for(g.O, 1, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        double acc = 0;
        for (int64_t n = 0; n < g.N; ++n) {
          const T* r = gy + (n * g.O + o) * OS;
          for (int64_t p = 0; p < OS; ++p) acc += (double)r[p];
        }
        gbias[o] += (T)acc;
      }
    });
}

#define GB_CONV_INST(T)                                                                        \
  template void vol2col<T>(const ConvGeom&, const T*, T*);                                     \
  template void col2vol_add<T>(const ConvGeom&, const T*, T*);                                 \
  template void conv_forward<T>(const ConvGeom&, const T*, const T*, const T*, T*);            \
  template void conv_backward<T>(const ConvGeom&, const T*, const T*, const T*, T*, T*, T*);
GB_CONV_INST(float)
GB_CONV_INST(double)

}  // namespace gb::cpu

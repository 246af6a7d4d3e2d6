// The arithmetic of the CUDA pool_upsample kernels (max pooling, linear resampling), plain C++ shared by the GPU
// (cuda/pool_upsample.cu) and its CPU emulation (tests/harness/cuda_emu.h); see cuda/kernel_common.h.
// Buffers are contiguous: x / gx [planes, D, H, W], y / gy / idx [planes, OD, OH, OW] (2-D = depth 1).
// Forwards are one item per output element. The backwards, which the CPU writes as scatters, are
// gathers: one item per gx element sums, in output order (the order the CPU's reference scatter adds
// them in), the contributions of the outputs that can reach it, computed per axis as a range.
#pragma once
#include <cmath>
#include <cstdint>

#include "cuda/kernel_common.h"
#include "tensor/backend.h"

namespace gb::cuda {

// ---------------------------------------------------------------- max pooling (tensor/cpu/pool.cpp)

template <class T>
GB_HD inline bool pool_is_nan(T v) {
  return v != v;
}

// y = the window's first maximum in (kd, kh, kw) order, idx = its flat index (d H + h) W + w in the
// plane; padding never wins (windows are clipped to the input), a NaN wins and propagates.
template <class T>
struct MaxPoolForwardItem {
  const T* x;
  T* y;
  int32_t* idx;
  PoolGeom g;
  GB_HD void operator()(int64_t i) const {
    const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
    const int64_t ow = i % OW, oh = (i / OW) % OH, od = (i / (OW * OH)) % OD, p = i / (OW * OH * OD);
    const T* xp = x + p * g.in[0] * g.in[1] * g.in[2];  // (PoolGeom's size helpers are host-only)
    const int64_t d0 = od * g.stride[0] - g.pad[0], h0 = oh * g.stride[1] - g.pad[1], w0 = ow * g.stride[2] - g.pad[2];
    const int64_t dlo = d0 > 0 ? d0 : 0, hlo = h0 > 0 ? h0 : 0, wlo = w0 > 0 ? w0 : 0;
    const int64_t dhi = d0 + g.k[0] < g.in[0] ? d0 + g.k[0] : g.in[0];
    const int64_t hhi = h0 + g.k[1] < g.in[1] ? h0 + g.k[1] : g.in[1];
    const int64_t whi = w0 + g.k[2] < g.in[2] ? w0 + g.k[2] : g.in[2];
    // Windows always hold at least one real element (padding <= kernel / 2 is checked by the op).
    int64_t best = (dlo * g.in[1] + hlo) * g.in[2] + wlo;
    T bv = xp[best];
    for (int64_t d = dlo; d < dhi; ++d)
      for (int64_t h = hlo; h < hhi; ++h)
        for (int64_t w = wlo; w < whi; ++w) {
          const int64_t j = (d * g.in[1] + h) * g.in[2] + w;
          const T v = xp[j];
          if (v > bv || (pool_is_nan(v) && !pool_is_nan(bv))) {
            bv = v;
            best = j;
          }
        }
    y[i] = bv;
    idx[i] = (int32_t)best;
  }
};

// The outputs along one axis whose window [o s - pad, o s - pad + k) holds input position x:
// o in [ceil((x + pad - k + 1) / s), floor((x + pad) / s)], clipped to [0, out). Empty when lo > hi
// (stride > kernel leaves gaps).
GB_HD inline void pool_out_range(int64_t x, int64_t k, int64_t s, int64_t pad, int64_t out, int64_t& lo, int64_t& hi) {
  const int64_t a = x + pad - k + 1, b = x + pad;  // b >= 0
  lo = a <= 0 ? 0 : (a + s - 1) / s;
  hi = b / s;
  if (hi > out - 1) hi = out - 1;
}

// gx[p, j] += sum of gy[p, o] over the outputs o (ascending) whose window holds j and whose idx[o] == j.
template <class T>
struct MaxPoolBackwardItem {
  const T* gy;
  const int32_t* idx;
  T* gx;
  PoolGeom g;
  GB_HD void operator()(int64_t i) const {
    const int64_t D = g.in[0], H = g.in[1], W = g.in[2];
    const int64_t w = i % W, h = (i / W) % H, d = (i / (W * H)) % D, p = i / (W * H * D);
    const int64_t j = (d * H + h) * W + w;
    int64_t dlo, dhi, hlo, hhi, wlo, whi;
    pool_out_range(d, g.k[0], g.stride[0], g.pad[0], g.out[0], dlo, dhi);
    pool_out_range(h, g.k[1], g.stride[1], g.pad[1], g.out[1], hlo, hhi);
    pool_out_range(w, g.k[2], g.stride[2], g.pad[2], g.out[2], wlo, whi);
    const int64_t OS = g.out[0] * g.out[1] * g.out[2];
    const T* gyp = gy + p * OS;
    const int32_t* ip = idx + p * OS;
    T acc = gx[i];
    for (int64_t od = dlo; od <= dhi; ++od)
      for (int64_t oh = hlo; oh <= hhi; ++oh)
        for (int64_t ow = wlo; ow <= whi; ++ow) {
          const int64_t o = (od * g.out[1] + oh) * g.out[2] + ow;
          if (ip[o] == j) acc += gyp[o];
        }
    gx[i] = acc;
  }
};

template <class Launch>
void max_pool_forward_impl(const Launch& launch, const PoolGeom& g, const Tensor& x, Tensor& y, Tensor& idx) {
  dispatch_float(y.dtype(), "max_pool_forward", [&](auto t) {
    using T = decltype(t);
    launch(g.planes * g.out_size(), MaxPoolForwardItem<T>{x.data<T>(), y.data<T>(), idx.data<int32_t>(), g});
  });
}

template <class Launch>
void max_pool_backward_impl(const Launch& launch, const PoolGeom& g, const Tensor& gy, const Tensor& idx, Tensor& gx) {
  if (g.out_size() == 0) return;
  dispatch_float(gx.dtype(), "max_pool_backward", [&](auto t) {
    using T = decltype(t);
    launch(g.planes * g.in_size(), MaxPoolBackwardItem<T>{gy.data<T>(), idx.data<int32_t>(), gx.data<T>(), g});
  });
}

// ---------------------------------------------------------------- linear resampling (tensor/cpu/upsample.h)

// src = scale o (align_corners) or scale (o + 0.5) - 0.5, rounded after each operation as the CPU's
// linear_taps does (no fused multiply-add on the device, so the taps are the CPU's bit for bit).
GB_HD inline double upsample_src(double scale, int64_t o, bool align_corners) {
#if defined(__CUDA_ARCH__)
  return align_corners ? __dmul_rn(scale, (double)o) : __dadd_rn(__dmul_rn(scale, (double)o + 0.5), -0.5);
#else
  return align_corners ? scale * (double)o : scale * ((double)o + 0.5) - 0.5;
#endif
}

// One axis of the resampling: the scale of tensor/cpu/upsample.cpp's linear_taps and the taps of
// output coordinate o: i0 <= i1 = min(i0 + 1, in - 1), weights l0 + l1 = 1 (i0 == i1: one tap, l0 = 1).
// i0 and i1 are non-decreasing in o, which the backward's ranges rely on.
struct UpsampleAxis {
  int64_t in = 1, out = 1;
  double scale = 0;
  bool align_corners = false;
  GB_HD void tap(int64_t o, int64_t& i0, int64_t& i1, double& l0, double& l1) const {
    double src = upsample_src(scale, o, align_corners);
    if (src < 0) src = 0;
    i0 = (int64_t)::floor(src);
    if (i0 > in - 1) i0 = in - 1;
    i1 = i0 + 1 < in - 1 ? i0 + 1 : in - 1;
    l1 = src - (double)i0;
    l1 = l1 < 0 ? 0.0 : (l1 > 1 ? 1.0 : l1);
    l0 = 1.0 - l1;
    if (i1 == i0) {
      l0 = 1.0;
      l1 = 0.0;
    }
  }
  // The weight (0 when unused) with which output o reads input position x.
  GB_HD double weight(int64_t o, int64_t x) const {
    int64_t i0, i1;
    double l0, l1;
    tap(o, i0, i1, l0, l1);
    return x == i0 ? l0 : (x == i1 ? l1 : 0.0);
  }
  // The outputs [lo, hi] that read input position x: since i0 <= i1 <= i0 + 1 and both are
  // non-decreasing in o, they are the o with i1(o) >= x and i0(o) <= x, a contiguous range found by
  // two binary searches (empty when lo > hi, e.g. a downsample skipping x).
  GB_HD void readers(int64_t x, int64_t& lo, int64_t& hi) const {
    int64_t a = 0, b = out;  // first o with i1(o) >= x, in [0, out]
    while (a < b) {
      const int64_t c = a + (b - a) / 2;
      int64_t i0, i1;
      double l0, l1;
      tap(c, i0, i1, l0, l1);
      if (i1 >= x) b = c; else a = c + 1;
    }
    lo = a;
    a = 0, b = out;  // first o with i0(o) > x, in [0, out]
    while (a < b) {
      const int64_t c = a + (b - a) / 2;
      int64_t i0, i1;
      double l0, l1;
      tap(c, i0, i1, l0, l1);
      if (i0 > x) b = c; else a = c + 1;
    }
    hi = a - 1;
  }
};

inline UpsampleAxis upsample_axis(int64_t in, int64_t out, bool align_corners) {
  UpsampleAxis ax;
  ax.in = in;
  ax.out = out;
  ax.align_corners = align_corners;
  ax.scale = align_corners ? (out > 1 ? (double)(in - 1) / (double)(out - 1) : 0.0) : (double)in / (double)out;
  return ax;
}

// y[p, od, oh, ow] = the reference's lerp along W, then H, then D (upsample_linear_forward_ref),
// the weights rounded to T as the CPU does.
template <class T>
struct UpsampleForwardItem {
  const T* x;
  T* y;
  UpsampleAxis ad, ah, aw;
  int64_t H, W;  // input plane [D, H, W]
  GB_HD T lerp_w(const T* row, int64_t w0, int64_t w1, T lw0, T lw1) const {
    return w1 == w0 ? row[w0] : lw0 * row[w0] + lw1 * row[w1];
  }
  GB_HD void operator()(int64_t i) const {
    const int64_t OD = ad.out, OH = ah.out, OW = aw.out;
    const int64_t ow = i % OW, oh = (i / OW) % OH, od = (i / (OW * OH)) % OD, p = i / (OW * OH * OD);
    int64_t d0, d1, h0, h1, w0, w1;
    double l[6];
    ad.tap(od, d0, d1, l[0], l[1]);
    ah.tap(oh, h0, h1, l[2], l[3]);
    aw.tap(ow, w0, w1, l[4], l[5]);
    const T ld0 = (T)l[0], ld1 = (T)l[1], lh0 = (T)l[2], lh1 = (T)l[3], lw0 = (T)l[4], lw1 = (T)l[5];
    const T* xp = x + p * ad.in * H * W;
    const T* x00 = xp + (d0 * H + h0) * W;
    const T* x01 = xp + (d0 * H + h1) * W;
    const T* x10 = xp + (d1 * H + h0) * W;
    const T* x11 = xp + (d1 * H + h1) * W;
    const T p0 = h1 == h0 ? lerp_w(x00, w0, w1, lw0, lw1)
                          : lh0 * lerp_w(x00, w0, w1, lw0, lw1) + lh1 * lerp_w(x01, w0, w1, lw0, lw1);
    if (d1 == d0) {
      y[i] = p0;
      return;
    }
    const T p1 = h1 == h0 ? lerp_w(x10, w0, w1, lw0, lw1)
                          : lh0 * lerp_w(x10, w0, w1, lw0, lw1) + lh1 * lerp_w(x11, w0, w1, lw0, lw1);
    y[i] = ld0 * p0 + ld1 * p1;
  }
};

// gx[p, d, h, w] += sum over the outputs (od, oh, ow) that read (d, h, w), in output order, of
// ((ld lh) gy) lw: the reference scatter's terms (upsample_linear_backward_ref) and order.
template <class T>
struct UpsampleBackwardItem {
  const T* gy;
  T* gx;
  UpsampleAxis ad, ah, aw;
  GB_HD void operator()(int64_t i) const {
    const int64_t D = ad.in, H = ah.in, W = aw.in, OH = ah.out, OW = aw.out;
    const int64_t w = i % W, h = (i / W) % H, d = (i / (W * H)) % D, p = i / (W * H * D);
    int64_t dlo, dhi, hlo, hhi, wlo, whi;
    ad.readers(d, dlo, dhi);
    ah.readers(h, hlo, hhi);
    aw.readers(w, wlo, whi);
    const T* gyp = gy + p * ad.out * OH * OW;
    T acc = gx[i];
    for (int64_t od = dlo; od <= dhi; ++od) {
      const T ld = (T)ad.weight(od, d);
      for (int64_t oh = hlo; oh <= hhi; ++oh) {
        const T wdh = ld * (T)ah.weight(oh, h);
        const T* gr = gyp + (od * OH + oh) * OW;
        for (int64_t ow = wlo; ow <= whi; ++ow) acc += wdh * gr[ow] * (T)aw.weight(ow, w);
      }
    }
    gx[i] = acc;
  }
};

template <class Launch>
void upsample_forward_impl(const Launch& launch, const UpsampleGeom& g, const Tensor& x, Tensor& y) {
  const UpsampleAxis ad = upsample_axis(g.in[0], g.out[0], g.align_corners);
  const UpsampleAxis ah = upsample_axis(g.in[1], g.out[1], g.align_corners);
  const UpsampleAxis aw = upsample_axis(g.in[2], g.out[2], g.align_corners);
  dispatch_float(y.dtype(), "upsample_forward", [&](auto t) {
    using T = decltype(t);
    launch(g.planes * g.out_size(), UpsampleForwardItem<T>{x.data<T>(), y.data<T>(), ad, ah, aw, g.in[1], g.in[2]});
  });
}

template <class Launch>
void upsample_backward_impl(const Launch& launch, const UpsampleGeom& g, const Tensor& gy, Tensor& gx) {
  if (g.out_size() == 0) return;
  const UpsampleAxis ad = upsample_axis(g.in[0], g.out[0], g.align_corners);
  const UpsampleAxis ah = upsample_axis(g.in[1], g.out[1], g.align_corners);
  const UpsampleAxis aw = upsample_axis(g.in[2], g.out[2], g.align_corners);
  dispatch_float(gx.dtype(), "upsample_backward", [&](auto t) {
    using T = decltype(t);
    launch(g.planes * g.in_size(), UpsampleBackwardItem<T>{gy.data<T>(), gx.data<T>(), ad, ah, aw});
  });
}

}  // namespace gb::cuda

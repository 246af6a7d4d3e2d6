// The arithmetic of the CUDA conv kernels (convolution forward and backward (2-D and 3-D, groups,
// stride, padding, dilation), weight standardisation), plain C++ shared by the GPU (cuda/conv.cu) and
// its CPU emulation (tests/harness/cuda_emu.h); see cuda/kernel_common.h.
//
// Plain direct kernels, one item per output element, each one dot product accumulated in double in
// the order of the CPU reference (tensor/cpu/conv_ref.cpp), then written (forward) or added
// (backward) once. Buffers are contiguous (tensor/cpu/conv.h):
//   x [N, C, D, H, W]   w [O, C/groups, KD, KH, KW]   bias [O]   y, gy [N, O, OD, OH, OW]
// A 2-D conv is the 3-D conv with D = KD = OD = 1. The input gradient, which the forward reads as a
// scatter, is a gather: each gx item finds, per kernel tap, the one output position (if any) whose
// window puts that tap on it (conv_out_coord). Tiled / implicit-GEMM kernels are the tuned variant's work.
#pragma once
#include <cmath>
#include <cstdint>

#include "cuda/kernel_common.h"
#include "tensor/backend.h"

namespace gb::cuda {

// ---- geometry the items carry: ConvGeom plus the sizes its (host-only) helpers compute.
struct ConvDims {
  ConvGeom g;
  int64_t Cg, Og;  // channels per group: input, output
  int64_t IS, OS;  // spatial sizes: D*H*W, OD*OH*OW
  int64_t KS;      // taps per channel: KD*KH*KW
};
inline ConvDims conv_dims(const ConvGeom& g) { return {g, g.Cg(), g.Og(), g.in_size(), g.out_size(), g.k_size()}; }

// Input coordinate that output coordinate o reads through tap k along spatial dim d (outside
// [0, in[d]) when the tap reads padding).
GB_HD inline int64_t conv_in_coord(const ConvGeom& g, int d, int64_t o, int64_t k) {
  return o * g.stride[d] - g.pad[d] + k * g.dil[d];
}
GB_HD inline bool conv_in_bounds(const ConvGeom& g, int d, int64_t i) { return i >= 0 && i < g.in[d]; }

// The gather: the output coordinate whose tap k reads input coordinate i along dim d, i.e.
// o = (i + pad - k*dil) / stride when that divides exactly and 0 <= o < out[d]; -1 when none does.
GB_HD inline int64_t conv_out_coord(const ConvGeom& g, int d, int64_t i, int64_t k) {
  const int64_t t = i + g.pad[d] - k * g.dil[d];
  if (t < 0 || t % g.stride[d] != 0) return -1;
  const int64_t o = t / g.stride[d];
  return o < g.out[d] ? o : -1;
}

// Flat index of (a, b, c) in a row-major [S0, S1, S2] block.
GB_HD inline int64_t flat3(const std::array<int64_t, 3>& S, int64_t a, int64_t b, int64_t c) {
  return (a * S[1] + b) * S[2] + c;
}

// Flat index i of a row-major [*, B, S0, S1, S2] buffer split into its coordinates (a, b, s0, s1, s2):
// (n, o, od, oh, ow) of y, (n, c, id, ih, iw) of x, (o, c, kd, kh, kw) of w.
struct Idx5 {
  int64_t a, b, s[3];
};
GB_HD inline Idx5 split5(int64_t i, int64_t B, const std::array<int64_t, 3>& S) {
  Idx5 r;
  r.s[2] = i % S[2];
  i /= S[2];
  r.s[1] = i % S[1];
  i /= S[1];
  r.s[0] = i % S[0];
  i /= S[0];
  r.b = i % B;
  r.a = i / B;
  return r;
}

// y[n, o, p] = bias[o] + sum over c of o's group, taps k inside the input: x[n, c, in(p, k)] w[o, c, k].
// One item per y element (n, o, od, oh, ow); bias may be null.
template <class T>
struct ConvForwardItem {
  const T *x, *w, *bias;
  T* y;
  ConvDims cd;
  GB_HD void operator()(int64_t i) const {
    const ConvGeom& g = cd.g;
    const Idx5 p = split5(i, g.O, g.out);
    const int64_t n = p.a, o = p.b, grp = o / cd.Og;
    const T* xg = x + (n * g.C + grp * cd.Cg) * cd.IS;  // [Cg, D, H, W]
    const T* wo = w + o * cd.Cg * cd.KS;                 // [Cg, KD, KH, KW]
    double acc = bias ? (double)bias[o] : 0.0;
    for (int64_t c = 0; c < cd.Cg; ++c)
      for (int64_t kd = 0; kd < g.k[0]; ++kd) {
        const int64_t id = conv_in_coord(g, 0, p.s[0], kd);
        if (!conv_in_bounds(g, 0, id)) continue;
        for (int64_t kh = 0; kh < g.k[1]; ++kh) {
          const int64_t ih = conv_in_coord(g, 1, p.s[1], kh);
          if (!conv_in_bounds(g, 1, ih)) continue;
          for (int64_t kw = 0; kw < g.k[2]; ++kw) {
            const int64_t iw = conv_in_coord(g, 2, p.s[2], kw);
            if (!conv_in_bounds(g, 2, iw)) continue;
            acc += (double)xg[c * cd.IS + flat3(g.in, id, ih, iw)] * (double)wo[c * cd.KS + flat3(g.k, kd, kh, kw)];
          }
        }
      }
    y[i] = (T)acc;
  }
};

// gx[n, c, q] += sum over o of c's group, taps k with an output position p = conv_out_coord(q, k):
// w[o, c, k] gy[n, o, p]. One item per gx element (n, c, id, ih, iw), a gather.
template <class T>
struct ConvBackwardDataItem {
  const T *w, *gy;
  T* gx;
  ConvDims cd;
  GB_HD void operator()(int64_t i) const {
    const ConvGeom& g = cd.g;
    const Idx5 q = split5(i, g.C, g.in);
    const int64_t n = q.a, c = q.b, grp = c / cd.Cg, cl = c % cd.Cg;
    double acc = 0;
    for (int64_t ol = 0; ol < cd.Og; ++ol) {
      const int64_t o = grp * cd.Og + ol;
      const T* gyo = gy + (n * g.O + o) * cd.OS;  // [OD, OH, OW]
      const T* wo = w + (o * cd.Cg + cl) * cd.KS;  // [KD, KH, KW]
      for (int64_t kd = 0; kd < g.k[0]; ++kd) {
        const int64_t od = conv_out_coord(g, 0, q.s[0], kd);
        if (od < 0) continue;
        for (int64_t kh = 0; kh < g.k[1]; ++kh) {
          const int64_t oh = conv_out_coord(g, 1, q.s[1], kh);
          if (oh < 0) continue;
          for (int64_t kw = 0; kw < g.k[2]; ++kw) {
            const int64_t ow = conv_out_coord(g, 2, q.s[2], kw);
            if (ow < 0) continue;
            acc += (double)wo[flat3(g.k, kd, kh, kw)] * (double)gyo[flat3(g.out, od, oh, ow)];
          }
        }
      }
    }
    gx[i] += (T)acc;
  }
};

// gw[o, c, k] += sum over n, output positions p whose tap k is inside the input: gy[n, o, p] x[n, c', in(p, k)]
// (c' = c's channel in o's group). One item per gw element (o, c, kd, kh, kw).
template <class T>
struct ConvBackwardFilterItem {
  const T *x, *gy;
  T* gw;
  ConvDims cd;
  GB_HD void operator()(int64_t i) const {
    const ConvGeom& g = cd.g;
    const Idx5 t = split5(i, cd.Cg, g.k);
    const int64_t o = t.a, cl = t.b, grp = o / cd.Og;
    double acc = 0;
    for (int64_t n = 0; n < g.N; ++n) {
      const T* xc = x + (n * g.C + grp * cd.Cg + cl) * cd.IS;  // [D, H, W]
      const T* gyo = gy + (n * g.O + o) * cd.OS;                // [OD, OH, OW]
      for (int64_t od = 0; od < g.out[0]; ++od) {
        const int64_t id = conv_in_coord(g, 0, od, t.s[0]);
        if (!conv_in_bounds(g, 0, id)) continue;
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          const int64_t ih = conv_in_coord(g, 1, oh, t.s[1]);
          if (!conv_in_bounds(g, 1, ih)) continue;
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            const int64_t iw = conv_in_coord(g, 2, ow, t.s[2]);
            if (!conv_in_bounds(g, 2, iw)) continue;
            acc += (double)gyo[flat3(g.out, od, oh, ow)] * (double)xc[flat3(g.in, id, ih, iw)];
          }
        }
      }
    }
    gw[i] += (T)acc;
  }
};

// gbias[o] += sum over n, p of gy[n, o, p]. One item per o.
template <class T>
struct ConvBackwardBiasItem {
  const T* gy;
  T* gbias;
  int64_t N, O, OS;
  GB_HD void operator()(int64_t o) const {
    double acc = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t p = 0; p < OS; ++p) acc += (double)gy[(n * O + o) * OS + p];
    gbias[o] += (T)acc;
  }
};

template <class Launch>
void conv_forward_impl(const Launch& launch, const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& bias,
                       Tensor& y) {
  const ConvDims cd = conv_dims(g);
  dispatch_float(y.dtype(), "conv_forward", [&](auto t) {
    using T = decltype(t);
    launch(g.N * g.O * cd.OS, ConvForwardItem<T>{x.data<T>(), w.data<T>(), data_or_null<T>(bias), y.data<T>(), cd});
  });
}

// Three independent passes, each only when its gradient is wanted (x is absent when gw is not, w
// when gx is not).
template <class Launch>
void conv_backward_impl(const Launch& launch, const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy,
                        Tensor& gx, Tensor& gw, Tensor& gbias) {
  const ConvDims cd = conv_dims(g);
  dispatch_float(gy.dtype(), "conv_backward", [&](auto t) {
    using T = decltype(t);
    if (gx.defined())
      launch(g.N * g.C * cd.IS, ConvBackwardDataItem<T>{w.data<T>(), gy.data<T>(), gx.data<T>(), cd});
    if (gw.defined())
      launch(g.O * cd.Cg * cd.KS, ConvBackwardFilterItem<T>{x.data<T>(), gy.data<T>(), gw.data<T>(), cd});
    if (gbias.defined()) launch(g.O, ConvBackwardBiasItem<T>{gy.data<T>(), gbias.data<T>(), g.N, g.O, cd.OS});
  });
}

// ---- weight standardisation over rows of w [O, K] (K = everything after dim 0): one item per row,
// statistics in double, two passes, biased variance, as the CPU (conv_ref.cpp row_stats).
template <class T>
GB_HD inline void ws_row_stats(const T* r, int64_t K, double eps, double& mean, double& rstd) {
  double s = 0;
  for (int64_t k = 0; k < K; ++k) s += (double)r[k];
  mean = s / (double)K;
  double v = 0;
  for (int64_t k = 0; k < K; ++k) v += ((double)r[k] - mean) * ((double)r[k] - mean);
  rstd = 1.0 / m::sqrt(v / (double)K + eps);
}

// y = (w - mean) * rstd.
template <class T>
struct WeightStdForwardItem {
  const T* w;
  T* y;
  int64_t K;
  double eps;
  GB_HD void operator()(int64_t o) const {
    const T* r = w + o * K;
    double mean, rstd;
    ws_row_stats(r, K, eps, mean, rstd);
    for (int64_t k = 0; k < K; ++k) y[o * K + k] = (T)(((double)r[k] - mean) * rstd);
  }
};

// gw += rstd * (gy - mean(gy) - xhat * mean(gy * xhat)), xhat = (w - mean) * rstd.
template <class T>
struct WeightStdBackwardItem {
  const T *w, *gy;
  T* gw;
  int64_t K;
  double eps;
  GB_HD void operator()(int64_t o) const {
    const T* r = w + o * K;
    const T* g = gy + o * K;
    double mean, rstd;
    ws_row_stats(r, K, eps, mean, rstd);
    double sg = 0, sgx = 0;  // sum(gy), sum(gy * xhat)
    for (int64_t k = 0; k < K; ++k) {
      sg += (double)g[k];
      sgx += (double)g[k] * ((double)r[k] - mean) * rstd;
    }
    const double mg = sg / (double)K, mgx = sgx / (double)K;
    for (int64_t k = 0; k < K; ++k) {
      const double xhat = ((double)r[k] - mean) * rstd;
      gw[o * K + k] += (T)(rstd * ((double)g[k] - mg - xhat * mgx));
    }
  }
};

template <class Launch>
void weight_std_forward_impl(const Launch& launch, const Tensor& w, double eps, Tensor& y) {
  const int64_t O = w.size(0), K = O ? w.numel() / O : 0;
  dispatch_float(y.dtype(), "weight_std_forward", [&](auto t) {
    using T = decltype(t);
    launch(O, WeightStdForwardItem<T>{w.data<T>(), y.data<T>(), K, eps});
  });
}

template <class Launch>
void weight_std_backward_impl(const Launch& launch, const Tensor& w, double eps, const Tensor& gy, Tensor& gw) {
  const int64_t O = w.size(0), K = O ? w.numel() / O : 0;
  dispatch_float(gw.dtype(), "weight_std_backward", [&](auto t) {
    using T = decltype(t);
    launch(O, WeightStdBackwardItem<T>{w.data<T>(), gy.data<T>(), gw.data<T>(), K, eps});
  });
}

}  // namespace gb::cuda

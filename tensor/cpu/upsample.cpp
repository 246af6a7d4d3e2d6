#include "tensor/cpu/upsample.h"

#include <algorithm>
#include <cmath>

#include "tensor/cpu/parallel.h"

namespace gb::cpu {

std::vector<LinearTap> linear_taps(int64_t in, int64_t out, bool align_corners) {
  std::vector<LinearTap> t((size_t)std::max<int64_t>(out, 0));
  const double scale = align_corners ? (out > 1 ? (double)(in - 1) / (double)(out - 1) : 0.0)
                                     : (double)in / (double)out;
  for (int64_t o = 0; o < out; ++o) {
    double src = align_corners ? scale * (double)o : scale * ((double)o + 0.5) - 0.5;
    if (src < 0) src = 0;
    LinearTap& k = t[(size_t)o];
    k.i0 = std::min<int64_t>((int64_t)std::floor(src), in - 1);
    k.i1 = std::min<int64_t>(k.i0 + 1, in - 1);
    k.l1 = std::min(std::max(src - (double)k.i0, 0.0), 1.0);
    k.l0 = 1.0 - k.l1;
    if (k.i1 == k.i0) {  // clamped at the last element: one tap
      k.l0 = 1.0;
      k.l1 = 0.0;
    }
  }
  return t;
}

namespace {

// Per-dim taps with weights converted to T once.
template <class T>
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<T> l0, l1;
  explicit Taps(const std::vector<LinearTap>& t) {
    for (auto& k : t) {
      i0.push_back(k.i0);
      i1.push_back(k.i1);
      l0.push_back((T)k.l0);
      l1.push_back((T)k.l1);
    }
  }
};

}  // namespace

// Per-thread scratch, grown on demand and kept (no page faults per call).
template <class T>
T* scratch(int64_t n) {
  thread_local std::vector<T> buf;
  if ((int64_t)buf.size() < n) buf.resize((size_t)n);
  return buf.data();
}

// The optimised kernels are separable: the W interpolation of an input row is computed once and
// shared by every output row that reads it, and the H and D mixes are whole-row multiply-adds the
// compiler vectorises. The forward performs exactly the reference's operations in the reference's
// order (lerp along W, then H, then D), so it is bitwise equal to it; the backward sums an input row's
// contributions in a different order (H/D mix first, then the W scatter), equal to rounding.

// Forward: one work unit = one (plane, od): hx[s][h] = input row (d_s, h) interpolated along W, for
// the one or two depth taps s; then y row (od, oh) = mix of hx rows.
template <class T>
void upsample_linear_forward(const UpsampleGeom& g, const T* x, T* y) {
  const Taps<T> td(linear_taps(g.in[0], g.out[0], g.align_corners));
  const Taps<T> th(linear_taps(g.in[1], g.out[1], g.align_corners));
  const Taps<T> tw(linear_taps(g.in[2], g.out[2], g.align_corners));
  const int64_t IS = g.in_size(), H = g.in[1], W = g.in[2], OD = g.out[0], OH = g.out[1], OW = g.out[2];
  std::vector<char> used((size_t)H, 0);  // input rows some output row reads
  for (int64_t oh = 0; oh < OH; ++oh) used[(size_t)th.i0[oh]] = used[(size_t)th.i1[oh]] = 1;
  const int64_t units = g.planes * OD;
  parallel_for(units, std::max<int64_t>(1, 8192 / std::max<int64_t>(OH * OW, 1)), [&](int64_t ub, int64_t ue) {
    T* hx = scratch<T>(2 * H * OW + 2 * OW);  // hx [2 depth taps][H][OW], then mix [2][OW]
    T* mix = hx + 2 * H * OW;
    for (int64_t u = ub; u < ue; ++u) {
      const int64_t p = u / OD, od = u % OD;
      const T* xp = x + p * IS;
      const int64_t dsv[2] = {td.i0[od], td.i1[od]};
      const int nd = dsv[1] == dsv[0] ? 1 : 2;
      for (int s = 0; s < nd; ++s)
        for (int64_t h = 0; h < H; ++h) {
          if (!used[(size_t)h]) continue;
          const T* row = xp + (dsv[s] * H + h) * W;
          T* o = hx + (s * H + h) * OW;
          for (int64_t ow = 0; ow < OW; ++ow) {
            const int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
            o[ow] = w1 == w0 ? row[w0] : tw.l0[ow] * row[w0] + tw.l1[ow] * row[w1];
          }
        }
      const T ld0 = td.l0[od], ld1 = td.l1[od];
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h0 = th.i0[oh], h1 = th.i1[oh];
        const T lh0 = th.l0[oh], lh1 = th.l1[oh];
        T* yr = y + ((p * OD + od) * OH + oh) * OW;
        for (int s = 0; s < nd; ++s) {
          const T* a = hx + (s * H + h0) * OW;
          const T* b = hx + (s * H + h1) * OW;
          T* m = nd == 1 ? yr : mix + s * OW;
          if (h1 == h0)
            for (int64_t ow = 0; ow < OW; ++ow) m[ow] = a[ow];
          else
            for (int64_t ow = 0; ow < OW; ++ow) m[ow] = lh0 * a[ow] + lh1 * b[ow];
        }
        if (nd == 2)
          for (int64_t ow = 0; ow < OW; ++ow) yr[ow] = ld0 * mix[ow] + ld1 * mix[OW + ow];
      }
    }
  });
}

// Backward: one work unit = one plane (its gx is written by one thread). G [D][H][OW] gathers the
// gradient of every W-interpolated input row (the H/D mix transposed, whole-row adds in output order),
// then each input row scatters its G row along W.
template <class T>
void upsample_linear_backward(const UpsampleGeom& g, const T* gy, T* gx) {
  const Taps<T> td(linear_taps(g.in[0], g.out[0], g.align_corners));
  const Taps<T> th(linear_taps(g.in[1], g.out[1], g.align_corners));
  const Taps<T> tw(linear_taps(g.in[2], g.out[2], g.align_corners));
  const int64_t IS = g.in_size(), OS = g.out_size(), D = g.in[0], H = g.in[1], W = g.in[2];
  const int64_t OD = g.out[0], OH = g.out[1], OW = g.out[2];
  parallel_for(g.planes, std::max<int64_t>(1, 8192 / std::max<int64_t>(OS, 1)), [&](int64_t pb, int64_t pe) {
    T* G = scratch<T>(D * H * OW);
    for (int64_t p = pb; p < pe; ++p) {
      std::fill(G, G + D * H * OW, T(0));
      const T* gyp = gy + p * OS;
      for (int64_t od = 0; od < OD; ++od)
        for (int64_t oh = 0; oh < OH; ++oh) {
          const int64_t ds[2] = {td.i0[od], td.i1[od]}, hs[2] = {th.i0[oh], th.i1[oh]};
          const T ldv[2] = {td.l0[od], td.l1[od]}, lhv[2] = {th.l0[oh], th.l1[oh]};
          const int nd = ds[1] == ds[0] ? 1 : 2, nh = hs[1] == hs[0] ? 1 : 2;
          const T* gr = gyp + (od * OH + oh) * OW;
          for (int a = 0; a < nd; ++a)
            for (int b = 0; b < nh; ++b) {
              const T wdh = ldv[a] * lhv[b];
              T* acc = G + (ds[a] * H + hs[b]) * OW;
              for (int64_t ow = 0; ow < OW; ++ow) acc[ow] += wdh * gr[ow];
            }
        }
      T* gp = gx + p * IS;
      for (int64_t r = 0; r < D * H; ++r) {
        const T* acc = G + r * OW;
        T* row = gp + r * W;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
          if (w1 == w0) {
            row[w0] += acc[ow];
          } else {
            row[w0] += acc[ow] * tw.l0[ow];
            row[w1] += acc[ow] * tw.l1[ow];
          }
        }
      }
    }
  });
}

// The reference kernels: every output element (forward) or gradient contribution (backward) on its
// own, straight from the formulas in upsample.h.
template <class T>
void upsample_linear_forward_ref(const UpsampleGeom& g, const T* x, T* y) {
  const Taps<T> td(linear_taps(g.in[0], g.out[0], g.align_corners));
  const Taps<T> th(linear_taps(g.in[1], g.out[1], g.align_corners));
  const Taps<T> tw(linear_taps(g.in[2], g.out[2], g.align_corners));
  const int64_t IS = g.in_size(), H = g.in[1], W = g.in[2], OW = g.out[2];
  const int64_t rows = g.planes * g.out[0] * g.out[1];  // one row = one (plane, od, oh)
  parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(OW, 1)), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      const int64_t oh = r % g.out[1], od = (r / g.out[1]) % g.out[0], p = r / (g.out[1] * g.out[0]);
      const T* xp = x + p * IS;
      T* yr = y + r * OW;
      // Rows of x feeding this output row: (d, h) for the (up to) 2x2 taps.
      const int64_t d0 = td.i0[od], d1 = td.i1[od], h0 = th.i0[oh], h1 = th.i1[oh];
      const T ld0 = td.l0[od], ld1 = td.l1[od], lh0 = th.l0[oh], lh1 = th.l1[oh];
      const T* x00 = xp + (d0 * H + h0) * W;
      const T* x01 = xp + (d0 * H + h1) * W;
      const T* x10 = xp + (d1 * H + h0) * W;
      const T* x11 = xp + (d1 * H + h1) * W;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
        const T lw0 = tw.l0[ow], lw1 = tw.l1[ow];
        auto lerp_w = [&](const T* row) { return w1 == w0 ? row[w0] : lw0 * row[w0] + lw1 * row[w1]; };
        auto plane = [&](const T* a, const T* b) { return h1 == h0 ? lerp_w(a) : lh0 * lerp_w(a) + lh1 * lerp_w(b); };
        yr[ow] = d1 == d0 ? plane(x00, x01) : ld0 * plane(x00, x01) + ld1 * plane(x10, x11);
      }
    }
  });
}

template <class T>
void upsample_linear_backward_ref(const UpsampleGeom& g, const T* gy, T* gx) {
  const Taps<T> td(linear_taps(g.in[0], g.out[0], g.align_corners));
  const Taps<T> th(linear_taps(g.in[1], g.out[1], g.align_corners));
  const Taps<T> tw(linear_taps(g.in[2], g.out[2], g.align_corners));
  const int64_t IS = g.in_size(), OS = g.out_size(), H = g.in[1], W = g.in[2];
  // Scatter: each plane of gx is written by one thread, in output order.
  parallel_for(g.planes, std::max<int64_t>(1, 8192 / std::max<int64_t>(OS, 1)), [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      T* gp = gx + p * IS;
      const T* gyp = gy + p * OS;
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          const int64_t ds[2] = {td.i0[od], td.i1[od]}, hs[2] = {th.i0[oh], th.i1[oh]};
          const T ldv[2] = {td.l0[od], td.l1[od]}, lhv[2] = {th.l0[oh], th.l1[oh]};
          const int nd = ds[1] == ds[0] ? 1 : 2, nh = hs[1] == hs[0] ? 1 : 2;
          const T* gr = gyp + (od * g.out[1] + oh) * g.out[2];
          for (int a = 0; a < nd; ++a)
            for (int b = 0; b < nh; ++b) {
              const T wdh = ldv[a] * lhv[b];
              T* row = gp + (ds[a] * H + hs[b]) * W;
              for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                const int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
                const T v = wdh * gr[ow];
                if (w1 == w0) {
                  row[w0] += v;
                } else {
                  row[w0] += v * tw.l0[ow];
                  row[w1] += v * tw.l1[ow];
                }
              }
            }
        }
    }
  });
}

template void upsample_linear_forward<float>(const UpsampleGeom&, const float*, float*);
template void upsample_linear_forward<double>(const UpsampleGeom&, const double*, double*);
template void upsample_linear_backward<float>(const UpsampleGeom&, const float*, float*);
template void upsample_linear_backward<double>(const UpsampleGeom&, const double*, double*);
template void upsample_linear_forward_ref<float>(const UpsampleGeom&, const float*, float*);
template void upsample_linear_forward_ref<double>(const UpsampleGeom&, const double*, double*);
template void upsample_linear_backward_ref<float>(const UpsampleGeom&, const float*, float*);
template void upsample_linear_backward_ref<double>(const UpsampleGeom&, const double*, double*);

}  // namespace gb::cpu

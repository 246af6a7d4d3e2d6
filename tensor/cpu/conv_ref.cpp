// Reference convolution: direct loops, the spec for the optimised path and for CUDA kernels.
// Each output (y element, gx element, gw element, gbias element) is one dot product accumulated in
// double in a fixed order, then written (forward) or added (backward) once.
// Also the single weight-standardisation kernel (it is a per-row normalisation, cheap next to a conv).
#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/cpu/conv.h"
#include "tensor/cpu/parallel.h"

namespace gb::cpu {

// Input coordinate read by output coordinate `o` through kernel tap `k` along one dimension.
static inline int64_t in_coord(const ConvGeom& g, int d, int64_t o, int64_t k) {
  return o * g.stride[d] - g.pad[d] + k * g.dil[d];
}

template <class T>
void conv_forward_ref(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t Cg = g.Cg(), Og = g.Og(), K = g.k_size(), IS = g.in_size(), OS = g.out_size();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o) {
      const int64_t grp = o / Og;
      const T* xg = x + (n * g.C + grp * Cg) * IS;  // [Cg, D, H, W]
      const T* wo = w + o * Cg * K;                  // [Cg, KD, KH, KW]
      T* yo = y + (n * g.O + o) * OS;                // [OD, OH, OW]
      for (int64_t od = 0; od < g.out[0]; ++od)
        for (int64_t oh = 0; oh < g.out[1]; ++oh)
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            double acc = bias ? (double)bias[o] : 0.0;
            for (int64_t c = 0; c < Cg; ++c)
              for (int64_t kd = 0; kd < g.k[0]; ++kd) {
                const int64_t id = in_coord(g, 0, od, kd);
                if (id < 0 || id >= g.in[0]) continue;
                for (int64_t kh = 0; kh < g.k[1]; ++kh) {
                  const int64_t ih = in_coord(g, 1, oh, kh);
                  if (ih < 0 || ih >= g.in[1]) continue;
                  for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                    const int64_t iw = in_coord(g, 2, ow, kw);
                    if (iw < 0 || iw >= g.in[2]) continue;
                    acc += (double)xg[((c * g.in[0] + id) * g.in[1] + ih) * g.in[2] + iw] *
                           (double)wo[((c * g.k[0] + kd) * g.k[1] + kh) * g.k[2] + kw];
                  }
                }
              }
            yo[(od * g.out[1] + oh) * g.out[2] + ow] = (T)acc;
          }
    }
}

// Output coordinate that reads input coordinate i through tap k, or -1 when none does.
static inline int64_t out_coord(const ConvGeom& g, int d, int64_t i, int64_t k) {
  const int64_t t = i + g.pad[d] - k * g.dil[d];
  if (t < 0 || t % g.stride[d] != 0) return -1;
  const int64_t o = t / g.stride[d];
  return o < g.out[d] ? o : -1;
}

template <class T>
void conv_backward_ref(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gbias) {
  const int64_t Cg = g.Cg(), Og = g.Og(), K = g.k_size(), IS = g.in_size(), OS = g.out_size();
  // gx[n, c, i] = sum over o in c's group, taps k with an output position p reading i: w[o, c, k] gy[n, o, p]
  if (gx)
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t c = 0; c < g.C; ++c) {
        const int64_t grp = c / Cg, cl = c % Cg;
        for (int64_t id = 0; id < g.in[0]; ++id)
          for (int64_t ih = 0; ih < g.in[1]; ++ih)
            for (int64_t iw = 0; iw < g.in[2]; ++iw) {
              double acc = 0;
              for (int64_t ol = 0; ol < Og; ++ol) {
                const int64_t o = grp * Og + ol;
                const T* gyo = gy + (n * g.O + o) * OS;
                const T* wo = w + (o * Cg + cl) * K;
                for (int64_t kd = 0; kd < g.k[0]; ++kd) {
                  const int64_t od = out_coord(g, 0, id, kd);
                  if (od < 0) continue;
                  for (int64_t kh = 0; kh < g.k[1]; ++kh) {
                    const int64_t oh = out_coord(g, 1, ih, kh);
                    if (oh < 0) continue;
                    for (int64_t kw = 0; kw < g.k[2]; ++kw) {
                      const int64_t ow = out_coord(g, 2, iw, kw);
                      if (ow < 0) continue;
                      acc += (double)wo[(kd * g.k[1] + kh) * g.k[2] + kw] *
                             (double)gyo[(od * g.out[1] + oh) * g.out[2] + ow];
                    }
                  }
                }
              }
              gx[(n * g.C + c) * IS + (id * g.in[1] + ih) * g.in[2] + iw] += (T)acc;
            }
      }
  // gw[o, c, k] = sum over n and output positions p: gy[n, o, p] x[n, c', p*stride - pad + k*dil]
  if (gw)
    for (int64_t o = 0; o < g.O; ++o) {
      const int64_t grp = o / Og;
      for (int64_t cl = 0; cl < Cg; ++cl)
        for (int64_t kd = 0; kd < g.k[0]; ++kd)
          for (int64_t kh = 0; kh < g.k[1]; ++kh)
            for (int64_t kw = 0; kw < g.k[2]; ++kw) {
              double acc = 0;
              for (int64_t n = 0; n < g.N; ++n) {
                const T* xc = x + (n * g.C + grp * Cg + cl) * IS;
                const T* gyo = gy + (n * g.O + o) * OS;
                for (int64_t od = 0; od < g.out[0]; ++od) {
                  const int64_t id = in_coord(g, 0, od, kd);
                  if (id < 0 || id >= g.in[0]) continue;
                  for (int64_t oh = 0; oh < g.out[1]; ++oh) {
                    const int64_t ih = in_coord(g, 1, oh, kh);
                    if (ih < 0 || ih >= g.in[1]) continue;
                    for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                      const int64_t iw = in_coord(g, 2, ow, kw);
                      if (iw < 0 || iw >= g.in[2]) continue;
                      acc += (double)gyo[(od * g.out[1] + oh) * g.out[2] + ow] *
                             (double)xc[(id * g.in[1] + ih) * g.in[2] + iw];
                    }
                  }
                }
              }
              gw[((o * Cg + cl) * g.k[0] + kd) * g.k[1] * g.k[2] + kh * g.k[2] + kw] += (T)acc;
            }
    }
  // gbias[o] = sum over n, p of gy[n, o, p]
  if (gbias)
    for (int64_t o = 0; o < g.O; ++o) {
      double acc = 0;
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t p = 0; p < OS; ++p) acc += (double)gy[(n * g.O + o) * OS + p];
      gbias[o] += (T)acc;
    }
}

// ---------------------------------------------------------------- weight standardisation
// Row statistics in double: mean and rstd = 1 / sqrt(biased var + eps).
template <class T>
static void row_stats(const T* r, int64_t K, double eps, double& mean, double& rstd) {
  double s = 0;
  for (int64_t k = 0; k < K; ++k) s += (double)r[k];
  mean = s / (double)K;
  double v = 0;
  for (int64_t k = 0; k < K; ++k) v += ((double)r[k] - mean) * ((double)r[k] - mean);
  rstd = 1.0 / std::sqrt(v / (double)K + eps);
}

template <class T>
void weight_standardize_forward(int64_t O, int64_t K, const T* w, double eps, T* y) {
  parallel_for(O, std::max<int64_t>(1, 4096 / std::max<int64_t>(K, 1)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      double mean, rstd;
      row_stats(w + o * K, K, eps, mean, rstd);
      for (int64_t k = 0; k < K; ++k) y[o * K + k] = (T)(((double)w[o * K + k] - mean) * rstd);
    }
  });
}

template <class T>
void weight_standardize_backward(int64_t O, int64_t K, const T* w, double eps, const T* gy, T* gw) {
  parallel_for(O, std::max<int64_t>(1, 4096 / std::max<int64_t>(K, 1)), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const T* r = w + o * K;
      const T* g = gy + o * K;
      double mean, rstd;
      row_stats(r, K, eps, mean, rstd);
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
  });
}

#define GB_CONV_REF_INST(T)                                                                          \
  template void conv_forward_ref<T>(const ConvGeom&, const T*, const T*, const T*, T*);              \
  template void conv_backward_ref<T>(const ConvGeom&, const T*, const T*, const T*, T*, T*, T*);     \
  template void weight_standardize_forward<T>(int64_t, int64_t, const T*, double, T*);               \
  template void weight_standardize_backward<T>(int64_t, int64_t, const T*, double, const T*, T*);
GB_CONV_REF_INST(float)
GB_CONV_REF_INST(double)

}  // namespace gb::cpu

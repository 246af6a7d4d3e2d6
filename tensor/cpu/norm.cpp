#include "tensor/cpu/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/cpu/lane_sums.h"
#include "tensor/cpu/parallel.h"

namespace gb::cpu {
namespace {

// Grain so that one chunk holds roughly `work` elements of `per` elements each.
int64_t grain_for(int64_t per, int64_t work = 32768) { return std::max<int64_t>(1, work / std::max<int64_t>(per, 1)); }

// Mean and biased variance of `nb` blocks of `len` elements, block b at p + b * bstride. Two passes in
// double: the centred second pass keeps the variance accurate when |mean| >> std.
template <class T>
void block_stats(const T* p, int64_t nb, int64_t len, int64_t bstride, double& mean, double& var) {
  double s = 0;
  for (int64_t b = 0; b < nb; ++b) s += lane_sum(p + b * bstride, len);
  const double m = s / (double)(nb * len);
  double ss = 0;
  for (int64_t b = 0; b < nb; ++b) ss += lane_centred_sq(p + b * bstride, len, m);
  mean = m;
  var = ss / (double)(nb * len);
}

}  // namespace

// ---------------------------------------------------------------- group norm
template <class T>
void group_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t N, int64_t C,
                        int64_t S, int64_t G, double eps) {
  const int64_t Cg = C / G, M = Cg * S;
  // One task per (n, g): its block x[n, g*Cg:(g+1)*Cg, :] is contiguous, M elements.
  parallel_for(N * G, grain_for(M), [&](int64_t b, int64_t e) {
    for (int64_t ng = b; ng < e; ++ng) {
      const int64_t g = ng % G;
      const T* xb = x + ng * M;
      T* yb = y + ng * M;
      double m, v;
      block_stats(xb, 1, M, 0, m, v);
      const T mt = (T)m, rt = (T)(1.0 / std::sqrt(v + eps));
      mean[ng] = mt;
      rstd[ng] = rt;
      for (int64_t cc = 0; cc < Cg; ++cc) {
        const int64_t c = g * Cg + cc;
        // y = (x - mean) * scale + beta with scale = rstd * gamma (centring first keeps f32 accurate
        // when |mean| >> std)
        const T scale = rt * (gamma ? gamma[c] : T(1));
        const T shift = beta ? beta[c] : T(0);
        const T* xc = xb + cc * S;
        T* yc = yb + cc * S;
        for (int64_t s = 0; s < S; ++s) yc[s] = (xc[s] - mt) * scale + shift;
      }
    }
  });
}

template <class T>
void group_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* rstd, T* gx, T* ggamma,
                         T* gbeta, int64_t N, int64_t C, int64_t S, int64_t G) {
  const int64_t Cg = C / G, M = Cg * S;
  // Per (n, c): db = sum_s gy, dxh = sum_s gy * xhat. [N, C] each, filled by the (n, g) tasks.
  std::vector<double> db(N * C), dxh(N * C);
  parallel_for(N * G, grain_for(M), [&](int64_t b, int64_t e) {
    for (int64_t ng = b; ng < e; ++ng) {
      const int64_t n = ng / G, g = ng % G;
      const double m = (double)mean[ng], r = (double)rstd[ng];
      double sd = 0, sdx = 0;  // sum of dxhat and of dxhat * xhat over the group (dxhat = gy * gamma)
      for (int64_t cc = 0; cc < Cg; ++cc) {
        const int64_t c = g * Cg + cc, off = (n * C + c) * S;
        double a = 0, ax = 0;
        lane_grad_sums(gy + off, x + off, S, m, a, ax);
        ax *= r;
        db[n * C + c] = a;
        dxh[n * C + c] = ax;
        const double gm = gamma ? (double)gamma[c] : 1.0;
        sd += gm * a;
        sdx += gm * ax;
      }
      if (!gx) continue;
      // gx = rstd * (dxhat - sd/M - xhat * sdx/M), written as gy * A_c + (x - mean) * B + K.
      const T Bt = (T)(-r * r * sdx / (double)M), Kt = (T)(-r * sd / (double)M), mt = mean[ng];
      for (int64_t cc = 0; cc < Cg; ++cc) {
        const int64_t c = g * Cg + cc, off = (n * C + c) * S;
        const T A = (T)(r * (gamma ? (double)gamma[c] : 1.0));
        for (int64_t s = 0; s < S; ++s) gx[off + s] += gy[off + s] * A + (x[off + s] - mt) * Bt + Kt;
      }
    }
  });
  // Parameter gradients: sum over n in a fixed order.
  for (int64_t c = 0; c < C; ++c) {
    double a = 0, ax = 0;
    for (int64_t n = 0; n < N; ++n) {
      a += db[n * C + c];
      ax += dxh[n * C + c];
    }
    if (ggamma) ggamma[c] += (T)ax;
    if (gbeta) gbeta[c] += (T)a;
  }
}

// ---------------------------------------------------------------- batch norm
template <class T>
void batch_norm_stats(const T* x, double* mean, double* var, int64_t N, int64_t C, int64_t S) {
  // One task per channel: N blocks of S elements, block stride C*S.
  parallel_for(C, grain_for(N * S), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) block_stats(x + c * S, N, S, C * S, mean[c], var[c]);
  });
}

template <class T>
void batch_norm_apply(const T* x, const T* gamma, const T* beta, const T* mean, const T* rstd, T* y, int64_t N,
                      int64_t C, int64_t S) {
  parallel_for(N * C, grain_for(S), [&](int64_t b, int64_t e) {
    for (int64_t nc = b; nc < e; ++nc) {
      const int64_t c = nc % C;
      const T scale = rstd[c] * (gamma ? gamma[c] : T(1)), shift = beta ? beta[c] : T(0), mc = mean[c];
      const T* xc = x + nc * S;
      T* yc = y + nc * S;
      for (int64_t s = 0; s < S; ++s) yc[s] = (xc[s] - mc) * scale + shift;
    }
  });
}

template <class T>
void batch_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* rstd, bool training, T* gx,
                         T* ggamma, T* gbeta, int64_t N, int64_t C, int64_t S) {
  const double M = (double)(N * S);
  parallel_for(C, grain_for(N * S), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const double m = (double)mean[c], r = (double)rstd[c], gm = gamma ? (double)gamma[c] : 1.0;
      double a = 0, ax = 0;  // sum gy, sum gy * xhat over (N, S)
      for (int64_t n = 0; n < N; ++n) lane_grad_sums(gy + (n * C + c) * S, x + (n * C + c) * S, S, m, a, ax);
      ax *= r;
      if (ggamma) ggamma[c] += (T)ax;
      if (gbeta) gbeta[c] += (T)a;
      if (!gx) continue;
      // training: gx = gamma * rstd * (gy - a/M - xhat * ax/M) = gy * A + (x - mean) * B + K;
      // eval (mean, rstd are constants): gx = gy * A.
      const double A = gm * r;
      const T At = (T)A, mt = mean[c];
      if (!training) {
        for (int64_t n = 0; n < N; ++n) {
          const int64_t off = (n * C + c) * S;
          for (int64_t s = 0; s < S; ++s) gx[off + s] += gy[off + s] * At;
        }
        continue;
      }
      const T Bt = (T)(-A * r * ax / M), Kt = (T)(-A * a / M);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t off = (n * C + c) * S;
        for (int64_t s = 0; s < S; ++s) gx[off + s] += gy[off + s] * At + (x[off + s] - mt) * Bt + Kt;
      }
    }
  });
}

// ---------------------------------------------------------------- layer norm
template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t R, int64_t D,
                        double eps) {
  parallel_for(R, grain_for(D), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* xr = x + r * D;
      T* yr = y + r * D;
      double m, v;
      block_stats(xr, 1, D, 0, m, v);
      const T mt = (T)m, rt = (T)(1.0 / std::sqrt(v + eps));
      mean[r] = mt;
      rstd[r] = rt;
      if (gamma && beta) {
        for (int64_t d = 0; d < D; ++d) yr[d] = (xr[d] - mt) * rt * gamma[d] + beta[d];
      } else {
        for (int64_t d = 0; d < D; ++d) yr[d] = (xr[d] - mt) * rt * (gamma ? gamma[d] : T(1)) + (beta ? beta[d] : T(0));
      }
    }
  });
}

template <class T>
void layer_norm_backward(const T* gy, const T* x, const T* gamma, const T* mean, const T* rstd, T* gx, T* ggamma,
                         T* gbeta, int64_t R, int64_t D) {
  if (gx) {
    // Per row: gx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = gy * gamma.
    parallel_for(R, grain_for(D), [&](int64_t b, int64_t e) {
      std::vector<T> scratch(gamma ? D : 0);
      for (int64_t r = b; r < e; ++r) {
        const T* gr = gy + r * D;
        const T* xr = x + r * D;
        T* o = gx + r * D;
        const double m = (double)mean[r], rs = (double)rstd[r];
        double sd = 0, sdx = 0;
        if (gamma) {
          T* dxh = scratch.data();  // dxhat = gy * gamma [D]
          for (int64_t d = 0; d < D; ++d) dxh[d] = gr[d] * gamma[d];
          lane_grad_sums(dxh, xr, D, m, sd, sdx);
        } else {
          lane_grad_sums(gr, xr, D, m, sd, sdx);
        }
        sdx *= rs;
        const T c1 = (T)(rs * sd / (double)D), c2 = (T)(rs * sdx / (double)D);
        const T mt = mean[r], rt = rstd[r];
        const T* dx = gamma ? scratch.data() : gr;
        for (int64_t d = 0; d < D; ++d) o[d] += rt * dx[d] - c1 - (xr[d] - mt) * rt * c2;
      }
    });
  }
  if (ggamma || gbeta) {
    // Column sums over rows: threads own column ranges and walk all rows in order (deterministic).
    parallel_for(D, std::max<int64_t>(16, grain_for(R)), [&](int64_t b, int64_t e) {
      std::vector<double> ag(e - b, 0.0), ab(e - b, 0.0);
      for (int64_t r = 0; r < R; ++r) {
        const T* gr = gy + r * D;
        const T* xr = x + r * D;
        const double m = (double)mean[r], rs = (double)rstd[r];
        for (int64_t d = b; d < e; ++d) {
          ag[d - b] += (double)gr[d] * ((double)xr[d] - m) * rs;
          ab[d - b] += (double)gr[d];
        }
      }
      for (int64_t d = b; d < e; ++d) {
        if (ggamma) ggamma[d] += (T)ag[d - b];
        if (gbeta) gbeta[d] += (T)ab[d - b];
      }
    });
  }
}

#define GB_NORM_INSTANTIATE(T)                                                                                       \
  template void group_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t, int64_t, \
                                      double);                                                                      \
  template void group_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t,       \
                                       int64_t, int64_t, int64_t);                                                  \
  template void batch_norm_stats<T>(const T*, double*, double*, int64_t, int64_t, int64_t);                         \
  template void batch_norm_apply<T>(const T*, const T*, const T*, const T*, const T*, T*, int64_t, int64_t, int64_t); \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, bool, T*, T*, T*, int64_t,  \
                                       int64_t, int64_t);                                                           \
  template void layer_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, double);          \
  template void layer_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t);
GB_NORM_INSTANTIATE(float)
GB_NORM_INSTANTIATE(double)
#undef GB_NORM_INSTANTIATE

}  // namespace gb::cpu

#include "tensor/cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/cpu/parallel.h"

namespace gb::cpu {
namespace {
int64_t grain_lines(int64_t C) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(C, 1)); }
}  // namespace

// ---------------------------------------------------------------- cross-entropy
template <class T>
CrossEntropySums cross_entropy_forward(const T* logits, const int32_t* target, const T* weight, int64_t N, int64_t C,
                                       int64_t S, int64_t ignore_index, T* p) {
  // Per position: w_t * nll and w_t ([N*S] each); summed afterwards in position order.
  std::vector<double> wl(N * S, 0.0), ww(N * S, 0.0);
  parallel_for(N * S, grain_lines(C), [&](int64_t b, int64_t e) {
    for (int64_t l = b; l < e; ++l) {
      const int64_t n = l / S, s = l % S;
      const T* x = logits + n * C * S + s;  // line along C, stride S
      T* pl = p + n * C * S + s;
      T mx = x[0];
      for (int64_t c = 1; c < C; ++c) mx = std::max(mx, x[c * S]);
      double sum = 0;  // exp once per element, in T; the sum in double
      for (int64_t c = 0; c < C; ++c) {
        const T ex = std::exp(x[c * S] - mx);
        pl[c * S] = ex;
        sum += (double)ex;
      }
      const T inv = (T)(1.0 / sum);
      for (int64_t c = 0; c < C; ++c) pl[c * S] *= inv;
      const int64_t t = target[l];
      if (t == ignore_index) continue;
      const double w = weight ? (double)weight[t] : 1.0;
      const double nll = (double)mx + std::log(sum) - (double)x[t * S];  // logsumexp - x_t
      wl[l] = w * nll;
      ww[l] = w;
    }
  });
  CrossEntropySums r;
  for (int64_t l = 0; l < N * S; ++l) {
    r.loss_sum += wl[l];
    r.weight_sum += ww[l];
  }
  return r;
}

template <class T>
void cross_entropy_backward(double g, const T* p, const int32_t* target, const T* weight, double weight_sum,
                            int64_t N, int64_t C, int64_t S, int64_t ignore_index, T* gx) {
  parallel_for(N * S, grain_lines(C), [&](int64_t b, int64_t e) {
    for (int64_t l = b; l < e; ++l) {
      const int64_t t = target[l];
      if (t == ignore_index) continue;
      const int64_t n = l / S, s = l % S;
      const T* pl = p + n * C * S + s;
      T* o = gx + n * C * S + s;
      const T k = (T)(g * (weight ? (double)weight[t] : 1.0) / weight_sum);
      for (int64_t c = 0; c < C; ++c) o[c * S] += k * (pl[c * S] - (c == t ? T(1) : T(0)));
    }
  });
}

// ---------------------------------------------------------------- soft Dice
template <class T>
void soft_dice_sums(const T* p, const int32_t* target, int64_t N, int64_t C, int64_t S, DiceSums sums) {
  // Per (n, c) partial sums over S ([N*C] each), then summed over n in order.
  std::vector<double> pi(N * C), pz(N * C), py(N * C);
  parallel_for(N * C, std::max<int64_t>(1, 32768 / std::max<int64_t>(S, 1)), [&](int64_t b, int64_t e) {
    for (int64_t nc = b; nc < e; ++nc) {
      const int64_t n = nc / C, c = nc % C;
      const T* pc = p + nc * S;
      const int32_t* tn = target + n * S;
      double i = 0, z = 0, y = 0;
      for (int64_t s = 0; s < S; ++s) {
        const double v = (double)pc[s];
        const bool hit = tn[s] == c;
        z += v * v;
        if (hit) {
          i += v;
          y += 1;
        }
      }
      pi[nc] = i;
      pz[nc] = z;
      py[nc] = y;
    }
  });
  for (int64_t c = 0; c < C; ++c) {
    double i = 0, z = 0, y = 0;
    for (int64_t n = 0; n < N; ++n) {
      i += pi[n * C + c];
      z += pz[n * C + c];
      y += py[n * C + c];
    }
    sums.I[c] = i;
    sums.Z[c] = z;
    sums.Y[c] = y;
  }
}

double soft_dice_value(const double* I, const double* Z, const double* Y, const double* w, int64_t C, double smooth) {
  double loss = 0;
  for (int64_t c = 0; c < C; ++c) {
    const double dice = 1.0 - (2.0 * I[c] + smooth) / (Z[c] + Y[c] + smooth);
    loss += (w ? w[c] : 1.0) * dice;
  }
  return loss / (double)C;
}

template <class T>
void soft_dice_backward(double g, const T* p, const int32_t* target, const double* w, int64_t N, int64_t C,
                        int64_t S, double smooth, DiceSums sums, T* gx) {
  // Per class: dloss/dp_c = a_c * t_c + b_c * p_c with
  //   a_c = -(g w_c / C) * 2 / D_c,  b_c = (g w_c / C) * 2 (2 I_c + smooth) / D_c^2,  D_c = Z_c + Y_c + smooth.
  std::vector<double> a(C), bb(C);
  for (int64_t c = 0; c < C; ++c) {
    const double k = g * (w ? w[c] : 1.0) / (double)C, D = sums.Z[c] + sums.Y[c] + smooth;
    a[c] = -k * 2.0 / D;
    bb[c] = k * 2.0 * (2.0 * sums.I[c] + smooth) / (D * D);
  }
  // Softmax backward along C per position: gx_c += p_c (gp_c - sum_j gp_j p_j).
  parallel_for(N * S, grain_lines(C), [&](int64_t b, int64_t e) {
    for (int64_t l = b; l < e; ++l) {
      const int64_t n = l / S, s = l % S, t = target[l];
      const T* pl = p + n * C * S + s;
      T* o = gx + n * C * S + s;
      double dot = 0;
      for (int64_t c = 0; c < C; ++c) {
        const double pc = (double)pl[c * S];
        dot += (bb[c] * pc + (c == t ? a[c] : 0.0)) * pc;
      }
      for (int64_t c = 0; c < C; ++c) {
        const double pc = (double)pl[c * S];
        const double gp = bb[c] * pc + (c == t ? a[c] : 0.0);
        o[c * S] += (T)(pc * (gp - dot));
      }
    }
  });
}

template <class T>
void one_hot(const int32_t* target, T* out, int64_t N, int64_t C, int64_t S) {
  parallel_for(N * C, std::max<int64_t>(1, 32768 / std::max<int64_t>(S, 1)), [&](int64_t b, int64_t e) {
    for (int64_t nc = b; nc < e; ++nc) {
      const int64_t n = nc / C, c = nc % C;
      for (int64_t s = 0; s < S; ++s) out[nc * S + s] = target[n * S + s] == c ? T(1) : T(0);
    }
  });
}

#define GB_LOSS_INSTANTIATE(T)                                                                                  \
  template CrossEntropySums cross_entropy_forward<T>(const T*, const int32_t*, const T*, int64_t, int64_t,     \
                                                     int64_t, int64_t, T*);                                    \
  template void cross_entropy_backward<T>(double, const T*, const int32_t*, const T*, double, int64_t, int64_t, \
                                          int64_t, int64_t, T*);                                               \
  template void soft_dice_sums<T>(const T*, const int32_t*, int64_t, int64_t, int64_t, DiceSums);               \
  template void soft_dice_backward<T>(double, const T*, const int32_t*, const double*, int64_t, int64_t,        \
                                      int64_t, double, DiceSums, T*);                                          \
  template void one_hot<T>(const int32_t*, T*, int64_t, int64_t, int64_t);
GB_LOSS_INSTANTIATE(float)
GB_LOSS_INSTANTIATE(double)
#undef GB_LOSS_INSTANTIATE

}  // namespace gb::cpu

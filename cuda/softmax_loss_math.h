// The arithmetic of the CUDA softmax_loss kernels (softmax and log-softmax, cross entropy, soft Dice, one-hot), plain C++ shared by the GPU
// (cuda/softmax_loss.cu) and its CPU emulation (tests/harness/cuda_emu.h); see cuda/kernel_common.h.
// Formulas, types and accumulation order follow the CPU reference (tensor/cpu/softmax.cpp,
// tensor/cpu/loss.cpp): max-shifted softmax with exp in T and sums in double.
// Buffers: softmax x / y [outer, n, inner] contiguous; losses: logits / p / gx [N, C, S] contiguous
// (S = product of the spatial dims), target i32 [N, S], weight [C] or absent.
// The loss sums (cross-entropy's two numbers, Dice's per-class I, Z, Y) are formed on the device by
// fixed chunks of positions written to a temporary f64 buffer and then combined in a fixed order by
// one item, so they do not depend on the launch; only the final few numbers go to the host.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cuda/kernel_common.h"
#include "tensor/backend.h"

namespace gb::cuda {

// Positions (cross-entropy) or spatial elements (Dice) per partial sum of the first reduction level.
constexpr int64_t kLossChunk = 256;

// ---------------------------------------------------------------- softmax / log-softmax
// One item per line l = o * inner + i: the line (o, :, i) starts at o * n * inner + i, stride inner.
// Max first (the CPU's std::max: a NaN after the first element is skipped), then exp(x - max) in T
// summed in double, then the write.
template <class T>
struct SoftmaxForwardItem {
  const T* x;
  T* y;
  int64_t n, inner;
  bool log;
  GB_HD void operator()(int64_t l) const {
    const int64_t base = (l / inner) * n * inner + l % inner;
    const T* xl = x + base;
    T* yl = y + base;
    T mx = xl[0];
    for (int64_t k = 1; k < n; ++k)
      if (mx < xl[k * inner]) mx = xl[k * inner];
    double s = 0;
    if (log) {
      for (int64_t k = 0; k < n; ++k) s += (double)m::exp((T)(xl[k * inner] - mx));
      // (x - max) - log(sum): keeps precision for large logits.
      const double ls = m::log(s);
      for (int64_t k = 0; k < n; ++k) yl[k * inner] = (T)((double)(xl[k * inner] - mx) - ls);
    } else {
      for (int64_t k = 0; k < n; ++k) {
        const T e = m::exp((T)(xl[k * inner] - mx));
        yl[k * inner] = e;
        s += (double)e;
      }
      const T inv = (T)(1.0 / s);
      for (int64_t k = 0; k < n; ++k) yl[k * inner] *= inv;
    }
  }
};

// One item per line, as the forward. softmax: gx += y * (gy - sum(gy * y)); log: gx += gy - exp(y) * sum(gy);
// the line's sum in double, rounded to T once. Lines are disjoint, so items write distinct elements.
template <class T>
struct SoftmaxBackwardItem {
  const T *gy, *y;
  T* gx;
  int64_t n, inner;
  bool log;
  GB_HD void operator()(int64_t l) const {
    const int64_t base = (l / inner) * n * inner + l % inner;
    const T* g = gy + base;
    const T* yl = y + base;
    T* o = gx + base;
    double s = 0;
    if (log) {
      for (int64_t k = 0; k < n; ++k) s += (double)g[k * inner];
      const T st = (T)s;
      for (int64_t k = 0; k < n; ++k) o[k * inner] += g[k * inner] - m::exp(yl[k * inner]) * st;
    } else {
      for (int64_t k = 0; k < n; ++k) s += (double)g[k * inner] * (double)yl[k * inner];
      const T st = (T)s;
      for (int64_t k = 0; k < n; ++k) o[k * inner] += yl[k * inner] * (g[k * inner] - st);
    }
  }
};

// ---------------------------------------------------------------- cross entropy
// Pass 1, one item per position l = n * S + s: p (n, :, s) = softmax of the logits along C (stride S),
// and the position's w_t * nll and w_t into wl / ww [N*S] (both 0 at an ignored position).
template <class T>
struct CrossEntropyLineItem {
  const T* logits;
  const int32_t* target;
  const T* weight;  // [C] or null (all 1)
  T* p;
  double *wl, *ww;
  int64_t C, S, ignore_index;
  GB_HD void operator()(int64_t l) const {
    const int64_t n = l / S, s = l % S;
    const T* x = logits + n * C * S + s;
    T* pl = p + n * C * S + s;
    T mx = x[0];
    for (int64_t c = 1; c < C; ++c)
      if (mx < x[c * S]) mx = x[c * S];
    double sum = 0;  // exp once per element, in T; the sum in double
    for (int64_t c = 0; c < C; ++c) {
      const T ex = m::exp((T)(x[c * S] - mx));
      pl[c * S] = ex;
      sum += (double)ex;
    }
    const T inv = (T)(1.0 / sum);
    for (int64_t c = 0; c < C; ++c) pl[c * S] *= inv;
    const int64_t t = target[l];
    if (t == ignore_index) {
      wl[l] = 0;
      ww[l] = 0;
      return;
    }
    const double w = weight ? (double)weight[t] : 1.0;
    const double nll = (double)mx + m::log(sum) - (double)x[t * S];  // logsumexp - x_t
    wl[l] = w * nll;
    ww[l] = w;
  }
};

// One item per chunk j of `chunk` consecutive entries of a [rows, L] f64 buffer (row-major): part
// [rows, nchunks] at (r, j) = the sum, in order, of entries j*chunk .. min(L, (j+1)*chunk)-1 of row r.
struct ChunkSumItem {
  const double* v;
  double* part;
  int64_t rows, L, chunk, nchunks;
  GB_HD void operator()(int64_t j) const {
    const int64_t b = j * chunk, e = b + chunk < L ? b + chunk : L;
    for (int64_t r = 0; r < rows; ++r) {
      double acc = 0;
      for (int64_t i = b; i < e; ++i) acc += v[r * L + i];
      part[r * nchunks + j] = acc;
    }
  }
};

// One item (i = 0): out [rows] = the sums of part [rows, nchunks] along each row, chunks in order.
struct CombineRowsItem {
  const double* part;
  double* out;
  int64_t rows, nchunks;
  GB_HD void operator()(int64_t) const {
    for (int64_t r = 0; r < rows; ++r) {
      double acc = 0;
      for (int64_t j = 0; j < nchunks; ++j) acc += part[r * nchunks + j];
      out[r] = acc;
    }
  }
};

// One item per element (n, c, s) of gx: gx += k * (p - [c == t]) with k = (T)(g * w_t / weight_sum),
// nothing at an ignored position.
template <class T>
struct CrossEntropyBackwardItem {
  const T* p;
  const int32_t* target;
  const T* weight;
  T* gx;
  double g, weight_sum;
  int64_t C, S, ignore_index;
  GB_HD void operator()(int64_t i) const {
    const int64_t s = i % S, c = (i / S) % C, n = i / (S * C);
    const int64_t t = target[n * S + s];
    if (t == ignore_index) return;
    const T k = (T)(g * (weight ? (double)weight[t] : 1.0) / weight_sum);
    gx[i] += k * (p[i] - (c == t ? T(1) : T(0)));
  }
};

// ---------------------------------------------------------------- soft Dice
// Level 1, one item per (n, c, chunk k of S), j = (n * C + c) * nch + k: the sums over s in the chunk of
// p*[t == c], p^2 and [t == c] (in double, s in order) into part [3, N*C*nch] (rows I, Z, Y).
template <class T>
struct DiceChunkItem {
  const T* p;
  const int32_t* target;
  double* part;
  int64_t C, S, nch, chunk, total;  // total = N * C * nch
  GB_HD void operator()(int64_t j) const {
    const int64_t nc = j / nch, k = j % nch, n = nc / C, c = nc % C;
    const int64_t b = k * chunk, e = b + chunk < S ? b + chunk : S;
    const T* pc = p + nc * S;
    const int32_t* tn = target + n * S;
    double i = 0, z = 0, y = 0;
    for (int64_t s = b; s < e; ++s) {
      const double v = (double)pc[s];
      z += v * v;
      if (tn[s] == c) {
        i += v;
        y += 1;
      }
    }
    part[j] = i;
    part[total + j] = z;
    part[2 * total + j] = y;
  }
};

// Level 2, one item per class c: out [3, C] (rows I, Z, Y) = the partials of c summed over n, then
// chunks, in order.
struct DiceCombineItem {
  const double* part;
  double* out;
  int64_t N, C, nch;
  GB_HD void operator()(int64_t c) const {
    const int64_t total = N * C * nch;
    double i = 0, z = 0, y = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < nch; ++k) {
        const int64_t j = (n * C + c) * nch + k;
        i += part[j];
        z += part[total + j];
        y += part[2 * total + j];
      }
    out[c] = i;
    out[C + c] = z;
    out[2 * C + c] = y;
  }
};

// Backward pass 1, one item per position l = n * S + s: dot [N*S] = sum_c gp_c p_c (c in order, double)
// with gp_c = dloss/dp_c = bb_c p_c + [c == t] a_c; coef [2, C] holds rows a, bb.
template <class T>
struct DiceDotItem {
  const T* p;
  const int32_t* target;
  const double* coef;
  double* dot;
  int64_t C, S;
  GB_HD void operator()(int64_t l) const {
    const int64_t n = l / S, s = l % S, t = target[l];
    const T* pl = p + n * C * S + s;
    double d = 0;
    for (int64_t c = 0; c < C; ++c) {
      const double pc = (double)pl[c * S];
      d += (coef[C + c] * pc + (c == t ? coef[c] : 0.0)) * pc;
    }
    dot[l] = d;
  }
};

// Backward pass 2, one item per element (n, c, s): the softmax backward gx += p_c (gp_c - dot).
template <class T>
struct DiceBackwardItem {
  const T* p;
  const int32_t* target;
  const double *coef, *dot;
  T* gx;
  int64_t C, S;
  GB_HD void operator()(int64_t i) const {
    const int64_t s = i % S, c = (i / S) % C, n = i / (S * C), l = n * S + s, t = target[l];
    const double pc = (double)p[i];
    const double gp = coef[C + c] * pc + (c == t ? coef[c] : 0.0);
    gx[i] += (T)(pc * (gp - dot[l]));
  }
};

// ---------------------------------------------------------------- one-hot
// One item per element (n, c, s) of y [N, C, S]: [target[n, s] == c].
template <class T>
struct OneHotItem {
  const int32_t* target;
  T* y;
  int64_t C, S;
  GB_HD void operator()(int64_t i) const {
    const int64_t s = i % S, c = (i / S) % C, n = i / (S * C);
    y[i] = target[n * S + s] == c ? T(1) : T(0);
  }
};

// (N, C, S) of a loss buffer [N, C, *].
struct LossDims {
  int64_t N, C, S;
};
inline LossDims loss_dims(const Tensor& p) {
  LossDims d{p.size(0), p.size(1), 1};
  for (int64_t i = 2; i < p.dim(); ++i) d.S *= p.size(i);
  return d;
}

// ---------------------------------------------------------------- impls
template <class Launch>
void softmax_forward_impl(const Launch& launch, const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log,
                          Tensor& y) {
  if (n == 0) return;
  dispatch_float(y.dtype(), "softmax_forward", [&](auto t) {
    using T = decltype(t);
    launch(outer * inner, SoftmaxForwardItem<T>{x.data<T>(), y.data<T>(), n, inner, log});
  });
}

template <class Launch>
void softmax_backward_impl(const Launch& launch, const Tensor& gy, const Tensor& y, int64_t outer, int64_t n,
                           int64_t inner, bool log, Tensor& gx) {
  if (n == 0) return;
  dispatch_float(gx.dtype(), "softmax_backward", [&](auto t) {
    using T = decltype(t);
    launch(outer * inner, SoftmaxBackwardItem<T>{gy.data<T>(), y.data<T>(), gx.data<T>(), n, inner, log});
  });
}

template <class Launch>
CeSums cross_entropy_forward_impl(const Launch& launch, const Tensor& logits, const Tensor& target,
                                  const Tensor& weight, int64_t ignore_index, Tensor& p) {
  const LossDims d = loss_dims(logits);
  const int64_t L = d.N * d.S, nch = (L + kLossChunk - 1) / kLossChunk;
  // lines [2, L] (rows w_t * nll, w_t) -> part [2, nch] -> sums [2], all f64 on p's device.
  Tensor lines = Tensor::empty({2, L}, DType::F64, p.device());
  Tensor part = Tensor::empty({2, nch}, DType::F64, p.device());
  Tensor sums = Tensor::empty({2}, DType::F64, p.device());
  dispatch_float(p.dtype(), "cross_entropy_forward", [&](auto t) {
    using T = decltype(t);
    double* wl = lines.data<double>();
    launch(L, CrossEntropyLineItem<T>{logits.data<T>(), target.data<int32_t>(), data_or_null<T>(weight), p.data<T>(),
                                      wl, wl + L, d.C, d.S, ignore_index});
  });
  launch(nch, ChunkSumItem{lines.data<double>(), part.data<double>(), 2, L, kLossChunk, nch});
  launch(1, CombineRowsItem{part.data<double>(), sums.data<double>(), 2, nch});
  const Tensor host = sums.to(Device::CPU);
  return CeSums{host.data<double>()[0], host.data<double>()[1]};
}

template <class Launch>
void cross_entropy_backward_impl(const Launch& launch, double g, const Tensor& p, const Tensor& target,
                                 const Tensor& weight, double weight_sum, int64_t ignore_index, Tensor& gx) {
  const LossDims d = loss_dims(p);
  dispatch_float(gx.dtype(), "cross_entropy_backward", [&](auto t) {
    using T = decltype(t);
    launch(p.numel(), CrossEntropyBackwardItem<T>{p.data<T>(), target.data<int32_t>(), data_or_null<T>(weight),
                                                  gx.data<T>(), g, weight_sum, d.C, d.S, ignore_index});
  });
}

template <class Launch>
void dice_sums_impl(const Launch& launch, const Tensor& p, const Tensor& target, Tensor& I, Tensor& Z, Tensor& Y) {
  const LossDims d = loss_dims(p);
  // part [3, N*C*nch] (rows I, Z, Y per (n, c, chunk)) -> out [3, C], f64 on p's device; then to the host.
  const int64_t nch = std::max<int64_t>(1, (d.S + kLossChunk - 1) / kLossChunk), total = d.N * d.C * nch;
  Tensor part = Tensor::empty({3, total}, DType::F64, p.device());
  Tensor out = Tensor::empty({3, d.C}, DType::F64, p.device());
  dispatch_float(p.dtype(), "dice_sums", [&](auto t) {
    using T = decltype(t);
    launch(total, DiceChunkItem<T>{p.data<T>(), target.data<int32_t>(), part.data<double>(), d.C, d.S, nch,
                                   kLossChunk, total});
  });
  launch(d.C, DiceCombineItem{part.data<double>(), out.data<double>(), d.N, d.C, nch});
  // I, Z, Y are contiguous f64 host tensors [C] (the contract).
  const Tensor host = out.to(Device::CPU);
  const double* h = host.data<double>();
  std::copy(h, h + d.C, I.data<double>());
  std::copy(h + d.C, h + 2 * d.C, Z.data<double>());
  std::copy(h + 2 * d.C, h + 3 * d.C, Y.data<double>());
}

template <class Launch>
void dice_backward_impl(const Launch& launch, double g, const Tensor& p, const Tensor& target,
                        const std::vector<double>& w, double smooth, const Tensor& I, const Tensor& Z, const Tensor& Y,
                        Tensor& gx) {
  const LossDims d = loss_dims(p);
  // Per class (host, C numbers from the host sums, as the CPU): dloss/dp_c = a_c [t == c] + bb_c p_c with
  //   a_c = -(g w_c / C) 2 / D_c,  bb_c = (g w_c / C) 2 (2 I_c + smooth) / D_c^2,  D_c = Z_c + Y_c + smooth.
  // coef [2, C] (rows a, bb) goes to p's device.
  const Tensor Ih = I.to(Device::CPU).contiguous(), Zh = Z.to(Device::CPU).contiguous(),
               Yh = Y.to(Device::CPU).contiguous();
  std::vector<double> coef(2 * d.C);
  for (int64_t c = 0; c < d.C; ++c) {
    const double k = g * (w.empty() ? 1.0 : w[c]) / (double)d.C;
    const double D = Zh.data<double>()[c] + Yh.data<double>()[c] + smooth;
    coef[c] = -k * 2.0 / D;
    coef[d.C + c] = k * 2.0 * (2.0 * Ih.data<double>()[c] + smooth) / (D * D);
  }
  const Tensor cd = Tensor::from_vector(coef, {2, d.C}).to(p.device());
  Tensor dot = Tensor::empty({d.N * d.S}, DType::F64, p.device());  // [N*S]
  dispatch_float(gx.dtype(), "dice_backward", [&](auto t) {
    using T = decltype(t);
    launch(d.N * d.S, DiceDotItem<T>{p.data<T>(), target.data<int32_t>(), cd.data<double>(), dot.data<double>(), d.C, d.S});
    launch(p.numel(), DiceBackwardItem<T>{p.data<T>(), target.data<int32_t>(), cd.data<double>(), dot.data<double>(),
                                          gx.data<T>(), d.C, d.S});
  });
}

template <class Launch>
void one_hot_impl(const Launch& launch, const Tensor& target, Tensor& y) {
  const LossDims d = loss_dims(y);
  dispatch_float(y.dtype(), "one_hot", [&](auto t) {
    using T = decltype(t);
    launch(y.numel(), OneHotItem<T>{target.data<int32_t>(), y.data<T>(), d.C, d.S});
  });
}

}  // namespace gb::cuda

// The kernel calls of the op layer: one free function per kernel of tensor/backend.h, each switching
// once on the device of its output (detail::enter) and calling that backend's implementation. Ops in
// autograd/ and the optimisers in train/ call only these; nothing above tensor/ names cpu:: or cuda::.
// Signatures and conventions (shapes, which kernels ADD): tensor/backend.h.
#pragma once
#include "tensor/backend.h"

namespace gb::kern {

#define GB_KERN(kernel, dev_tensor, dtype_tensor) ::gb::detail::enter(::gb::Kernel::kernel, (dev_tensor).device(), (dtype_tensor).dtype())

inline void fill(Tensor& y, double v) { GB_KERN(fill, y, y).fill(y, v); }
inline void copy(Tensor& y, const Tensor& x) { GB_KERN(copy, y, y).copy(y, x); }
inline void accumulate(Tensor& y, const Tensor& x) { GB_KERN(accumulate, y, y).accumulate(y, x); }

inline void unary(UnaryOp op, double s, const Tensor& x, Tensor& y) { GB_KERN(unary, y, y).unary(op, s, x, y); }
inline void unary_backward(UnaryOp op, double s, const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx) {
  GB_KERN(unary_backward, gx, gx).unary_backward(op, s, x, y, gy, gx);
}
inline void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  GB_KERN(binary, y, y).binary(op, a, b, y);
}

inline void sum_rows(const Tensor& x, Tensor& y) { GB_KERN(sum_rows, y, y).sum_rows(x, y); }
inline void max_rows(const Tensor& x, Tensor& vals, Tensor& idx) { GB_KERN(max_rows, vals, vals).max_rows(x, vals, idx); }
inline void max_backward(const Tensor& gy, const Tensor& idx, Tensor& gx, int64_t outer, int64_t n, int64_t inner) {
  GB_KERN(max_backward, gx, gx).max_backward(gy, idx, gx, outer, n, inner);
}

inline void gemm(const GemmArgs& g, const Tensor& a, const Tensor& b, Tensor& c) { GB_KERN(gemm, c, c).gemm(g, a, b, c); }
inline void bias_rows(const Tensor& bias, Tensor& y) { GB_KERN(bias_rows, y, y).bias_rows(bias, y); }

inline void conv_forward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  GB_KERN(conv_forward, y, y).conv_forward(g, x, w, bias, y);
}
inline void conv_backward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy, Tensor& gx, Tensor& gw,
                          Tensor& gbias) {
  GB_KERN(conv_backward, gy, gy).conv_backward(g, x, w, gy, gx, gw, gbias);
}
inline void weight_std_forward(const Tensor& w, double eps, Tensor& y) {
  GB_KERN(weight_std_forward, y, y).weight_std_forward(w, eps, y);
}
inline void weight_std_backward(const Tensor& w, double eps, const Tensor& gy, Tensor& gw) {
  GB_KERN(weight_std_backward, gw, gw).weight_std_backward(w, eps, gy, gw);
}

inline void group_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps,
                               Tensor& y, Tensor& mean, Tensor& rstd) {
  GB_KERN(group_norm_forward, y, y).group_norm_forward(x, gamma, beta, groups, eps, y, mean, rstd);
}
inline void group_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                const Tensor& rstd, int64_t groups, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  GB_KERN(group_norm_backward, gy, gy).group_norm_backward(gy, x, gamma, mean, rstd, groups, gx, ggamma, gbeta);
}
inline void batch_norm_stats(const Tensor& x, double eps, double momentum, Tensor& mean, Tensor& rstd,
                             Tensor& running_mean, Tensor& running_var) {
  GB_KERN(batch_norm_stats, mean, mean).batch_norm_stats(x, eps, momentum, mean, rstd, running_mean, running_var);
}
inline void batch_norm_running_stats(const Tensor& running_mean, const Tensor& running_var, double eps, Tensor& mean,
                                     Tensor& rstd) {
  GB_KERN(batch_norm_running_stats, mean, mean).batch_norm_running_stats(running_mean, running_var, eps, mean, rstd);
}
inline void batch_norm_apply(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                             const Tensor& rstd, Tensor& y) {
  GB_KERN(batch_norm_apply, y, y).batch_norm_apply(x, gamma, beta, mean, rstd, y);
}
inline void batch_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                const Tensor& rstd, bool training, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  GB_KERN(batch_norm_backward, gy, gy).batch_norm_backward(gy, x, gamma, mean, rstd, training, gx, ggamma, gbeta);
}
inline void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y,
                               Tensor& mean, Tensor& rstd) {
  GB_KERN(layer_norm_forward, y, y).layer_norm_forward(x, gamma, beta, eps, y, mean, rstd);
}
inline void layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                const Tensor& rstd, Tensor& gx, Tensor& ggamma, Tensor& gbeta) {
  GB_KERN(layer_norm_backward, gy, gy).layer_norm_backward(gy, x, gamma, mean, rstd, gx, ggamma, gbeta);
}

inline void softmax_forward(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& y) {
  GB_KERN(softmax_forward, y, y).softmax_forward(x, outer, n, inner, log, y);
}
inline void softmax_backward(const Tensor& gy, const Tensor& y, int64_t outer, int64_t n, int64_t inner, bool log,
                             Tensor& gx) {
  GB_KERN(softmax_backward, gx, gx).softmax_backward(gy, y, outer, n, inner, log, gx);
}

inline CeSums cross_entropy_forward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                    int64_t ignore_index, Tensor& p) {
  return GB_KERN(cross_entropy_forward, p, p).cross_entropy_forward(logits, target, weight, ignore_index, p);
}
inline void cross_entropy_backward(double g, const Tensor& p, const Tensor& target, const Tensor& weight,
                                   double weight_sum, int64_t ignore_index, Tensor& gx) {
  GB_KERN(cross_entropy_backward, gx, gx).cross_entropy_backward(g, p, target, weight, weight_sum, ignore_index, gx);
}
inline void dice_sums(const Tensor& p, const Tensor& target, Tensor& I, Tensor& Z, Tensor& Y) {
  GB_KERN(dice_sums, p, p).dice_sums(p, target, I, Z, Y);
}
inline void dice_backward(double g, const Tensor& p, const Tensor& target, const std::vector<double>& w, double smooth,
                          const Tensor& I, const Tensor& Z, const Tensor& Y, Tensor& gx) {
  GB_KERN(dice_backward, gx, gx).dice_backward(g, p, target, w, smooth, I, Z, Y, gx);
}
inline void one_hot(const Tensor& target, Tensor& y) { GB_KERN(one_hot, y, y).one_hot(target, y); }

inline void max_pool_forward(const PoolGeom& g, const Tensor& x, Tensor& y, Tensor& idx) {
  GB_KERN(max_pool_forward, y, y).max_pool_forward(g, x, y, idx);
}
inline void max_pool_backward(const PoolGeom& g, const Tensor& gy, const Tensor& idx, Tensor& gx) {
  GB_KERN(max_pool_backward, gx, gx).max_pool_backward(g, gy, idx, gx);
}
inline void upsample_forward(const UpsampleGeom& g, const Tensor& x, Tensor& y) {
  GB_KERN(upsample_forward, y, y).upsample_forward(g, x, y);
}
inline void upsample_backward(const UpsampleGeom& g, const Tensor& gy, Tensor& gx) {
  GB_KERN(upsample_backward, gx, gx).upsample_backward(g, gy, gx);
}

inline void sgd_update(Tensor& w, const Tensor& g, Tensor& buf, double lr, double momentum, double wd, bool first) {
  GB_KERN(sgd_update, w, w).sgd_update(w, g, buf, lr, momentum, wd, first);
}
inline void adamw_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                         double eps, double wd, int64_t t) {
  GB_KERN(adamw_update, w, w).adamw_update(w, g, m, v, lr, beta1, beta2, eps, wd, t);
}

#undef GB_KERN

}  // namespace gb::kern

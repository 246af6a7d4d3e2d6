// Scaled dot-product attention on the CPU, composed of differentiable ops so the probabilities are
// an ordinary graph tensor (explanations can retain_grad on them):
//   s = q k^T * scale  [B, H, Tq, Tk],  p = softmax(s, -1),  out = p v  [B, H, Tq, Dv]
// k^T is a transposed view; matmul hands it to GEMM with the transpose flag, no copy.
#include "autograd/ops.h"
#include "autograd/trace.h"

namespace gb {

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale,
                                    Tensor* probs_out) {
  GB_CHECK(q.defined() && k.defined() && v.defined(), "scaled_dot_product_attention: undefined input");
  GB_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4,
           "scaled_dot_product_attention: expected q, k, v [B, H, T, Dh], got q ", str(q.shape()), ", k ",
           str(k.shape()), ", v ", str(v.shape()));
  const Shape &qs = q.shape(), &ks = k.shape(), &vs = v.shape();
  GB_CHECK(qs[0] == ks[0] && qs[1] == ks[1] && ks[0] == vs[0] && ks[1] == vs[1] && qs[3] == ks[3] && ks[2] == vs[2],
           "scaled_dot_product_attention: shapes do not match: q ", str(qs), ", k ", str(ks), ", v ", str(vs),
           " (need q [B,H,Tq,D], k [B,H,Tk,D], v [B,H,Tk,Dv])");
  Tensor s = mul_scalar(matmul(q, transpose(k, 2, 3)), scale);  // [B, H, Tq, Tk]
  Tensor p = softmax(s, -1);
  if (probs_out) *probs_out = p;
  return matmul(p, v);  // [B, H, Tq, Dv]
}

}  // namespace gb

// matmul and linear on top of the gemm kernel (tensor/kernels.h). Operands are handed to GEMM in place whenever their last
// two dims are a row-major or a transposed row-major matrix (any leading dimension, any batch
// strides, broadcast batch dims as stride 0); only other layouts are copied. Backward passes
// accumulate straight into the gradient buffers with beta = 1.
#include <algorithm>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/kernels.h"

namespace gb {
namespace {

// How GEMM reads a [rows, cols] matrix with element strides (sr, sc):
//   trans = false: element (i, j) at i * ld + j;  trans = true: element (i, j) at j * ld + i.
struct Layout {
  int64_t ld = 1;
  bool trans = false;
};

bool gemm_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc, Layout& out) {
  if ((cols <= 1 || sc == 1) && (rows <= 1 || sr >= std::max<int64_t>(cols, 1))) {
    out = {rows <= 1 ? std::max<int64_t>(cols, 1) : sr, false};
    return true;
  }
  if ((rows <= 1 || sr == 1) && (cols <= 1 || sc >= std::max<int64_t>(rows, 1))) {
    out = {cols <= 1 ? std::max<int64_t>(rows, 1) : sc, true};
    return true;
  }
  return false;
}

// An operand viewed at the broadcast shape [batch..., rows, cols]: its data (copied only when the
// matrix layout is not GEMM-readable), per-batch element offsets, and the matrix layout.
struct Operand {
  Tensor data;
  std::vector<int64_t> offsets;  // one per flat batch index of the output
  Layout lay;
  bool batch_broadcast = false;  // some output batches share one matrix of this operand
};

std::vector<int64_t> batch_offsets(const Shape& batch, const Shape& strides) {
  const int64_t n = numel(batch), nd = (int64_t)batch.size();
  std::vector<int64_t> off((size_t)n, 0), idx((size_t)nd, 0);
  for (int64_t b = 0; b < n; ++b) {
    int64_t o = 0;
    for (int64_t d = 0; d < nd; ++d) o += idx[(size_t)d] * strides[(size_t)d];
    off[(size_t)b] = o;
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[(size_t)d] < batch[(size_t)d]) break;
      idx[(size_t)d] = 0;
    }
  }
  return off;
}

Operand make_operand(const Tensor& t, const Shape& out_batch) {
  const int64_t nd = t.dim();
  const int64_t r = t.shape()[nd - 2], c = t.shape()[nd - 1];
  Operand o;
  o.data = t;
  if (!gemm_layout(r, c, t.strides()[nd - 2], t.strides()[nd - 1], o.lay)) {
    o.data = t.contiguous();
    gemm_layout(r, c, o.data.strides()[nd - 2], o.data.strides()[nd - 1], o.lay);
  }
  Shape full = out_batch;
  full.push_back(r);
  full.push_back(c);
  Tensor e = o.data.view_expand(full);
  Shape bstr(e.strides().begin(), e.strides().end() - 2);
  o.offsets = batch_offsets(out_batch, bstr);
  o.batch_broadcast = numel(Shape(t.shape().begin(), t.shape().end() - 2)) != numel(out_batch);
  return o;
}

// One GEMM call description: C[b] = op(A[b]) op(B[b]) (+ C[b] when accumulate) per batch b.
GemmArgs gemm_args(bool ta, bool tb, int64_t M, int64_t N, int64_t K, int64_t lda, std::vector<int64_t> oa, int64_t ldb,
                   std::vector<int64_t> ob, int64_t ldc, std::vector<int64_t> oc, bool accumulate, bool c_shared) {
  GemmArgs g;
  g.ta = ta;
  g.tb = tb;
  g.M = M;
  g.N = N;
  g.K = K;
  g.lda = lda;
  g.ldb = ldb;
  g.ldc = ldc;
  g.oa = std::move(oa);
  g.ob = std::move(ob);
  g.oc = std::move(oc);
  g.accumulate = accumulate;
  g.c_shared = c_shared;
  return g;
}

void check_matmul_inputs(const Tensor& a, const Tensor& b, const char* op) {
  check_float(a, op, "first operand");
  check_float(b, op, "second operand");
  check_same_dtype(a, b, op);
  check_same_device(a, b, op);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_matmul_inputs(a, b, "matmul");
  GB_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: both operands need at least 2 dims, got ", str(a.shape()), " @ ",
           str(b.shape()));
  const int64_t M = a.shape()[a.dim() - 2], K = a.shape()[a.dim() - 1];
  const int64_t K2 = b.shape()[b.dim() - 2], N = b.shape()[b.dim() - 1];
  GB_CHECK(K == K2, "matmul: inner dimensions differ: ", str(a.shape()), " @ ", str(b.shape()));
  trace::Span sp("matmul", {a, b});
  const Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
  const Shape out_batch = broadcast_shapes(a_batch, b_batch, "matmul");
  Shape out_shape = out_batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  const int64_t nb = numel(out_batch);
  const double flops = 2.0 * (double)nb * (double)M * (double)N * (double)K;

  // One tall GEMM when b is a plain matrix and a's batch rows stack contiguously: y [nb*M, N].
  const bool stacked = b.dim() == 2 && a.is_contiguous();
  Operand oa = make_operand(a, out_batch), ob = make_operand(b, out_batch);
  Tensor y = Tensor::empty(out_shape, a.dtype(), a.device());
  std::vector<int64_t> oy_scaled((size_t)nb);  // y (and gy) batch b starts at b*M*N
  for (int64_t i = 0; i < nb; ++i) oy_scaled[(size_t)i] = i * M * N;
  if (stacked) {
    kern::gemm(gemm_args(false, ob.lay.trans, nb * M, N, K, K, {0}, ob.lay.ld, {0}, N, {0}, false, false), oa.data,
               ob.data, y);
  } else {
    kern::gemm(gemm_args(oa.lay.trans, ob.lay.trans, M, N, K, oa.lay.ld, oa.offsets, ob.lay.ld, ob.offsets, N,
                         oy_scaled, false, false),
               oa.data, ob.data, y);
  }

  Tensor sa = oa.data.detach(), sb = ob.data.detach();
  record("matmul", y, {a, b}, [=](const Tensor& gy, std::vector<Tensor>& gx) {
    // gy [out_batch..., M, N] contiguous
    if (stacked) {
      // ga [nb*M, K] += gy [nb*M, N] @ b^T;  gb [K, N] += a^T [K, nb*M] @ gy [nb*M, N]
      if (gx[0].defined())
        kern::gemm(gemm_args(false, !ob.lay.trans, nb * M, K, N, N, {0}, ob.lay.ld, {0}, K, {0}, true, false), gy, sb,
                   gx[0]);
      if (gx[1].defined())
        kern::gemm(gemm_args(true, false, K, N, nb * M, K, {0}, N, {0}, N, {0}, true, false), sa, gy, gx[1]);
    } else {
      // Per batch: ga[b] += gy[b] @ op(b[b])^T, gb[b] += op(a[b])^T @ gy[b]; the gradients are
      // contiguous input-shaped, seen through the broadcast batch shape (stride 0 = shared).
      if (gx[0].defined()) {
        Operand ga = make_operand(gx[0], out_batch);
        kern::gemm(gemm_args(false, !ob.lay.trans, M, K, N, N, oy_scaled, ob.lay.ld, ob.offsets, K, ga.offsets, true,
                             oa.batch_broadcast),
                   gy, sb, gx[0]);
      }
      if (gx[1].defined()) {
        Operand gbm = make_operand(gx[1], out_batch);
        kern::gemm(gemm_args(!oa.lay.trans, false, K, N, M, oa.lay.ld, oa.offsets, N, oy_scaled, N, gbm.offsets, true,
                             ob.batch_broadcast),
                   sa, gy, gx[1]);
      }
    }
  }, flops);
  sp.finish(y, flops, -1, flops);  // all multiply-adds
  return y;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_matmul_inputs(x, w, "linear");
  GB_CHECK(x.dim() >= 1 && w.dim() == 2, "linear: expected x [..., in] and w [out, in], got x ", str(x.shape()),
           ", w ", str(w.shape()));
  const int64_t in = x.shape().back(), out = w.shape()[0];
  GB_CHECK(w.shape()[1] == in, "linear: x has ", in, " input features but w expects ", w.shape()[1], " (x ",
           str(x.shape()), ", w ", str(w.shape()), ")");
  if (bias.defined()) {
    check_same_dtype(x, bias, "linear");
    check_same_device(x, bias, "linear");
    GB_CHECK(bias.dim() == 1 && bias.shape()[0] == out, "linear: bias must be [", out, "], got ", str(bias.shape()),
             " (w ", str(w.shape()), ")");
  }
  trace::Span sp("linear", bias.defined() ? std::vector<Tensor>{x, w, bias} : std::vector<Tensor>{x, w});
  // x as rows [R, in]: a 2-D x may be any GEMM-readable layout, higher ranks are made contiguous.
  Layout lx{in, false};
  Tensor xd = x;
  if (x.dim() != 2 || !gemm_layout(x.shape()[0], in, x.strides()[0], x.strides()[1], lx)) {
    xd = x.contiguous();
    lx = {std::max<int64_t>(in, 1), false};
  }
  const int64_t R = in > 0 ? xd.numel() / in : numel(Shape(x.shape().begin(), x.shape().end() - 1));
  Layout lw;
  Tensor wd = w;
  if (!gemm_layout(out, in, w.strides()[0], w.strides()[1], lw)) {
    wd = w.contiguous();
    lw = {std::max<int64_t>(in, 1), false};
  }
  Shape ys = x.shape();
  ys.back() = out;
  Tensor y = Tensor::empty(ys, x.dtype(), x.device());
  const double mac = 2.0 * (double)R * (double)in * (double)out;
  const double flops = mac + (bias.defined() ? (double)R * (double)out : 0);
  if (bias.defined()) kern::bias_rows(bias.contiguous(), y);  // y rows start as the bias; GEMM adds (beta = 1)
  // y [R, out] = x [R, in] @ w^T: w stored row-major [out, in] is op(B) = B^T (trans_b).
  kern::gemm(gemm_args(lx.trans, !lw.trans, R, out, in, lx.ld, {0}, lw.ld, {0}, out, {0}, bias.defined(), false), xd,
             wd, y);
  Tensor sx = xd.detach(), sw = wd.detach();
  std::vector<Tensor> ins{x, w};
  if (bias.defined()) ins.push_back(bias);
  record("linear", y, ins, [=](const Tensor& gy, std::vector<Tensor>& gx) {
    // gx [R, in] += gy [R, out] @ w [out, in]
    if (gx[0].defined())
      kern::gemm(gemm_args(false, lw.trans, R, in, out, out, {0}, lw.ld, {0}, in, {0}, true, false), gy, sw, gx[0]);
    // gw [out, in] += gy^T [out, R] @ x [R, in]
    if (gx[1].defined())
      kern::gemm(gemm_args(true, lx.trans, out, in, R, out, {0}, lx.ld, {0}, in, {0}, true, false), gy, sx, gx[1]);
    // gbias [out] += gy summed over all rows, as ones [1, R] @ gy [R, out]: a GEMM of M = 1 reads gy
    // once, in rows, where a sum over the leading dims would first transpose it and then add each
    // column serially (2.4 ms against ~0.3 for R50's [196, 3072]). Same order for any thread count.
    if (gx.size() > 2 && gx[2].defined()) {
      if (gx[2].is_contiguous() && R > 0) {
        const Tensor ones = Tensor::ones({1, R}, gy.dtype(), gy.device());
        kern::gemm(gemm_args(false, false, 1, out, R, R, {0}, out, {0}, out, {0}, true, false), ones, gy, gx[2]);
      } else {
        accumulate_grad(gx[2], gy);
      }
    }
  }, flops);
  sp.finish(y, flops, -1, mac);
  return y;
}

}  // namespace gb

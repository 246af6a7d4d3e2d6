#include "xai/transformer_lrp.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "models/transunet.h"
#include "xai/gradients.h"

namespace gb::xai {

namespace {

// A host f64 copy: what the host loops below read (a capture or weight on a device comes back here).
Tensor f64(const Tensor& t) { return t.to(Device::CPU).to(DType::F64).contiguous(); }

// Sequential sum in row-major order (one fixed order: reproducible for any thread count).
double total(const Tensor& t) {
  Tensor c = f64(t);
  const double* p = c.data<double>();
  double s = 0;
  for (int64_t i = 0, n = c.numel(); i < n; ++i) s += p[i];
  return s;
}

// out[i] = f(a[i], b[i]) over two same-shaped tensors, as a fresh f64 tensor.
Tensor zip(const Tensor& a_in, const Tensor& b_in, const std::function<double(double, double)>& f) {
  Tensor a = f64(a_in), b = f64(b_in);
  GB_CHECK(a.shape() == b.shape(), "lrp: shapes ", str(a.shape()), " and ", str(b.shape()), " differ");
  Tensor o = Tensor::empty(a.shape(), DType::F64);
  const double *pa = a.data<double>(), *pb = b.data<double>();
  double* po = o.data<double>();
  for (int64_t i = 0, n = a.numel(); i < n; ++i) po[i] = f(pa[i], pb[i]);
  return o;
}

Tensor apply(const Tensor& a_in, const std::function<double(double)>& f) {
  Tensor a = f64(a_in);
  Tensor o = Tensor::empty(a.shape(), DType::F64);
  const double* pa = a.data<double>();
  double* po = o.data<double>();
  for (int64_t i = 0, n = a.numel(); i < n; ++i) po[i] = f(pa[i]);
  return o;
}

// r / stab(z), stab(z) = z + eps sign(z) with sign(0) = +1; exactly 0 when z == 0 (nothing to split).
double stab_div(double r, double z, double eps) { return z == 0 ? 0.0 : r / (z + (z >= 0 ? eps : -eps)); }

Tensor scaled(const Tensor& t, double s) {
  return apply(t, [s](double v) { return v * s; });
}

// The GEMMs of the rules run in `work` (the model's dtype, optimised kernels; f64 is exact enough for
// tests); quotients and sums stay in f64. Result f64, contiguous.
Tensor mm(const Tensor& a, const Tensor& b, DType work) {
  return matmul(a.to(work), b.to(work)).to(DType::F64).contiguous();
}
Tensor lin(const Tensor& x, const Tensor& w, const Tensor& bias, DType work) {
  return linear(x.to(work), w.to(work), bias.defined() ? bias.to(work) : Tensor()).to(DType::F64).contiguous();
}
Tensor prod(const Tensor& a, const Tensor& b) {
  return zip(a, b, [](double u, double v) { return u * v; });
}
Tensor plus(const Tensor& a, const Tensor& b) {
  return zip(a, b, [](double u, double v) { return u + v; });
}
DType work_dtype(const Tensor& t) { return t.dtype() == DType::F32 ? DType::F32 : DType::F64; }

Tensor linear_rule(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, const Tensor& R_in, const LrpOptions& opt,
                   DType work);
void matmul_rule(const Tensor& P_in, const Tensor& Q_in, const Tensor& R_in, double eps, Tensor& RP, Tensor& RQ, DType work);

// [N, D] <-> [H, N, Dh]
Tensor split_heads(const Tensor& t, int64_t H) {
  const int64_t N = t.size(0), D = t.size(1);
  return t.view_reshape({N, H, D / H}).view_permute({1, 0, 2}).contiguous();
}
Tensor merge_heads(const Tensor& t) {
  const int64_t H = t.size(0), N = t.size(1), Dh = t.size(2);
  return t.view_permute({1, 0, 2}).contiguous().view_reshape({N, H * Dh});
}

// [1, N, D] hook capture -> [N, D] f64
Tensor tokens2d(const Tensor& t, const char* what) {
  GB_CHECK(t.defined() && t.dim() == 3 && t.size(0) == 1, "transformer_lrp: ", what, " was not captured as [1, N, D]",
           t.defined() ? " (got " + t.desc() + ")" : std::string());
  return f64(t.detach()).view_reshape({t.size(1), t.size(2)});
}

}  // namespace

Tensor lrp_linear(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& R, const LrpOptions& opt) {
  return linear_rule(x, w, b, R, opt, work_dtype(x));
}

void lrp_matmul(const Tensor& P, const Tensor& Q, const Tensor& R, double eps, Tensor& RP, Tensor& RQ) {
  matmul_rule(P, Q, R, eps, RP, RQ, work_dtype(P));
}

namespace {

Tensor linear_rule(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, const Tensor& R_in, const LrpOptions& opt,
                   DType work) {
  NoGradGuard ng;
  Tensor x = f64(x_in), w = f64(w_in), R = f64(R_in);
  GB_CHECK(x.dim() == 2 && w.dim() == 2 && R.dim() == 2 && x.size(1) == w.size(1) && R.size(0) == x.size(0) &&
               R.size(1) == w.size(0),
           "lrp_linear: expected x [n, in], w [out, in], R [n, out], got x ", str(x.shape()), ", w ", str(w.shape()),
           ", R ", str(R.shape()));
  const double eps = opt.epsilon;
  auto div = [eps](double r, double z) { return stab_div(r, z, eps); };
  if (opt.linear == LinearRule::Epsilon) {
    Tensor Z = lin(x, w, b_in.defined() ? f64(b_in) : Tensor(), work);  // [n, out]
    return prod(x, mm(zip(R, Z, div), w, work));                         // x ⊙ ((R / Z) W)  [n, in]
  }
  GB_CHECK(opt.alpha >= 1, "lrp_linear: alpha-beta needs alpha >= 1 (beta = alpha - 1), got ", opt.alpha);
  Tensor xp = apply(x, [](double v) { return v > 0 ? v : 0.0; }), xn = apply(x, [](double v) { return v < 0 ? v : 0.0; });
  Tensor wp = apply(w, [](double v) { return v > 0 ? v : 0.0; }), wn = apply(w, [](double v) { return v < 0 ? v : 0.0; });
  // x+ W1^T + x- W2^T shares R among the products of one sign (activators: W1 = W+, W2 = W-).
  auto part = [&](const Tensor& w1, const Tensor& w2) {
    Tensor Z = plus(lin(xp, w1, Tensor(), work), lin(xn, w2, Tensor(), work));  // [n, out]
    Tensor S = zip(R, Z, div);
    return plus(prod(xp, mm(S, w1, work)), prod(xn, mm(S, w2, work)));  // [n, in]
  };
  Tensor act = part(wp, wn);
  if (opt.alpha == 1) return act;
  Tensor inh = part(wn, wp);
  const double a = opt.alpha, be = opt.alpha - 1;
  return zip(act, inh, [a, be](double p, double q) { return a * p - be * q; });
}

void matmul_rule(const Tensor& P_in, const Tensor& Q_in, const Tensor& R_in, double eps, Tensor& RP, Tensor& RQ, DType work) {
  NoGradGuard ng;
  Tensor P = f64(P_in), Q = f64(Q_in), R = f64(R_in);
  Tensor C = mm(P, Q, work);  // [.., m, n]
  GB_CHECK(C.shape() == R.shape(), "lrp_matmul: relevance ", str(R.shape()), " does not match P Q ", str(C.shape()));
  Tensor S = zip(R, C, [eps](double r, double z) { return stab_div(r, z, eps); });
  RP = prod(P, mm(S, transpose(Q, -1, -2), work));  // P ⊙ (S Q^T)  [.., m, k]
  RQ = prod(Q, mm(transpose(P, -1, -2), S, work));  // Q ⊙ (P^T S)  [.., k, n]
}

}  // namespace

void lrp_add(const Tensor& a_in, const Tensor& b_in, const Tensor& R_in, const LrpOptions& opt, Tensor& Ra, Tensor& Rb) {
  NoGradGuard ng;
  Tensor a = f64(a_in), b = f64(b_in), R = f64(R_in);
  GB_CHECK(a.shape() == b.shape() && a.shape() == R.shape(), "lrp_add: shapes ", str(a.shape()), ", ",
           str(b.shape()), ", R ", str(R.shape()));
  const double eps = opt.epsilon;
  Tensor S = zip(R, plus(a, b), [eps](double r, double z) { return stab_div(r, z, eps); });
  Ra = zip(a, S, [](double u, double s) { return u * s; });
  Rb = zip(b, S, [](double u, double s) { return u * s; });
  if (!opt.renormalise_add) return;
  const double sa = total(Ra), sb = total(Rb), sr = total(R), den = std::fabs(sa) + std::fabs(sb);
  const double fa = den > 0 ? std::fabs(sa) / den * sr : 0.0, fb = den > 0 ? std::fabs(sb) / den * sr : 0.0;
  Ra = scaled(Ra, sa != 0 ? fa / sa : 0.0);
  Rb = scaled(Rb, sb != 0 ? fb / sb : 0.0);
}

LrpResult transformer_lrp(models::SegmentationModel& model, const Tensor& x, const Target& target, const LrpOptions& opt) {
  auto* tu = dynamic_cast<models::TransUNet*>(&model);
  GB_CHECK(tu != nullptr, "transformer_lrp: model '", model.config().name, "' (", model.type_name(),
           ") is not a TransUNet: it has no transformer blocks");
  GB_CHECK(x.dim() == 4 && x.size(0) == 1, "transformer_lrp: input must be [1, C, H, W], got ", x.desc());
  check_target(target, {1, model.config().classes, x.size(2), x.size(3)}, "transformer_lrp");
  auto& layers = *tu->transformer->encoder->layer;
  const int64_t L = (int64_t)layers.size();
  GB_CHECK(L > 0, "transformer_lrp: the model has no encoder blocks");

  // ---- forward with hooks, backward of T ----
  EvalGuard eg(model);
  FrozenParameters fp(model);
  struct Capture { Tensor ln1, q, k, v, attn, ln2, fc1, fc2, out; };
  std::vector<Capture> cap(L);
  Tensor x0, h_enc;
  std::vector<int> hooks;
  auto keep = [&](const std::string& name, Tensor* slot) {
    hooks.push_back(model.register_forward_hook(name, [slot](const Tensor& y) { *slot = y; }));
  };
  keep("transformer.embeddings", &x0);
  hooks.push_back(model.register_forward_hook("transformer.encoder", [&h_enc](const Tensor& y) {
    h_enc = y;
    if (h_enc.requires_grad()) h_enc.retain_grad();
  }));
  for (int64_t i = 0; i < L; ++i) {
    const std::string p = "transformer.encoder.layer." + std::to_string(i);
    keep(p + ".attention_norm", &cap[i].ln1);
    keep(p + ".attn.query", &cap[i].q);
    keep(p + ".attn.key", &cap[i].k);
    keep(p + ".attn.value", &cap[i].v);
    keep(p + ".attn", &cap[i].attn);
    keep(p + ".ffn_norm", &cap[i].ln2);
    keep(p + ".ffn.fc1", &cap[i].fc1);
    keep(p + ".ffn.fc2", &cap[i].fc2);
    keep(p, &cap[i].out);
  }
  auto cleanup = [&] {
    for (int h : hooks) model.remove_hook(h);
    tu->keep_attention(false);
  };
  LrpResult r;
  r.gh = tu->grid_h();
  r.gw = tu->grid_w();
  std::vector<Tensor> probs;
  try {
    tu->keep_attention(true);
    Tensor xi = input_on_model_device(model, x);  // where the model is
    xi.set_requires_grad(true);  // one leaf for the graph; parameters are frozen
    Tensor T = target_scores(model.forward(xi), target);  // [1]
    probs = tu->attention_probs();
    for (Tensor& p : probs) {
      GB_CHECK(p.defined() && p.requires_grad(), "transformer_lrp: attention probabilities were not kept");
      p.retain_grad();
    }
    GB_CHECK(h_enc.defined() && h_enc.requires_grad(), "transformer_lrp: the encoder output was not captured");
    r.target = T.item();
    sum(T).backward();
  } catch (...) {
    cleanup();
    throw;
  }
  cleanup();

  NoGradGuard ng;
  const DType work = work_dtype(x);
  for (int64_t i = 0; i < L; ++i) {
    const Tensor& p = probs[i];  // [1, H, N, N]
    const Shape s3{p.size(1), p.size(2), p.size(3)};
    r.probs.push_back(f64(p.detach()).view_reshape(s3));
    Tensor g = p.grad();
    r.grads.push_back(g.defined() ? f64(g).view_reshape(s3) : Tensor::zeros(s3, DType::F64));
  }

  // ---- the seed: Gradient x Input at the encoder output, scaled ----
  Tensor g_enc = h_enc.grad();
  GB_CHECK(g_enc.defined(), "transformer_lrp: no gradient reached the encoder output");
  Tensor R = zip(tokens2d(h_enc, "the encoder output"), tokens2d(g_enc, "its gradient"),
                 [](double h, double g) { return h * g; });  // [N, D]
  r.seed_gxi = total(R);
  if (opt.seed != SeedScale::GradientTimesInput) {
    GB_CHECK(r.seed_gxi != 0, "transformer_lrp: the seed sum h_enc . dT/dh_enc is 0; nothing to propagate");
    const double want = opt.seed == SeedScale::Target ? r.target : 1.0;
    if (opt.seed == SeedScale::Target && r.target * r.seed_gxi < 0)
      r.warning = "transformer_lrp: T = " + std::to_string(r.target) + " and the seed sum " +
                  std::to_string(r.seed_gxi) + " differ in sign: scaling to T flips every relevance";
    R = scaled(R, want / r.seed_gxi);
  }
  r.seed_sum = total(R);

  // ---- relevance, block L-1 down to 0 ----
  r.blocks.resize(L);
  r.relevance.resize(L);
  r.layer_sums.assign(L + 1, 0.0);
  r.layer_sums[L] = r.seed_sum;  // encoder_norm: identity rule
  for (int64_t i = L - 1; i >= 0; --i) {
    auto& blk = layers.at<models::Block>(i);
    const Capture& c = cap[i];
    const int64_t H = blk.attn->heads();
    LrpBlockSums& bs = r.blocks[i];
    Tensor xin = tokens2d(i == 0 ? x0 : cap[i - 1].out, "the block input");  // [N, D]
    Tensor att = tokens2d(c.attn, "attn");                                     // [N, D]
    Tensor h = plus(xin, att);                                                 // [N, D]
    bs.out = total(R);
    // y = h + fc2(gelu(fc1(LN2(h))))
    Tensor Rh_skip, Rm;
    lrp_add(h, tokens2d(c.fc2, "ffn.fc2"), R, opt, Rh_skip, Rm);
    bs.mlp_skip = total(Rh_skip);
    bs.mlp = total(Rm);
    Tensor gel = apply(tokens2d(c.fc1, "ffn.fc1"), [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); });
    Tensor Rg = linear_rule(gel, blk.ffn->fc2->weight, blk.ffn->fc2->bias, Rm, opt, work);  // [N, mlp]
    bs.mlp_hidden = total(Rg);
    Tensor Rln2 = linear_rule(tokens2d(c.ln2, "ffn_norm"), blk.ffn->fc1->weight, blk.ffn->fc1->bias, Rg, opt, work);  // GELU: identity
    bs.mlp_in = total(Rln2);
    Tensor Rh = plus(Rh_skip, Rln2);  // LN2: identity; clone: sum
    bs.hidden = total(Rh);
    // h = x + out(merge(A V))
    Tensor Rx_skip, Ratt;
    lrp_add(xin, att, Rh, opt, Rx_skip, Ratt);
    bs.attn_skip = total(Rx_skip);
    bs.attn = total(Ratt);
    Tensor Q = split_heads(tokens2d(c.q, "attn.query"), H), K = split_heads(tokens2d(c.k, "attn.key"), H),
           V = split_heads(tokens2d(c.v, "attn.value"), H);  // [H, N, Dh]
    const Tensor& A = r.probs[i];                               // [H, N, N]
    Tensor ctx = merge_heads(mm(A, V, work));        // [N, D]
    Tensor Rctx = linear_rule(ctx, blk.attn->out->weight, blk.attn->out->bias, Ratt, opt, work);
    bs.context = total(Rctx);
    Tensor RA, RV;
    matmul_rule(A, V, split_heads(Rctx, H), opt.epsilon, RA, RV, work);
    RA = scaled(RA, 0.5);  // [H, N, N]: R^(A)
    RV = scaled(RV, 0.5);  // [H, N, Dh]
    r.relevance[i] = RA;
    bs.attention = total(RA);
    bs.value = total(RV);
    Tensor RQ, RKt;  // softmax: identity; scores = q k^T (unscaled product)
    matmul_rule(Q, transpose(K, 1, 2), RA, opt.epsilon, RQ, RKt, work);
    RQ = scaled(RQ, 0.5);                                      // [H, N, Dh]
    Tensor RK = scaled(transpose(RKt, 1, 2).contiguous(), 0.5);  // [H, Dh, N] -> [H, N, Dh]
    bs.query = total(RQ);
    bs.key = total(RK);
    Tensor ln1 = tokens2d(c.ln1, "attention_norm");
    Tensor Rln1 = plus(plus(linear_rule(ln1, blk.attn->query->weight, blk.attn->query->bias, merge_heads(RQ), opt, work),
                            linear_rule(ln1, blk.attn->key->weight, blk.attn->key->bias, merge_heads(RK), opt, work)),
                       linear_rule(ln1, blk.attn->value->weight, blk.attn->value->bias, merge_heads(RV), opt, work));
    bs.attn_in = total(Rln1);
    R = plus(Rx_skip, Rln1);  // LN1: identity; clone: sum
    bs.in = total(R);
    r.layer_sums[i] = bs.in;
  }
  r.input_relevance = R;

  // ---- conservation, as IG's completeness ----
  const double ref = r.seed_sum;
  for (double s : r.layer_sums) r.delta_abs = std::max(r.delta_abs, std::fabs(s - ref));
  r.delta_rel = r.delta_abs / std::max(std::fabs(ref), 1e-300);
  r.within_tolerance = r.delta_rel <= opt.tolerance;
  if (!r.within_tolerance) {
    if (!r.warning.empty()) r.warning += "; ";
    r.warning += "transformer_lrp: relevance is not conserved: worst layer off by " + std::to_string(100 * r.delta_rel) +
                 " % of " + std::to_string(ref) + (opt.linear == LinearRule::Epsilon ? " (the epsilon rule leaks into biases)" : "");
  }
  return r;
}

}  // namespace gb::xai

#include "xai/attention_rollout.h"

#include <algorithm>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "models/transunet.h"
#include "xai/cam.h"
#include "xai/gradients.h"

namespace gb::xai {

TransformerMethod transformer_method_from_name(const std::string& s) {
  if (s == "rollout" || s == "attention-rollout") return TransformerMethod::Rollout;
  if (s == "grad-rollout" || s == "gradient-rollout" || s == "chefer2021-generic") return TransformerMethod::GradRollout;
  if (s == "relevance" || s == "chefer" || s == "lrp" || s == "chefer2021") return TransformerMethod::Relevance;
  fail("transformer attribution: unknown method '", s, "' (rollout, grad-rollout, chefer)");
}

const char* transformer_method_name(TransformerMethod m) {
  switch (m) {
    case TransformerMethod::Rollout: return "rollout";
    case TransformerMethod::GradRollout: return "grad-rollout";
    case TransformerMethod::Relevance: return "chefer";
  }
  return "?";
}

namespace {

// A host f64 copy: what the host loops below read (a capture or weight on a device comes back here).
Tensor f64(const Tensor& t) { return t.to(Device::CPU).to(DType::F64).contiguous(); }

Tensor identity(int64_t n) {
  Tensor I = Tensor::zeros({n, n}, DType::F64);
  double* p = I.data<double>();
  for (int64_t i = 0; i < n; ++i) p[i * n + i] = 1.0;
  return I;
}

// Checks one list of per-block [H, N, N] tensors and returns N.
int64_t check_blocks(const std::vector<Tensor>& X, const char* who, const char* what, int64_t start_layer) {
  GB_CHECK(!X.empty(), who, ": no blocks");
  GB_CHECK(start_layer >= 0 && start_layer < (int64_t)X.size(), who, ": start_layer ", start_layer, " is not in [0, ",
           X.size(), ")");
  const Shape& s0 = X[0].shape();
  GB_CHECK(s0.size() == 3 && s0[1] == s0[2], who, ": ", what, " must be [H, N, N] per block, got ", str(s0));
  for (const Tensor& t : X)
    GB_CHECK(t.shape() == s0, who, ": ", what, " blocks differ in shape: ", str(s0), " vs ", str(t.shape()));
  return s0[1];
}

void check_pair(const std::vector<Tensor>& A, const std::vector<Tensor>& G, const char* who) {
  GB_CHECK(A.size() == G.size(), who, ": ", A.size(), " blocks of attention but ", G.size(), " of gradients");
  for (size_t l = 0; l < A.size(); ++l)
    GB_CHECK(A[l].shape() == G[l].shape(), who, ": block ", l, ": ", str(A[l].shape()), " vs gradient ",
             str(G[l].shape()));
}

// mean over heads of X [H, N, N] -> [N, N]
Tensor head_mean(const Tensor& X_in) {
  Tensor X = f64(X_in);
  const int64_t H = X.size(0), NN = X.size(1) * X.size(2);
  Tensor o = Tensor::zeros({X.size(1), X.size(2)}, DType::F64);
  const double* px = X.data<double>();
  double* po = o.data<double>();
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < NN; ++i) po[i] += px[h * NN + i];
  for (int64_t i = 0; i < NN; ++i) po[i] /= (double)H;
  return o;
}

Tensor mm(const Tensor& a, const Tensor& b) {
  NoGradGuard ng;
  return matmul(a, b).contiguous();
}

}  // namespace

// ---------------------------------------------------------------- token geometry
std::vector<int64_t> tokens_overlapping(const Tensor& mask, int64_t gh, int64_t gw) {
  GB_CHECK(mask.defined() && mask.dim() == 2, "transformer attribution: region must be [H, W], got ",
           mask.defined() ? mask.desc() : std::string("undefined"));
  const int64_t H = mask.size(0), W = mask.size(1);
  GB_CHECK(gh > 0 && gw > 0 && H % gh == 0 && W % gw == 0, "transformer attribution: region ", H, "x", W,
           " is not a whole number of patches of the ", gh, "x", gw, " token grid");
  const int64_t ph = H / gh, pw = W / gw;
  const std::vector<double> m = mask.to(Device::CPU).to(DType::F64).contiguous().to_vector();
  std::vector<int64_t> q;
  for (int64_t r = 0; r < gh; ++r)
    for (int64_t c = 0; c < gw; ++c) {
      bool hit = false;
      for (int64_t y = r * ph; y < (r + 1) * ph && !hit; ++y)
        for (int64_t x = c * pw; x < (c + 1) * pw && !hit; ++x) hit = m[y * W + x] != 0;
      if (hit) q.push_back(r * gw + c);
    }
  GB_CHECK(!q.empty(), "transformer attribution: the region is empty (no token to explain)");
  return q;
}

Tensor mean_rows(const Tensor& joint_in, const std::vector<int64_t>& rows) {
  Tensor J = f64(joint_in);
  GB_CHECK(J.dim() == 2 && !rows.empty(), "mean_rows: expected [N, N] and at least one row, got ", J.desc(), " and ",
           rows.size(), " rows");
  const int64_t N = J.size(0), M = J.size(1);
  Tensor o = Tensor::zeros({M}, DType::F64);
  const double* pj = J.data<double>();
  double* po = o.data<double>();
  for (int64_t i : rows) {
    GB_CHECK(i >= 0 && i < N, "mean_rows: row ", i, " is not in [0, ", N, ")");
    for (int64_t j = 0; j < M; ++j) po[j] += pj[i * M + j];
  }
  for (int64_t j = 0; j < M; ++j) po[j] /= (double)rows.size();
  return o;
}

Tensor tokens_to_image(const Tensor& tokens, int64_t gh, int64_t gw, int64_t H, int64_t W) {
  GB_CHECK(tokens.numel() == gh * gw, "tokens_to_image: ", tokens.desc(), " is not a ", gh, "x", gw, " token grid");
  NoGradGuard ng;
  Tensor t4 = f64(tokens).view_reshape({1, 1, gh, gw});
  return upsample_bilinear2d(t4, H, W, false).contiguous().view_reshape({H, W});
}

// ---------------------------------------------------------------- rollout algebra
Tensor weighted_heads(const Tensor& G_in, const Tensor& X_in) {
  Tensor G = f64(G_in), X = f64(X_in);
  GB_CHECK(G.shape() == X.shape(), "weighted_heads: gradient ", str(G.shape()), " vs ", str(X.shape()));
  Tensor o = Tensor::empty(G.shape(), DType::F64);
  const double *pg = G.data<double>(), *px = X.data<double>();
  double* po = o.data<double>();
  for (int64_t i = 0, n = G.numel(); i < n; ++i) po[i] = std::max(pg[i] * px[i], 0.0);
  return o;
}

Tensor weighted_head_mean(const Tensor& G, const Tensor& X) { return head_mean(weighted_heads(G, X)); }

Tensor attention_rollout(const std::vector<Tensor>& A, int64_t start_layer) {
  const int64_t N = check_blocks(A, "attention_rollout", "attention", start_layer);
  Tensor joint;
  for (size_t l = start_layer; l < A.size(); ++l) {
    Tensor a = head_mean(A[l]);  // [N, N]
    double* p = a.data<double>();
    for (int64_t i = 0; i < N; ++i) {
      p[i * N + i] += 1.0;
      double s = 0;
      for (int64_t j = 0; j < N; ++j) s += p[i * N + j];
      for (int64_t j = 0; j < N; ++j) p[i * N + j] /= s;  // s >= 1: rows of A are >= 0
    }
    joint = joint.defined() ? mm(a, joint) : a;
  }
  return joint;
}

Tensor gradient_rollout(const std::vector<Tensor>& A, const std::vector<Tensor>& G, int64_t start_layer) {
  const int64_t N = check_blocks(A, "gradient_rollout", "attention", start_layer);
  check_pair(A, G, "gradient_rollout");
  Tensor joint = identity(N);
  for (size_t l = start_layer; l < A.size(); ++l) {
    NoGradGuard ng;
    joint = add(joint, mm(weighted_head_mean(G[l], A[l]), joint)).contiguous();  // R + mean_h ReLU(G ⊙ A) R
  }
  return joint;
}

Tensor relevance_rollout(const std::vector<Tensor>& R, const std::vector<Tensor>& G, int64_t start_layer) {
  const int64_t N = check_blocks(R, "relevance_rollout", "relevance", start_layer);
  check_pair(R, G, "relevance_rollout");
  Tensor joint;
  for (size_t l = start_layer; l < R.size(); ++l) {
    Tensor a = weighted_head_mean(G[l], R[l]);  // [N, N]
    double* p = a.data<double>();
    for (int64_t i = 0; i < N; ++i) p[i * N + i] += 1.0;  // I + mean_h ReLU(G ⊙ R), not normalised
    joint = joint.defined() ? mm(a, joint) : a;
  }
  return joint;
}

// ---------------------------------------------------------------- recording
AttentionRecord record_attention(models::SegmentationModel& model, const Tensor& x, const Target& target) {
  auto* tu = dynamic_cast<models::TransUNet*>(&model);
  GB_CHECK(tu != nullptr, "record_attention: model '", model.config().name, "' (", model.type_name(),
           ") is not a TransUNet: it has no attention to record");
  GB_CHECK(x.dim() == 4 && x.size(0) == 1, "record_attention: input must be [1, C, H, W], got ", x.desc());
  check_target(target, {1, model.config().classes, x.size(2), x.size(3)}, "record_attention");
  EvalGuard eg(model);
  FrozenParameters fp(model);
  AttentionRecord rec;
  rec.gh = tu->grid_h();
  rec.gw = tu->grid_w();
  std::vector<Tensor> probs;
  try {
    tu->keep_attention(true);
    Tensor xi = input_on_model_device(model, x);  // where the model is
    xi.set_requires_grad(true);  // one leaf for the graph; parameters are frozen
    Tensor T = target_scores(model.forward(xi), target);
    probs = tu->attention_probs();
    for (Tensor& p : probs) {
      GB_CHECK(p.defined() && p.requires_grad(), "record_attention: attention probabilities were not kept");
      p.retain_grad();
    }
    rec.target = T.item();
    sum(T).backward();
  } catch (...) {
    tu->keep_attention(false);
    throw;
  }
  tu->keep_attention(false);
  for (const Tensor& p : probs) {
    const Shape s3{p.size(1), p.size(2), p.size(3)};  // [1, H, N, N] -> [H, N, N]
    rec.probs.push_back(f64(p.detach()).view_reshape(s3));
    Tensor g = p.grad();
    rec.grads.push_back(g.defined() ? f64(g).view_reshape(s3) : Tensor::zeros(s3, DType::F64));
  }
  return rec;
}

// ---------------------------------------------------------------- the entry point
TransformerMap transformer_attribution(models::SegmentationModel& model, const Tensor& x, const Target& target,
                                       const TransformerOptions& opt) {
  auto* tu = dynamic_cast<models::TransUNet*>(&model);
  GB_CHECK(tu != nullptr, "transformer attribution: model '", model.config().name, "' (", model.type_name(),
           ") is not a TransUNet: attention rollout needs transformer blocks");
  GB_CHECK(x.dim() == 4 && x.size(0) == 1, "transformer attribution: input must be [1, C, H, W], got ", x.desc());
  const int64_t H = x.size(2), W = x.size(3);
  GB_CHECK(target.mask.defined() && target.mask.dim() == 2 && target.mask.size(0) == H && target.mask.size(1) == W,
           "transformer attribution: region must be [", H, ", ", W, "] (one sample), got ",
           target.mask.defined() ? target.mask.desc() : std::string("undefined"));
  TransformerMap m;
  m.method = opt.method;
  m.cls = target.cls;
  m.gh = tu->grid_h();
  m.gw = tu->grid_w();
  m.query = tokens_overlapping(target.mask, m.gh, m.gw);  // before any pass: an empty region fails fast
  if (opt.rows == QueryRows::All) {
    for (int64_t i = 0; i < m.gh * m.gw; ++i) m.rows.push_back(i);
  } else {
    m.rows = m.query;
  }

  std::vector<Tensor> probs, grads;
  if (opt.method == TransformerMethod::Relevance) {
    m.lrp = transformer_lrp(model, x, target, opt.lrp);
    m.target = m.lrp.target;
    probs = m.lrp.probs;
    grads = m.lrp.grads;
  } else {
    AttentionRecord rec = record_attention(model, x, target);
    m.target = rec.target;
    probs = std::move(rec.probs);
    grads = std::move(rec.grads);
  }
  switch (opt.method) {
    case TransformerMethod::Rollout: m.joint = attention_rollout(probs, opt.start_layer); break;
    case TransformerMethod::GradRollout: m.joint = gradient_rollout(probs, grads, opt.start_layer); break;
    case TransformerMethod::Relevance: m.joint = relevance_rollout(m.lrp.relevance, grads, opt.start_layer); break;
  }
  m.tokens = mean_rows(m.joint, m.rows).view_reshape({m.gh, m.gw});
  m.upsampled = tokens_to_image(m.tokens, m.gh, m.gw, H, W);
  m.normalised = normalise01(m.upsampled);

  if (opt.per_layer || opt.per_head) {
    const int64_t L = (int64_t)probs.size(), NH = probs[0].size(0), N = probs[0].size(1);
    std::vector<double> ph(L * NH * N), pl(L * N, 0.0);
    for (int64_t l = 0; l < L; ++l) {
      Tensor Wl = opt.method == TransformerMethod::Rollout     ? probs[l]
                  : opt.method == TransformerMethod::GradRollout ? weighted_heads(grads[l], probs[l])
                                                                 : weighted_heads(grads[l], m.lrp.relevance[l]);
      Tensor Wc = f64(Wl);  // [H, N, N]
      for (int64_t h = 0; h < NH; ++h) {
        Tensor row = mean_rows(Wc.view_slice(0, h, h + 1).view_reshape({N, N}), m.rows);  // [N]
        const std::vector<double> v = row.to_vector();
        for (int64_t j = 0; j < N; ++j) {
          ph[(l * NH + h) * N + j] = v[j];
          pl[l * N + j] += v[j] / (double)NH;
        }
      }
    }
    if (opt.per_head) m.per_head = Tensor::from_vector(ph, {L, NH, m.gh, m.gw});
    if (opt.per_layer) m.per_layer = Tensor::from_vector(pl, {L, m.gh, m.gw});
  }
  return m;
}

}  // namespace gb::xai

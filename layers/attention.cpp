#include "layers/attention.h"

#include <cmath>

#include "layers/init.h"

namespace gb::nn {

MultiHeadAttention::MultiHeadAttention(int64_t hidden, int64_t heads, double attn_dropout_p, Generator& gen)
    : hidden_(hidden), heads_(heads) {
  GB_CHECK(heads > 0 && hidden % heads == 0, "MultiHeadAttention: hidden ", hidden, " is not divisible by ", heads,
           " heads");
  head_dim_ = hidden / heads;
  query = register_module("query", std::make_shared<Linear>(hidden, hidden, true, gen));
  key = register_module("key", std::make_shared<Linear>(hidden, hidden, true, gen));
  value = register_module("value", std::make_shared<Linear>(hidden, hidden, true, gen));
  out = register_module("out", std::make_shared<Linear>(hidden, hidden, true, gen));
  attn_dropout = register_module("attn_dropout", std::make_shared<Dropout>(attn_dropout_p));
  proj_dropout = register_module("proj_dropout", std::make_shared<Dropout>(attn_dropout_p));
}

Tensor MultiHeadAttention::forward(const Tensor& x) {
  return run([&] {
    GB_CHECK(x.dim() == 3 && x.size(2) == hidden_, "MultiHeadAttention '", full_name(), "': expected [B, T, ",
             hidden_, "], got ", x.desc());
    const int64_t B = x.size(0), T = x.size(1);
    // [B, T, hidden] -> [B, H, T, Dh]
    auto split = [&](const Tensor& t) { return permute(reshape(t, {B, T, heads_, head_dim_}), {0, 2, 1, 3}); };
    Tensor q = split(query->forward(x)), k = split(key->forward(x)), v = split(value->forward(x));
    const double scale = 1.0 / std::sqrt((double)head_dim_);
    Tensor ctx, probs;
    const bool drop = is_training() && attn_dropout->p() > 0;
    if (drop) {
      // the fused op has no dropout on the probabilities: compose it
      Tensor scores = mul_scalar(matmul(q, transpose(k, -1, -2)), scale);
      probs = softmax(scores, -1);
      ctx = matmul(attn_dropout->forward(probs), v);
    } else {
      ctx = scaled_dot_product_attention(q, k, v, scale, keep_ ? &probs : nullptr);
    }
    probs_ = keep_ ? probs : Tensor();
    Tensor merged = reshape(contiguous(permute(ctx, {0, 2, 1, 3})), {B, T, hidden_});
    return proj_dropout->forward(out->forward(merged));
  });
}

Mlp::Mlp(int64_t hidden, int64_t mlp_dim, double p, Generator& gen) {
  fc1 = register_module("fc1", std::make_shared<Linear>(hidden, mlp_dim, true, gen));
  fc2 = register_module("fc2", std::make_shared<Linear>(mlp_dim, hidden, true, gen));
  dropout = register_module("dropout", std::make_shared<Dropout>(p));
  // official _init_weights, in its order: both weights, then both biases
  init::xavier_uniform(fc1->weight, gen);
  init::xavier_uniform(fc2->weight, gen);
  init::normal(fc1->bias, 0.0, 1e-6, gen);
  init::normal(fc2->bias, 0.0, 1e-6, gen);
}

Tensor Mlp::forward(const Tensor& x) {
  return run([&] {
    Tensor h = fc1->forward(x);
    h = dropout->forward(gelu(h));
    return dropout->forward(fc2->forward(h));
  });
}

}  // namespace gb::nn

// Transformer pieces with the official TransUNet (vit_seg_modeling.py) names and initialisation.
//
// MultiHeadAttention: children query, key, value, out (Linear hidden -> hidden, torch default init),
// attn_dropout (on the probabilities) and proj_dropout (on the output). x [B, T, hidden] ->
// [B, T, hidden]; heads split hidden into H x Dh, scores scaled by 1/sqrt(Dh).
// With keep_probs(true) the last forward's probabilities [B, H, T, T] stay available (a graph
// tensor: explanations may retain_grad() on it).
//
// Mlp: fc1 (hidden -> mlp_dim), exact GELU, dropout, fc2 (mlp_dim -> hidden), dropout; weights
// xavier_uniform, biases N(0, 1e-6) as the official _init_weights.
#pragma once
#include "layers/dropout.h"
#include "layers/linear.h"

namespace gb::nn {

class MultiHeadAttention : public Unary {
 public:
  MultiHeadAttention(int64_t hidden, int64_t heads, double attn_dropout, Generator& gen);
  std::string type_name() const override { return "MultiHeadAttention"; }
  Tensor forward(const Tensor& x) override;
  void keep_probs(bool on) { keep_ = on; }
  const Tensor& last_probs() const { return probs_; }
  int64_t heads() const { return heads_; }

  std::shared_ptr<Linear> query, key, value, out;
  std::shared_ptr<Dropout> attn_dropout, proj_dropout;

 private:
  int64_t hidden_, heads_, head_dim_;
  bool keep_ = false;
  Tensor probs_;
};

class Mlp : public Unary {
 public:
  Mlp(int64_t hidden, int64_t mlp_dim, double dropout, Generator& gen);
  std::string type_name() const override { return "Mlp"; }
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Linear> fc1, fc2;
  std::shared_ptr<Dropout> dropout;
};

}  // namespace gb::nn

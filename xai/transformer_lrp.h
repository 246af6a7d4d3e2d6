// LRP relevance through TransUNet's encoder blocks, the relevance pass of Chefer, Gur, Wolf (CVPR 2021,
// "Transformer Interpretability Beyond Attention Visualization"; rules as their public
// Transformer-Explainability code applies them, re-derived here). Its product R^(A) — the relevance of
// every block's attention probabilities — feeds the Relevance rollout of xai/attention_rollout.h.
//
// The pass. One forward of the model (eval mode; forward hooks keep every block's input, LayerNorm
// outputs, q, k, v, attention output, fc1 and fc2 outputs; the attention modules keep their
// probabilities) and one backward of T (for dT/dA_l and dT/dh_enc). Then, in f64 on the host from the
// captured values, relevance R runs from the encoder output down to its input, block L-1 first. With
// the model on a device (Module::to) the forward and backward run there, and the captures, the
// gradients and the weights the rules read come back to the host once each per map; the rules
// themselves always run on the host.
//
// Where relevance enters (our departure from Chefer, whose ViT ends in a linear head on a class token).
// TransUNet's target is read through a CNN decoder with skip connections from the ResNet, so there is
// no head to start LRP from. The seed at the encoder output h_enc [N, D] is Gradient x Input,
//   R_enc = h_enc ⊙ dT/dh_enc,
// which is what LRP-0 gives for a decoder that is linear in h_enc; the part of T carried by the skips,
// by biases and BatchNorm shifts is not in it: seed_gxi = sum R_enc is reported beside T. Then scaled
// (LrpOptions::seed): Target (default) multiplies by T / seed_gxi so that sum R_enc = T, the quantity
// conservation is checked against (DESIGN §7); Unit makes the sum 1 (Chefer's one-hot); GradientTimesInput
// keeps it. When seed_gxi and T differ in sign, Target flips every relevance: a warning says so.
// seed_gxi == 0 with Target or Unit is an error.
//
// Rules, per block (x the block input, all [N, D] unless noted; stab(z) = z + eps * sign(z), sign(0) = +1,
// and a quotient whose denominator is exactly 0 is 0):
//   residual add  y = a + b: z-rule R_a = a ⊙ R / stab(a + b), R_b likewise; then, with
//                 renormalise_add (Chefer's Add), each branch is rescaled to carry the share
//                 |sum R_a| / (|sum R_a| + |sum R_b|) of sum R (so the two sums add to sum R exactly,
//                 and a branch whose z-rule sum was negative has its relevances' signs flipped).
//   skip / clone  relevance arriving at one tensor through two paths is summed.
//   LayerNorm     identity (R passes unchanged: Chefer's LayerNorm is a plain RelProp).
//   GELU          identity (likewise); dropout identity (eval mode).
//   softmax       identity: the relevance of the scores is that of the probabilities.
//   Linear        x [n, in], W [out, in], bias b [out]:
//     AlphaBeta   (default, alpha = 1, beta = alpha - 1 = 0, Chefer's choice; bias ignored):
//                 x+ = max(x, 0), x- = min(x, 0), W+ = max(W, 0), W- = min(W, 0);
//                 activators  Z = x+ W+^T + x- W-^T (>= 0),  R_act = x+ ⊙ (S W+) + x- ⊙ (S W-),  S = R / stab(Z)
//                 inhibitors  Z' = x+ W-^T + x- W+^T (<= 0), R_inh likewise with W+ <-> W-
//                 R_in = alpha R_act - beta R_inh. Each part sums to sum R, so R_in does too: conserves.
//     Epsilon     Z = x W^T + b, R_in = x ⊙ ((R / stab(Z)) W). The bias and eps absorb
//                 sum_j R_j (b_j + eps sign z_j) / stab(z_j): conserves only when the biases are 0
//                 (and up to eps / |z|).
//   attention     ctx = A V per head (A [H, N, N], V [H, N, Dh]) and scores = q k^T * scale: the
//                 matmul z-rule, for C = P Q: S = R / stab(C), R_P = P ⊙ (S Q^T), R_Q = Q ⊙ (P^T S);
//                 each sums to sum R, so both are halved (Chefer's cam /= 2): the first gives
//                 R^(A) = R_A / 2 (stored), the second R_q, R_k from R^(A) through the unscaled
//                 product q k^T (the constant scale is a factor the z-rule does not split).
//   q, k, v       three Linear layers of the same LayerNorm output: their input relevances are summed.
// Every rule conserves sum R up to eps (AlphaBeta) or up to the biases (Epsilon), so the per-layer sums
// equal the seed's: layer_sums[l] = sum R at block l's input, layer_sums[L] = sum R_enc;
// delta_abs = max_l |layer_sums[l] - reference|, delta_rel = delta_abs / |reference|, with reference =
// sum R_enc (= T with the default seed), reported as Integrated Gradients' completeness is.
//
// Precision and cost. The rules' GEMMs run in the model's dtype (f32 or f64, the optimised kernels;
// f64 for tests); every quotient, product and sum is f64 on the host in a fixed
// order, so the result is bitwise the same for any thread count. AlphaBeta costs 4 GEMMs per Linear
// (x+-, W+-, forward and back): about 4x a forward pass of the encoder. Measured (2026-12-01, 2 shared
// cores): conservation error 1e-8 relative in f64 (tiny-vit, tests), 3e-8 in f32 (trained micro),
// 1.3e-7 in f32 on R50-ViT-B_16 at 224x224 (random init), where the whole Chefer map took 4.7 s
// against 1.6-2.1 s for the two rollouts (their forward + backward).
// Seed quality, measured: on a briefly trained micro model sum R_enc (before scaling) is 42-55 % of T,
// same sign; on randomly initialised models it is ~1e-4 of T and may differ in sign (T is then mostly
// the decoder's biases), which is what the warning is for.
// The model's attention keeping is switched off afterwards (TransUNet::keep_attention(false)).
#pragma once
#include <string>
#include <vector>

#include "models/model.h"
#include "xai/targets.h"

namespace gb::xai {

enum class LinearRule { AlphaBeta, Epsilon };
enum class SeedScale { Target, Unit, GradientTimesInput };

struct LrpOptions {
  LinearRule linear = LinearRule::AlphaBeta;
  double alpha = 1.0;           // AlphaBeta: beta = alpha - 1 (alpha >= 1)
  double epsilon = 1e-9;        // the stabiliser of every quotient
  bool renormalise_add = true;  // Chefer's residual rule (see above); false = plain z-rule
  SeedScale seed = SeedScale::Target;
  double tolerance = 1e-6;      // delta_rel above this sets a warning
};

// Sum of R at the named points of one block, top (output) to bottom (input).
struct LrpBlockSums {
  double out = 0;          // block output
  double mlp_skip = 0;     // the h branch of y = h + mlp(LN2(h))
  double mlp = 0;          // the MLP branch, at fc2's output
  double mlp_hidden = 0;   // at GELU's output (fc2's input)
  double mlp_in = 0;       // at LN2's output (fc1's input) = at h through LN2
  double hidden = 0;       // at h (skip + MLP input)
  double attn_skip = 0;    // the x branch of h = x + attn(LN1(x))
  double attn = 0;         // the attention branch, at out's output
  double context = 0;      // at the merged heads A V (out's input)
  double attention = 0;    // R^(A), sum over heads
  double value = 0;        // at V
  double query = 0, key = 0;
  double attn_in = 0;      // at LN1's output (q, k, v inputs summed)
  double in = 0;           // block input
};

struct LrpResult {
  double target = 0;     // T
  double seed_gxi = 0;   // sum h_enc ⊙ dT/dh_enc, before scaling
  double seed_sum = 0;   // sum R_enc after scaling (the conservation reference)
  int64_t gh = 0, gw = 0;
  std::vector<Tensor> probs, grads, relevance;  // f64 [H, N, N] per block: A, dT/dA, R^(A)
  Tensor input_relevance;                       // f64 [N, D] at the encoder input (embeddings output)
  std::vector<LrpBlockSums> blocks;             // per block, block 0 first
  std::vector<double> layer_sums;               // L + 1 values (see above)
  double delta_abs = 0, delta_rel = 0;
  bool within_tolerance = true;
  std::string warning;
};

// x [1, C, H, W] (model dtype); target.mask [H, W]. The model must be a TransUNet.
LrpResult transformer_lrp(models::SegmentationModel& model, const Tensor& x, const Target& target,
                          const LrpOptions& opt = {});

// ---- the rules, exposed for tests (f64, contiguous or not) ----
// x [n, in], w [out, in], b [out] or undefined, R [n, out] -> [n, in]
Tensor lrp_linear(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& R, const LrpOptions& opt);
// C = P Q with P [.., m, k], Q [.., k, n], R [.., m, n] -> R_P [.., m, k], R_Q [.., k, n] (not halved)
void lrp_matmul(const Tensor& P, const Tensor& Q, const Tensor& R, double eps, Tensor& RP, Tensor& RQ);
// y = a + b, same shapes as R
void lrp_add(const Tensor& a, const Tensor& b, const Tensor& R, const LrpOptions& opt, Tensor& Ra, Tensor& Rb);

}  // namespace gb::xai

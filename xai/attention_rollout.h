// Transformer attributions for TransUNet (DESIGN.md §7): attention rollout, gradient-weighted rollout
// and the relevance rollout of Chefer, Gur, Wolf (CVPR 2021), read for a segmentation target
// T = sum_{p in M} z_c(p) (xai/targets.h) and mapped to the image. The LRP pass that the CVPR 2021
// method needs is xai/transformer_lrp.h; this file holds the rollout algebra, the token <-> image
// geometry and the one entry point, transformer_attribution().
//
// Notation, one sample, L encoder blocks, H heads, N = gh * gw tokens (no class token in TransUNet):
//   A_l    [H, N, N]  attention probabilities of block l (rows = queries, each row sums to 1)
//   G_l    [H, N, N]  dT/dA_l, from the engine's reverse pass (retain_grad on the probabilities)
//   R_l    [H, N, N]  R^(A_l), LRP relevance of the probabilities (xai/transformer_lrp.h)
//   mean_h            mean over the H heads;  I  the N x N identity;  ReLU = max(., 0)
// Methods (joint [N, N], rows = output tokens, columns = input tokens; later blocks multiply on the
// left, as Abnar & Zuidema and Chefer's code do):
//   Rollout      Abnar & Zuidema 2020:  Â_l = rownorm(mean_h A_l + I),  joint = Â_{L-1} ... Â_0
//                (rownorm divides each row by its sum; since rows of A sum to 1, Â_l = (Ā_l + I) / 2)
//   GradRollout  Chefer, Gur, Wolf ICCV 2021 ("Generic Attention-model Explainability"):
//                joint = I;  for l = 0 .. L-1:  joint <- joint + mean_h ReLU(G_l ⊙ A_l) · joint
//   Relevance    Chefer, Gur, Wolf CVPR 2021 ("Transformer Interpretability Beyond Attention
//                Visualization"):  Ā_l = I + mean_h ReLU(G_l ⊙ R_l),  joint = Ā_{L-1} ... Ā_0, with no
//                row normalisation (their ViT_LRP.py compute_rollout_attention leaves it out)
// start_layer s > 0 starts every product at block s (blocks below it are left out), as theirs does.
//
// From joint to a map. TransUNet has no class token, so the "query" is the region: Q = the tokens whose
// patch overlaps M. Token t = r * gw + c covers input pixels [r*ph, (r+1)*ph) x [c*pw, (c+1)*pw) with
// ph = H / gh, pw = W / gw (16 x 16 for R50-ViT-B_16, whose token grid is the input / 16: the ResNet's
// receptive field is wider, the nominal patch is what is used here). Then
//   tokens[j]  = mean_{i in Q} joint[i, j]                 [gh, gw]  (>= 0 for every method; the rows
//                can be every token's instead, QueryRows::All below)
//   upsampled  = tokens resized to H x W, bilinear with half-pixel centres (align_corners = false,
//                as Grad-CAM in xai/cam.cpp)                [H, W]
//   normalised = (upsampled - min) / (max - min), zeros for a constant map   [H, W]
// Worked cases (the tests check them exactly):
//   * A_l = I for every l (each token attends to itself): Â_l = I, joint = I, tokens = 1/|Q| on Q and
//     0 elsewhere: the indicator of the tokens overlapping M, divided by |Q|.
//   * A_l = U = 1/N everywhere (uniform attention): U^2 = U, so joint = 2^-L I + (1 - 2^-L) U, and
//     tokens = 2^-L [j in Q] / |Q| + (1 - 2^-L) / N. Every row is uniform only in the limit (or when the
//     residual I is left out): the identity term keeps 2^-L of the mass on the query tokens.
//   * G = 0 (T does not depend on the attention): GradRollout and Relevance give joint = I.
//
// Per-layer and per-head maps (on request): for block l and head h the method's own per-layer matrix
// W_{l,h} = A (Rollout), ReLU(G ⊙ A) (GradRollout) or ReLU(G ⊙ R) (Relevance), its query rows
// averaged: per_head[l, h, j] = mean_{i in rows} W_{l,h}[i, j]; per_layer = mean over heads. These are the
// single-layer pieces the products above combine, for looking at one block or one head at a time.
//
// Edge cases: M empty -> error; M not on the input grid -> error; a model that is not a TransUNet (no
// encoder blocks) -> error naming it; batch must be 1. Host code in f64 with fixed loop order, GEMMs
// through the engine's matmul (threads split outputs, never a sum): bitwise the same for any thread
// count. A model on a device runs its forward and backward there; A_l and G_l come back to the host
// once per block, and everything after that is host code.
#pragma once
#include <string>
#include <vector>

#include "models/model.h"
#include "xai/targets.h"
#include "xai/transformer_lrp.h"

namespace gb::xai {

enum class TransformerMethod { Rollout, GradRollout, Relevance };
TransformerMethod transformer_method_from_name(const std::string& s);  // "rollout", "grad-rollout", "chefer"
const char* transformer_method_name(TransformerMethod m);

// ---------------------------------------------------------------- token geometry
// Tokens (row-major r * gw + c) whose ph x pw patch holds a non-zero pixel of mask [H, W] (any dtype).
// H and W must be multiples of gh and gw. Empty region -> error.
std::vector<int64_t> tokens_overlapping(const Tensor& mask, int64_t gh, int64_t gw);

// joint [N, N] -> [N]: mean of the rows listed (each in [0, N), at least one).
Tensor mean_rows(const Tensor& joint, const std::vector<int64_t>& rows);

// tokens [N] or [gh, gw] -> [H, W], bilinear with half-pixel centres (f64).
Tensor tokens_to_image(const Tensor& tokens, int64_t gh, int64_t gw, int64_t H, int64_t W);

// ---------------------------------------------------------------- rollout algebra (f64 in, f64 out)
// Each list holds one [H, N, N] tensor per block, block 0 first; the lists of one call have the same
// length and shapes. start_layer in [0, L).
Tensor attention_rollout(const std::vector<Tensor>& A, int64_t start_layer = 0);
Tensor gradient_rollout(const std::vector<Tensor>& A, const std::vector<Tensor>& G, int64_t start_layer = 0);
Tensor relevance_rollout(const std::vector<Tensor>& R, const std::vector<Tensor>& G, int64_t start_layer = 0);
// mean_h ReLU(G ⊙ X): [H, N, N] x 2 -> [N, N]; and the per-head ReLU(G ⊙ X) [H, N, N].
Tensor weighted_head_mean(const Tensor& G, const Tensor& X);
Tensor weighted_heads(const Tensor& G, const Tensor& X);

// ---------------------------------------------------------------- recording
// One forward (attention probabilities kept) and one backward of T: A_l and G_l of every block.
struct AttentionRecord {
  double target = 0;                 // T
  int64_t gh = 0, gw = 0;            // token grid
  std::vector<Tensor> probs, grads;  // f64 [H, N, N] per block
};
// x [1, C, H, W] (model dtype); target.mask [H, W]. Leaves the model's attention keeping off.
AttentionRecord record_attention(models::SegmentationModel& model, const Tensor& x, const Target& target);

// ---------------------------------------------------------------- the entry point
// Which rows of joint make the map. Region (default, DESIGN §7): Q, the tokens overlapping M. All: every
// token's row. Every rollout carries an identity term (the residual), so with Region the tokens of Q get
// a share of mass just for being the query (joint = I gives exactly Q's indicator); All weighs every
// token's self term alike, so what stands out came through attention (and, for GradRollout and
// Relevance, through T's gradient). The target T is the same either way.
enum class QueryRows { Region, All };

struct TransformerOptions {
  TransformerMethod method = TransformerMethod::Relevance;
  QueryRows rows = QueryRows::Region;
  int64_t start_layer = 0;
  bool per_layer = false;  // fill per_layer [L, gh, gw]
  bool per_head = false;   // fill per_head [L, H, gh, gw]
  LrpOptions lrp;          // Relevance only
};

struct TransformerMap {
  TransformerMethod method = TransformerMethod::Relevance;
  int64_t cls = 0;
  double target = 0;            // T
  std::vector<int64_t> query;   // Q: tokens overlapping M
  std::vector<int64_t> rows;    // the rows averaged: Q, or every token (QueryRows::All)
  int64_t gh = 0, gw = 0;
  Tensor joint;                 // f64 [N, N]
  Tensor tokens;                // f64 [gh, gw]
  Tensor upsampled, normalised; // f64 [H, W]
  Tensor per_layer, per_head;   // f64 [L, gh, gw], [L, H, gh, gw] when asked for; else undefined
  LrpResult lrp;                // Relevance: the relevance pass and its conservation report
};

// x [1, C, H, W]; target.mask [H, W] (the region M; also the query region).
TransformerMap transformer_attribution(models::SegmentationModel& model, const Tensor& x, const Target& target,
                                       const TransformerOptions& opt = {});

}  // namespace gb::xai

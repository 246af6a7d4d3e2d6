// Official weights into TransUNet.
//
// ImageNet-21k checkpoints (R50+ViT-B_16.npz, ViT-B_16.npz: JAX names, HWIO conv kernels) are mapped
// the way the official VisionTransformer.load_from does it:
//   embedding/kernel (HWIO -> OIHW), embedding/bias        -> transformer.embeddings.patch_embeddings
//   Transformer/encoder_norm/{scale,bias}                   -> transformer.encoder.encoder_norm
//   Transformer/posembed_input/pos_embedding [1, N, D]      -> position_embeddings: copied when N
//       matches, the first (class) token dropped when N - 1 matches, otherwise the grid (tokens
//       1..N-1, sqrt(N-1) squared) resized with scipy.ndimage.zoom(order = 1) semantics: linear
//       interpolation with corners aligned (input coordinate = out * (in - 1) / (out - 1))
//   Transformer/encoderblock_<i>/MultiHeadDotProductAttention_1/{query,key,value,out}/kernel
//       viewed [D, D] and transposed; biases flattened    -> layer.<i>.attn.{query,key,value,out}
//   .../MlpBlock_3/Dense_{0,1}/{kernel (transposed), bias}  -> layer.<i>.ffn.fc{1,2}
//   .../LayerNorm_0, LayerNorm_2 {scale, bias}              -> layer.<i>.attention_norm, ffn_norm
//   conv_root/kernel, gn_root/{scale,bias}                  -> hybrid_model.root.conv, root.gn
//   block<b>/unit<u>/{conv1,conv2,conv3,conv_proj}/kernel, {gn1,gn2,gn3,gn_proj}/{scale,bias}
//                                                           -> hybrid_model.body.block<b>.unit<u>.*
// The decoder and segmentation head are not in these checkpoints and keep their initialisation (as
// official). A missing or mis-shaped checkpoint entry is an error listing every one.
#pragma once
#include <map>

#include "models/transunet.h"

namespace gb::models {

// The state dict (TransUNet names) that the npz provides; `note` receives what was done to the
// position embedding. Throws listing every missing / mis-shaped npz key, unless `skipped` is given:
// then those are listed there and the rest is mapped (partial loading).
nn::TensorMap map_official_npz(TransUNet& model, const std::map<std::string, Tensor>& npz, std::string* note = nullptr,
                               std::vector<std::string>* skipped = nullptr);
// map_official_npz + load; the report's `missing` lists the parameters left at their initialisation
// and, with strict = false, `mismatched` the npz problems that were skipped.
nn::LoadReport load_official_npz(TransUNet& model, const std::map<std::string, Tensor>& npz,
                                 std::string* note = nullptr, bool strict = true);

// scipy.ndimage.zoom(grid [gh_old, gw_old, D], (gh/gh_old, gw/gw_old, 1), order = 1) on f32/f64.
Tensor zoom_linear_grid(const Tensor& grid, int64_t gh, int64_t gw);
// The official position-embedding rule (see above). posemb [1, N, D] -> [1, gh * gw, D].
Tensor adapt_position_embedding(const Tensor& posemb, int64_t gh, int64_t gw, std::string* note = nullptr);

}  // namespace gb::models

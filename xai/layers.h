// The layers an explanation can hook (`glassbox explain --list-layers`), how their outputs are read as
// feature maps, and the automatic layer choice.
//
// Every submodule's output fires a forward hook (layers/module.h), so every named submodule is
// hookable. Its output reads as a feature map A [B, C, *grid] when it is
//   [B, C, h, w] / [B, C, d, h, w]  a conv feature map (ResNet stages, decoder blocks, U-Net levels)
//   [B, N, C]                       a ViT token tensor (patch embedding output after flattening, each
//                                   transformer block): reshaped to [B, C, gh, gw] with the model's
//                                   token grid (TransUNet has no class token; N = gh * gw)
// Modules that run more than once per forward (U-Net's shared pool) report their last output.
//
// Automatic choice (auto_layer): the decoder output at 1/4 of the input resolution — TransUNet
// "decoder.blocks.1", U-Net "dec2" — where the transformer's (or the bottleneck's) context has been
// merged with two skip levels: coarse enough to be class-discriminative (Grad-CAM's argument for the
// last conv layer), fine enough to outline small tumours (the 1/16 token grid is 8 x 8 px at 128 px
// input). When the model has no such level: the coarsest decoder level (TransUNet "decoder.conv_more",
// U-Net "dec<depth-1>").
#pragma once
#include <string>
#include <vector>

#include "models/model.h"

namespace gb::xai {

struct LayerInfo {
  std::string name, type;  // "transformer.encoder.layer.0", "Block"
  Shape output;            // for batch 1
  bool feature_map = false;  // readable as [C, *grid] (see above)
};

// Runs one forward (no graph) of zeros shaped like the model's configured input, batch 1.
std::vector<LayerInfo> list_layers(models::SegmentationModel& model);

std::string auto_layer(models::SegmentationModel& model);

// act [B, C, *grid] or [B, N, C] -> [B, C, *grid] (raw copy, no graph: apply it to an output and to
// its gradient alike). Throws naming the layer when the output is neither.
Tensor as_feature_map(const Tensor& act, models::SegmentationModel& model, const std::string& layer);

// The model's configured input shape [1, C, *size] and its floating dtype.
Shape model_input_shape(const models::SegmentationModel& model);
DType model_dtype(const models::SegmentationModel& model);

}  // namespace gb::xai

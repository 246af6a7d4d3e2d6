// Model configurations: TransUNet (official R50-ViT-B_16 and ViT-B_16, plus small CPU variants of
// the same architecture), U-Net 2D and 3D U-Net. A ModelConfig serialises to JSON (stored in our
// checkpoints' safetensors __metadata__ under "glassbox.config") and back.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gb::models {

struct TransUNetConfig {
  // ViT (vit_seg_configs.py)
  int64_t hidden = 768, mlp_dim = 3072, heads = 12, layers = 12;
  double attention_dropout = 0.0, dropout = 0.1;
  int64_t patch = 16;  // ViT without ResNet: patch size (image / patch = token grid)
  // ResNetV2 hybrid (R50): units per stage, width = 64 * width_factor; GroupNorm groups (32 official)
  bool hybrid = true;
  std::vector<int64_t> resnet_units{3, 4, 9};
  int64_t width = 64, gn_groups = 32;
  // DecoderCup
  int64_t head_channels = 512;
  std::vector<int64_t> decoder_channels{256, 128, 64, 16};
  std::vector<int64_t> skip_channels{512, 256, 64, 16};  // used for the first n_skip blocks
  int64_t n_skip = 3;
};

struct UNetConfig {
  int64_t dims = 2;         // 2: U-Net (Ronneberger, BatchNorm, padded convs); 3: 3D U-Net (Cicek)
  int64_t base = 64;        // channels of the first level
  int64_t depth = 4;        // number of poolings
};

struct ModelConfig {
  std::string name;         // e.g. "r50-vit-b16"
  std::string arch;         // "transunet" or "unet"
  int64_t in_channels = 1;  // 1 or 3 (TransUNet repeats 1 channel to 3, as official)
  int64_t classes = 3;
  std::vector<int64_t> size{224, 224};  // input spatial size (H, W) or (D, H, W); TransUNet needs /16
  TransUNetConfig vit;
  UNetConfig unet;

  std::string to_json() const;
  static ModelConfig from_json(const std::string& json);
};

// Named configurations: "r50-vit-b16" (R50-ViT-B_16, n_skip 3), "vit-b16" (ViT-B_16, n_skip 0),
// "tiny" (R50-style, 128x128, width 16, hidden 96, 3 layers, 3 heads: CPU-trainable),
// "tiny-vit" (ViT-only tiny), "micro" (32x32, hidden 16: gradient checks), "unet2d", "unet2d-tiny",
// "unet3d", "unet3d-small", "unet3d-tiny". The official names "R50-ViT-B_16" and "ViT-B_16" are accepted too.
// size = 0 / classes = 0 / in_channels = 0 keep the config's default.
ModelConfig named_config(const std::string& name, int64_t size = 0, int64_t classes = 0, int64_t in_channels = 0);
std::vector<std::string> config_names();

}  // namespace gb::models

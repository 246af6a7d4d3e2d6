// Named model configurations and their JSON form.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "models/config.h"
#include "tensor/error.h"

namespace gb::models {

using nlohmann::json;

static std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return (char)std::tolower(c); });
  return s;
}

std::vector<std::string> config_names() {
  return {"r50-vit-b16", "vit-b16", "tiny", "tiny-vit", "micro", "unet2d", "unet2d-tiny", "unet3d", "unet3d-small", "unet3d-tiny"};
}

ModelConfig named_config(const std::string& name_in, int64_t size, int64_t classes, int64_t in_channels) {
  std::string name = lower(name_in);
  if (name == "r50-vit-b_16" || name == "r50+vit-b_16") name = "r50-vit-b16";
  if (name == "vit-b_16") name = "vit-b16";
  ModelConfig c;
  c.name = name;
  c.arch = "transunet";
  TransUNetConfig& v = c.vit;
  if (name == "r50-vit-b16") {
    c.size = {224, 224};
    c.classes = 9;  // Synapse, as the paper's 105.28 M parameters
  } else if (name == "vit-b16") {
    c.size = {224, 224};
    c.classes = 9;
    v.hybrid = false;
    v.n_skip = 0;
    v.resnet_units.clear();
  } else if (name == "tiny" || name == "tiny-vit") {
    // Same architecture, narrow: trains on 2 CPU cores at 128x128.
    c.size = {128, 128};
    v.hidden = 96;
    v.mlp_dim = 384;
    v.heads = 3;
    v.layers = 3;
    v.width = 16;
    v.gn_groups = 8;
    v.resnet_units = {1, 2, 2};
    v.head_channels = 64;
    v.decoder_channels = {64, 32, 16, 8};
    v.skip_channels = {8 * v.width, 4 * v.width, v.width, 8};
    if (name == "tiny-vit") {
      v.hybrid = false;
      v.n_skip = 0;
      v.resnet_units.clear();
    }
  } else if (name == "micro") {
    // For gradient checks in f64: 32x32 input, 2x2 tokens.
    c.size = {32, 32};
    v.hidden = 16;
    v.mlp_dim = 32;
    v.heads = 2;
    v.layers = 1;
    v.width = 8;
    v.gn_groups = 4;
    v.resnet_units = {1, 1, 1};
    v.head_channels = 16;
    v.decoder_channels = {8, 8, 8, 4};
    v.skip_channels = {8 * v.width, 4 * v.width, v.width, 4};
  } else if (name == "unet2d" || name == "unet2d-tiny") {
    c.arch = "unet";
    c.unet.dims = 2;
    c.size = {224, 224};
    if (name == "unet2d-tiny") {
      c.unet.base = 8;
      c.unet.depth = 3;
      c.size = {128, 128};
    }
  } else if (name == "unet3d" || name == "unet3d-small" || name == "unet3d-tiny") {
    c.arch = "unet";
    c.unet.dims = 3;
    c.unet.base = 32;
    c.unet.depth = 3;
    c.size = {64, 64, 64};
    if (name == "unet3d-small") {  // the 3-D twin of unet2d-tiny (base 8, 3 levels), CPU-sized patches
      c.unet.base = 8;
      c.unet.depth = 3;
      c.size = {32, 64, 64};
    }
    if (name == "unet3d-tiny") {
      c.unet.base = 4;
      c.unet.depth = 2;
      c.size = {16, 32, 32};
    }
  } else {
    std::string all;
    for (auto& n : config_names()) all += " " + n;
    fail("model config: unknown name '", name_in, "'; known:", all);
  }
  if (size > 0) c.size.assign(c.size.size(), size);
  if (classes > 0) c.classes = classes;
  if (in_channels > 0) c.in_channels = in_channels;
  return c;
}

std::string ModelConfig::to_json() const {
  json j;
  j["name"] = name;
  j["arch"] = arch;
  j["in_channels"] = in_channels;
  j["classes"] = classes;
  j["size"] = size;
  if (arch == "transunet") {
    const TransUNetConfig& v = vit;
    j["vit"] = {{"hidden", v.hidden},
                {"mlp_dim", v.mlp_dim},
                {"heads", v.heads},
                {"layers", v.layers},
                {"attention_dropout", v.attention_dropout},
                {"dropout", v.dropout},
                {"patch", v.patch},
                {"hybrid", v.hybrid},
                {"resnet_units", v.resnet_units},
                {"width", v.width},
                {"gn_groups", v.gn_groups},
                {"head_channels", v.head_channels},
                {"decoder_channels", v.decoder_channels},
                {"skip_channels", v.skip_channels},
                {"n_skip", v.n_skip}};
  } else {
    j["unet"] = {{"dims", unet.dims}, {"base", unet.base}, {"depth", unet.depth}};
  }
  return j.dump();
}

ModelConfig ModelConfig::from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    ModelConfig c;
    c.name = j.at("name").get<std::string>();
    c.arch = j.at("arch").get<std::string>();
    c.in_channels = j.at("in_channels").get<int64_t>();
    c.classes = j.at("classes").get<int64_t>();
    c.size = j.at("size").get<std::vector<int64_t>>();
    if (c.arch == "transunet") {
      const json& v = j.at("vit");
      TransUNetConfig& t = c.vit;
      t.hidden = v.at("hidden").get<int64_t>();
      t.mlp_dim = v.at("mlp_dim").get<int64_t>();
      t.heads = v.at("heads").get<int64_t>();
      t.layers = v.at("layers").get<int64_t>();
      t.attention_dropout = v.at("attention_dropout").get<double>();
      t.dropout = v.at("dropout").get<double>();
      t.patch = v.at("patch").get<int64_t>();
      t.hybrid = v.at("hybrid").get<bool>();
      t.resnet_units = v.at("resnet_units").get<std::vector<int64_t>>();
      t.width = v.at("width").get<int64_t>();
      t.gn_groups = v.at("gn_groups").get<int64_t>();
      t.head_channels = v.at("head_channels").get<int64_t>();
      t.decoder_channels = v.at("decoder_channels").get<std::vector<int64_t>>();
      t.skip_channels = v.at("skip_channels").get<std::vector<int64_t>>();
      t.n_skip = v.at("n_skip").get<int64_t>();
    } else if (c.arch == "unet") {
      const json& u = j.at("unet");
      c.unet.dims = u.at("dims").get<int64_t>();
      c.unet.base = u.at("base").get<int64_t>();
      c.unet.depth = u.at("depth").get<int64_t>();
    } else {
      fail("unknown arch '", c.arch, "'");
    }
    return c;
  } catch (const json::exception& e) {
    fail("model config JSON: ", e.what());
  } catch (const Error& e) {
    fail("model config JSON: ", e.what());
  }
}

}  // namespace gb::models

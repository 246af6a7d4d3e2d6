// Checkpoints and weight files, glue between models/ and io/ (header-only so that gb_models itself
// does not depend on gb_io; programs link both).
//
// Our checkpoint = one safetensors file:
//   tensors   the model's state_dict under the official names, plus any training state under
//             "train_state.<name>" (optimizer buffers, ...)
//   metadata  "format": "glassbox-checkpoint", "glassbox.config": ModelConfig JSON, plus the
//             caller's entries (epoch, iteration, RNG offsets, ...)
// A safetensors exported from the official PyTorch state_dict (same keys, OIHW) loads with
// load_weights_file; the ImageNet-21k .npz with load_official_npz_file.
#pragma once
#include <map>
#include <string>

#include "io/npz.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "models/pretrained.h"

namespace gb::models {

inline constexpr const char* kTrainStatePrefix = "train_state.";

inline void save_checkpoint(const std::string& path, const SegmentationModel& model,
                            const nn::NamedTensors& train_state = {},
                            std::map<std::string, std::string> metadata = {}) {
  nn::NamedTensors all = model.state_dict();
  for (auto& [n, t] : train_state) all.push_back({kTrainStatePrefix + n, t});
  metadata["format"] = "glassbox-checkpoint";
  metadata["glassbox.config"] = model.config().to_json();
  io::write_safetensors(path, all, metadata);
}

struct Checkpoint {
  std::shared_ptr<SegmentationModel> model;
  nn::TensorMap train_state;  // names without the prefix
  std::map<std::string, std::string> metadata;
};

// Rebuilds the model from the stored config and loads every weight strictly.
inline Checkpoint load_checkpoint(const std::string& path) {
  io::SafetensorsData d = io::read_safetensors(path);
  auto it = d.metadata.find("glassbox.config");
  GB_CHECK(it != d.metadata.end(), path, ": not a glassbox checkpoint (no glassbox.config in __metadata__)");
  Checkpoint c;
  c.metadata = d.metadata;
  c.model = make_model(ModelConfig::from_json(it->second));
  nn::TensorMap weights;
  const std::string pre = kTrainStatePrefix;
  for (auto& [n, t] : d.tensors) {
    if (n.compare(0, pre.size(), pre) == 0)
      c.train_state[n.substr(pre.size())] = t;
    else
      weights[n] = t;
  }
  c.model->load_state_dict(weights, true, path);
  return c;
}

// Weights only (ours or an official PyTorch state_dict export) into an existing model.
// strict = false loads what matches and reports the rest.
inline nn::LoadReport load_weights_file(nn::Module& model, const std::string& path, bool strict = true) {
  io::SafetensorsData d = io::read_safetensors(path);
  nn::TensorMap weights;
  const std::string pre = kTrainStatePrefix;
  for (auto& [n, t] : d.tensors)
    if (n.compare(0, pre.size(), pre) != 0) weights[n] = t;
  return model.load_state_dict(weights, strict, path);
}

inline nn::LoadReport load_official_npz_file(TransUNet& model, const std::string& path, std::string* note = nullptr,
                                            bool strict = true) {
  auto members = io::read_npz(path);
  std::map<std::string, Tensor> npz(members.begin(), members.end());
  try {
    return load_official_npz(model, npz, note, strict);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
}

}  // namespace gb::models

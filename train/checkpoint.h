// Checkpoints and weight files (train/ sits above models/ and io/, so this glue lives here).
//
// Our checkpoint = one safetensors file, written atomically (temporary file, fsync, rename):
//   tensors   the model's state_dict under the official names, plus any training state under
//             "train_state.<name>" (optimizer buffers, ...)
//   metadata  "format": "glassbox-checkpoint", "glassbox.config": ModelConfig JSON,
//             "glassbox.preprocess": io::Preprocess JSON (how to feed the model), plus the caller's
//             entries (step, epoch, RNG offsets, ...)
// A checkpoint written before the preprocessing was stored loads with the default description at
// the model's input size (HU window [-200, 250], 1 channel), and `preprocess_stored` says so.
// A safetensors exported from the official PyTorch state_dict (same keys, OIHW) loads with
// load_weights_file; the ImageNet-21k .npz with load_official_npz_file.
#pragma once
#include <map>
#include <string>

#include "io/npz.h"
#include "io/preprocess_spec.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "models/pretrained.h"

namespace gb::train {

using models::SegmentationModel;
using models::TransUNet;

inline constexpr const char* kTrainStatePrefix = "train_state.";

// The description a model of this config gets when none is stored: HU, default window, its input size.
inline io::Preprocess default_preprocess(const models::ModelConfig& c) {
  io::Preprocess p;
  p.channels = (int)c.in_channels;
  if (c.size.size() == 3) {
    p.depth = c.size[0], p.height = c.size[1], p.width = c.size[2];
  } else if (c.size.size() == 2) {
    p.height = c.size[0], p.width = c.size[1];
  }
  return p;
}

inline void save_checkpoint(const std::string& path, const SegmentationModel& model, const io::Preprocess& pre,
                            const nn::NamedTensors& train_state = {},
                            std::map<std::string, std::string> metadata = {}) {
  pre.validate(path);
  nn::NamedTensors all = model.state_dict();
  for (auto& [n, t] : train_state) all.push_back({kTrainStatePrefix + n, t});
  metadata["format"] = "glassbox-checkpoint";
  metadata["glassbox.config"] = model.config().to_json();
  metadata["glassbox.preprocess"] = pre.to_json();
  io::write_safetensors(path, all, metadata);
}
inline void save_checkpoint(const std::string& path, const SegmentationModel& model,
                            const nn::NamedTensors& train_state = {},
                            std::map<std::string, std::string> metadata = {}) {
  save_checkpoint(path, model, default_preprocess(model.config()), train_state, std::move(metadata));
}

struct Checkpoint {
  std::shared_ptr<SegmentationModel> model;
  io::Preprocess pre;              // how to feed the model
  bool preprocess_stored = false;  // false: an older checkpoint, `pre` is default_preprocess()
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
  c.model = models::make_model(models::ModelConfig::from_json(it->second));
  auto ip = d.metadata.find("glassbox.preprocess");
  c.preprocess_stored = ip != d.metadata.end();
  c.pre = c.preprocess_stored ? io::Preprocess::from_json(ip->second, path) : default_preprocess(c.model->config());
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
    return models::load_official_npz(model, npz, note, strict);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
}

}  // namespace gb::train

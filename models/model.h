// The common face of the segmentation models: forward(x) -> logits [N, classes, *spatial].
#pragma once
#include <memory>

#include "layers/module.h"
#include "models/config.h"

namespace gb::models {

class SegmentationModel : public nn::Unary {
 public:
  explicit SegmentationModel(ModelConfig c) : config_(std::move(c)) {}
  const ModelConfig& config() const { return config_; }

 protected:
  ModelConfig config_;
};

// Builds the model a config describes, initialised from Philox(seed) (dropout streams too).
std::shared_ptr<SegmentationModel> make_model(const ModelConfig& c, uint64_t seed = 1234);

// A module whose children are numbered "0", "1", ... (torch nn.ModuleList).
class ModuleList : public nn::Module {
 public:
  std::string type_name() const override { return "ModuleList"; }
  template <class M> std::shared_ptr<M> add(std::shared_ptr<M> m) {
    items_.push_back(m);
    return register_module(std::to_string(items_.size() - 1), std::move(m));
  }
  size_t size() const { return items_.size(); }
  template <class M> M& at(size_t i) { return dynamic_cast<M&>(*items_.at(i)); }

 private:
  std::vector<std::shared_ptr<nn::Module>> items_;
};

}  // namespace gb::models

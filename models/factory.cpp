#include "models/transunet.h"
#include "models/unet.h"

namespace gb::models {

std::shared_ptr<SegmentationModel> make_model(const ModelConfig& c, uint64_t seed) {
  Generator gen(seed, 0);
  std::shared_ptr<SegmentationModel> m;
  if (c.arch == "transunet")
    m = std::make_shared<TransUNet>(c, gen);
  else if (c.arch == "unet")
    m = std::make_shared<UNet>(c, gen);
  else
    fail("make_model: unknown arch '", c.arch, "' (config '", c.name, "')");
  m->set_dropout_seed(seed);
  return m;
}

}  // namespace gb::models

// Backend start-up: call once at program start. Registers the CUDA backend when this build has it and
// a device is present; otherwise reports why the CPU is used.
#pragma once
#include <string>

namespace gb {

struct BackendInfo {
  bool cuda_built = false, cuda_available = false;
  std::string cuda_device, why_not;
};
BackendInfo init_backends();

}  // namespace gb

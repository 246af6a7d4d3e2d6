// Where a command runs a model: the `--device cpu|cuda|auto` option of train, segment, evaluate,
// explain and demo.
//   cpu   the CPU.
//   cuda  the GPU when this build has the CUDA backend and a device is present; otherwise the CPU,
//         with a note saying why (the program never fails for lack of a GPU). With a device present,
//         a model whose ops are not all ported to the CUDA backend is refused: the error lists every
//         op and the kernels it lacks (from one recorded forward and backward on the CPU). The
//         caller moves the model there (Module::to) before an optimiser takes its parameters;
//         batches follow the model (Module::device), results come back to the host.
//   auto  the GPU when the model can run there, else the CPU with a note.
#pragma once
#include <string>
#include <vector>

#include "models/config.h"
#include "tensor/tensor.h"

namespace gb::train {

struct DeviceChoice {
  Device device = Device::CPU;
  std::string note;  // why the CPU is used although another device was asked for ("" otherwise)
};

// `what` names the command in messages ("train", "segment", "evaluate", "explain"). training: the
// model is differentiated too (train; explain, whose methods need the backward kernels).
DeviceChoice choose_device(const std::string& request, const models::ModelConfig& cfg, bool training,
                           const std::string& what);

// The ops (with the kernels they lack) that device `d` cannot run for this model: a fresh model of
// `cfg` runs one forward (and, when training, a loss backward and an SGD update) at batch 1 on the
// CPU while the kernels it calls are recorded. Empty when everything is supported.
std::vector<std::string> missing_ops(const models::ModelConfig& cfg, Device d, bool training);

}  // namespace gb::train

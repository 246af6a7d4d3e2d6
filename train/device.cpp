#include "train/device.h"

#include "autograd/backends.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "models/model.h"
#include "tensor/backend.h"
#include "train/sgd.h"

namespace gb::train {

std::vector<std::string> missing_ops(const models::ModelConfig& cfg, Device d, bool training) {
  auto model = models::make_model(cfg);  // a fresh copy: recording must not touch the user's model
  std::set<KernelUse> uses;
  {
    KernelUseRecorder rec;
    Shape xs = {1, cfg.in_channels};
    for (auto s : cfg.size) xs.push_back(s);
    Tensor x = Tensor::zeros(xs);
    if (training) {
      model->train();
      Shape ls = {1};
      for (auto s : cfg.size) ls.push_back(s);
      Tensor loss = cross_entropy(model->forward(x), Tensor::zeros(ls, DType::I32));
      loss.backward();
      std::vector<Tensor> params;
      for (auto& [name, p] : model->named_parameters()) params.push_back(p);
      Sgd opt(params, SgdOptions{});
      CurrentOpGuard og("sgd");
      opt.step();
    } else {
      model->eval();
      NoGradGuard ng;
      model->forward(x);
    }
    uses = rec.uses();
  }
  return unsupported_ops(uses, d);
}

DeviceChoice choose_device(const std::string& request, const models::ModelConfig& cfg, bool training,
                           const std::string& what) {
  DeviceChoice c;
  if (request == "cpu") return c;
  GB_CHECK(request == "cuda" || request == "auto", what, ": --device must be cpu, cuda or auto, got '", request, "'");
  BackendInfo info = init_backends();
  if (!info.cuda_available && has_backend(Device::CUDA)) {  // registered by a test (a stand-in device)
    info.cuda_available = true;
    info.cuda_device = registered_backend(Device::CUDA)->name();
  }
  if (!info.cuda_available) {
    c.note = what + ": --device " + request + ": running on the CPU: " + info.why_not;
    return c;
  }
  const auto missing = missing_ops(cfg, Device::CUDA, training);
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += "\n  " + m;
    if (request == "auto") {
      c.note = what + ": --device auto: running on the CPU: the CUDA backend does not yet run " +
               std::to_string(missing.size()) + " ops of " + cfg.name;
      return c;
    }
    fail(what, ": --device cuda: the CUDA backend (", info.cuda_device, ") cannot run model ", cfg.name, " yet; ",
         missing.size(), " ops lack kernels (use --device cpu or auto):", list);
  }
  c.device = Device::CUDA;
  return c;
}

}  // namespace gb::train

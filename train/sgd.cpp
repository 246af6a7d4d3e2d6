#include "train/sgd.h"

#include <cmath>

#include "tensor/kernels.h"

namespace gb::train {

Sgd::Sgd(std::vector<Tensor> params, SgdOptions opt) : params_(std::move(params)), bufs_(params_.size()), opt_(opt) {
  for (auto& p : params_) {
    GB_CHECK(p.defined() && p.is_contiguous(), "Sgd: parameters must be defined contiguous tensors, got ", p.desc());
    check_float(p, "Sgd", "parameter");
  }
}

void Sgd::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    GB_CHECK(g.shape() == p.shape(), "Sgd::step: gradient ", g.desc(), " for parameter ", p.desc());
    g = g.contiguous();
    const bool first = !bufs_[i].defined();
    if (first) bufs_[i] = Tensor::empty(p.shape(), p.dtype(), p.device());
    kern::sgd_update(p, g, bufs_[i], opt_.lr, opt_.momentum, opt_.weight_decay, first);
  }
}

nn::NamedTensors Sgd::state() const {
  nn::NamedTensors s;
  for (size_t i = 0; i < bufs_.size(); ++i)
    if (bufs_[i].defined()) s.push_back({"momentum." + std::to_string(i), bufs_[i]});
  return s;
}

void Sgd::load_state(const nn::TensorMap& state, const std::string& source) {
  for (size_t i = 0; i < params_.size(); ++i) {
    auto it = state.find("momentum." + std::to_string(i));
    if (it == state.end()) continue;  // not stepped yet when saved
    GB_CHECK(it->second.shape() == params_[i].shape(), source, ": momentum buffer ", i, " has shape ",
             it->second.desc(), ", parameter is ", params_[i].desc());
    // On the parameter's device (a checkpoint is read on the host).
    bufs_[i] = it->second.to(params_[i].dtype()).to(params_[i].device()).contiguous().clone();
  }
}

void Sgd::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

double poly_lr(double base_lr, int64_t it, int64_t max_iter, double power) {
  GB_CHECK(max_iter > 0, "poly_lr: max_iter must be positive, got ", max_iter);
  double frac = 1.0 - (double)it / (double)max_iter;
  return base_lr * std::pow(frac > 0 ? frac : 0.0, power);
}

}  // namespace gb::train

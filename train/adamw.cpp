#include <cmath>

#include "tensor/kernels.h"
#include "train/optimizer.h"

namespace gb::train {

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions opt)
    : params_(std::move(params)), m_(params_.size()), v_(params_.size()), t_(params_.size(), 0), opt_(opt) {
  for (auto& p : params_) {
    GB_CHECK(p.defined() && p.is_contiguous(), "AdamW: parameters must be defined contiguous tensors, got ", p.desc());
    check_float(p, "AdamW", "parameter");
  }
}

void AdamW::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    GB_CHECK(g.shape() == p.shape(), "AdamW::step: gradient ", g.desc(), " for parameter ", p.desc());
    g = g.contiguous();
    if (!m_[i].defined())
      m_[i] = Tensor::zeros(p.shape(), p.dtype(), p.device()), v_[i] = Tensor::zeros(p.shape(), p.dtype(), p.device());
    const int64_t t = ++t_[i];
    kern::adamw_update(p, g, m_[i], v_[i], opt_.lr, opt_.beta1, opt_.beta2, opt_.eps, opt_.weight_decay, t);
  }
}

void AdamW::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

nn::NamedTensors AdamW::state() const {
  nn::NamedTensors s;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!m_[i].defined()) continue;
    s.push_back({"adam.m." + std::to_string(i), m_[i]});
    s.push_back({"adam.v." + std::to_string(i), v_[i]});
    s.push_back({"adam.t." + std::to_string(i), Tensor::from_vector(std::vector<double>{(double)t_[i]}, {1})});
  }
  return s;
}

void AdamW::load_state(const nn::TensorMap& state, const std::string& source) {
  for (size_t i = 0; i < params_.size(); ++i) {
    auto m = state.find("adam.m." + std::to_string(i));
    if (m == state.end()) continue;  // not stepped yet when saved
    auto v = state.find("adam.v." + std::to_string(i));
    auto t = state.find("adam.t." + std::to_string(i));
    GB_CHECK(v != state.end() && t != state.end(), source, ": AdamW state for parameter ", i, " is incomplete");
    GB_CHECK(m->second.shape() == params_[i].shape() && v->second.shape() == params_[i].shape(), source,
             ": AdamW state for parameter ", i, " has shape ", m->second.desc(), ", parameter is ", params_[i].desc());
    // On the parameter's device (a checkpoint is read on the host).
    m_[i] = m->second.to(params_[i].dtype()).to(params_[i].device()).contiguous().clone();
    v_[i] = v->second.to(params_[i].dtype()).to(params_[i].device()).contiguous().clone();
    t_[i] = (int64_t)t->second.to(DType::F64).item();
  }
}

}  // namespace gb::train

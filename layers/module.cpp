// Module tree: names, registration order, modes, hooks, state_dict loading.
#include "layers/module.h"

#include <algorithm>
#include <sstream>

#include "layers/dropout.h"

namespace gb::nn {

static thread_local bool t_count_flops = false;
static thread_local trace::TraceSession* t_flop_session = nullptr;
FlopCountGuard::FlopCountGuard() : prev(t_count_flops), session(std::make_unique<trace::TraceSession>()) {
  t_count_flops = true;
  prev_session_ = t_flop_session;
  t_flop_session = session.get();
}
FlopCountGuard::~FlopCountGuard() {
  t_count_flops = prev;
  t_flop_session = prev_session_;
}
bool flop_counting() { return t_count_flops; }

static thread_local ParameterCacheScope* t_param_cache = nullptr;
ParameterCacheScope::ParameterCacheScope() : prev_(t_param_cache) { t_param_cache = this; }
ParameterCacheScope::~ParameterCacheScope() { t_param_cache = prev_; }
ParameterCacheScope* ParameterCacheScope::current() { return t_param_cache; }
Tensor ParameterCacheScope::find(const void* key) const {
  for (const ParameterCacheScope* s = this; s; s = s->prev_) {
    auto it = s->cache_.find(key);
    if (it != s->cache_.end()) return it->second;
  }
  return Tensor();
}
void ParameterCacheScope::put(const void* key, const Tensor& t) { cache_[key] = t; }

static int g_hook_id = 0;

static std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "." + b;
}

std::string LoadReport::summary() const {
  std::ostringstream os;
  os << loaded.size() << " loaded";
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    os << "; " << v.size() << " " << what << ":";
    for (auto& s : v) os << " " << s;
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("mis-shaped", mismatched);
  return os.str();
}

void Module::register_parameter(const std::string& name, Tensor& slot) {
  GB_CHECK(!name.empty() && name.find('.') == std::string::npos, "Module::register_parameter: bad name '", name, "'");
  GB_CHECK(slot.defined(), "Module::register_parameter: '", name, "' is undefined");
  for (auto& p : params_) GB_CHECK(p.first != name, "Module::register_parameter: '", name, "' registered twice");
  if (is_floating(slot.dtype())) slot.set_requires_grad(true);
  params_.push_back({name, &slot});
}

void Module::register_buffer(const std::string& name, Tensor& slot) {
  GB_CHECK(!name.empty() && name.find('.') == std::string::npos, "Module::register_buffer: bad name '", name, "'");
  GB_CHECK(slot.defined(), "Module::register_buffer: '", name, "' is undefined");
  buffers_.push_back({name, &slot});
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  GB_CHECK(m != nullptr, "Module::register_module: '", name, "' is null");
  GB_CHECK(!name.empty() && name.find('.') == std::string::npos, "Module::register_module: bad name '", name, "'");
  for (auto& c : children_) GB_CHECK(c.first != name, "Module::register_module: '", name, "' registered twice");
  children_.push_back({name, m});
  m->set_names(join(full_name_, name), name);
  m->train(training_);
}

void Module::set_names(const std::string& full, const std::string& local) {
  full_name_ = full;
  local_name_ = local;
  for (auto& c : children_) c.second->set_names(join(full_name_, c.first), c.first);
}

void Module::collect(const std::string& prefix, NamedTensors& out, bool params, bool buffers) const {
  if (params)
    for (auto& p : params_) out.push_back({join(prefix, p.first), *p.second});
  if (buffers)
    for (auto& b : buffers_) out.push_back({join(prefix, b.first), *b.second});
  for (auto& c : children_) c.second->collect(join(prefix, c.first), out, params, buffers);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", out, true, false);
  return out;
}
NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", out, false, true);
  return out;
}
NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", out, true, true);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  std::function<void(const std::string&, Module*)> walk = [&](const std::string& p, Module* m) {
    out.push_back({p, m});
    for (auto& c : m->children_) walk(join(p, c.first), c.second.get());
  };
  walk("", this);
  return out;
}

Module* Module::find_module(const std::string& name) {
  if (name.empty()) return this;
  Module* m = this;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t dot = name.find('.', pos);
    std::string part = name.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    Module* next = nullptr;
    for (auto& c : m->children_)
      if (c.first == part) next = c.second.get();
    if (!next) return nullptr;
    m = next;
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return m;
}

Module& Module::module(const std::string& name) {
  Module* m = find_module(name);
  if (!m) {
    std::ostringstream os;
    int n = 0;
    for (auto& [nm, mm] : named_modules()) {
      (void)mm;
      if (n++ >= 40) { os << " ..."; break; }
      os << " '" << nm << "'";
    }
    fail("Module: no submodule '", name, "' under '", full_name_, "'; modules are:", os.str());
  }
  return *m;
}

Tensor Module::find_tensor(const std::string& name) const {
  for (auto& [n, t] : state_dict())
    if (n == name) return t;
  fail("Module: no parameter or buffer '", name, "' under '", full_name_, "'");
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [nm, t] : named_parameters()) {
    (void)nm;
    n += t.numel();
  }
  return n;
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& c : children_) c.second->train(on);
}

void Module::zero_grad() {
  for (auto& p : params_) p.second->zero_grad();
  for (auto& c : children_) c.second->zero_grad();
}

void Module::to(DType t) {
  GB_CHECK(t == DType::F32 || t == DType::F64, "Module::to: only f32 and f64 are supported, got ", dtype_name(t));
  for (auto& p : params_) {
    if (!is_floating(p.second->dtype()) || p.second->dtype() == t) continue;
    *p.second = p.second->to(t).detach();
    p.second->set_requires_grad(true);
  }
  for (auto& b : buffers_)
    if (is_floating(b.second->dtype()) && b.second->dtype() != t) *b.second = b.second->to(t).detach();
  for (auto& c : children_) c.second->to(t);
}

void Module::to(Device d) {
  for (auto& p : params_) {
    if (!is_floating(p.second->dtype()) || p.second->device() == d) continue;
    *p.second = p.second->to(d).detach();
    p.second->set_requires_grad(true);
  }
  for (auto& b : buffers_)
    if (is_floating(b.second->dtype()) && b.second->device() != d) *b.second = b.second->to(d).detach();
  for (auto& c : children_) c.second->to(d);
}

Device Module::device() const {
  for (const auto& [name, p] : named_parameters())
    if (is_floating(p.dtype())) return p.device();
  return Device::CPU;
}

void Module::set_dropout_seed(uint64_t seed) {
  uint64_t stream = 0;
  for (auto& [n, m] : named_modules()) {
    (void)n;
    if (auto* d = dynamic_cast<Dropout*>(m)) d->reseed(seed, stream++);
  }
}

LoadReport Module::load_state_dict(const TensorMap& sd, bool strict, const std::string& source) {
  LoadReport r;
  NamedTensors mine = state_dict();
  std::map<std::string, Tensor> have(mine.begin(), mine.end());
  for (auto& [n, t] : mine) {
    auto it = sd.find(n);
    if (it == sd.end()) {
      r.missing.push_back(n);
      continue;
    }
    const Tensor& src = it->second;
    // torch stores scalars such as num_batches_tracked as 0-dim; accept [1] for them too.
    bool same = src.shape() == t.shape() || (src.numel() == 1 && t.numel() == 1);
    if (!same) {
      r.mismatched.push_back(n + ": file " + str(src.shape()) + " vs model " + str(t.shape()));
      continue;
    }
    r.loaded.push_back(n);
  }
  for (auto& [n, t] : sd) {
    (void)t;
    if (!have.count(n)) r.unexpected.push_back(n);
  }
  if (strict && !r.complete()) fail(source, ": cannot load weights strictly: ", r.summary());
  NoGradGuard ng;
  for (auto& n : r.loaded) {
    Tensor dst = have.at(n);
    const Tensor& src = sd.at(n);
    Tensor v = src.view_reshape(dst.shape());
    if (dst.device() != v.device()) v = v.to(dst.dtype()).to(dst.device());
    dst.copy_from(v);
  }
  return r;
}

int Module::register_forward_hook(const std::string& name, OutputHook fn) {
  int id = ++g_hook_id;
  module(name).fwd_hooks_.push_back({id, std::move(fn)});
  return id;
}
int Module::register_backward_hook(const std::string& name, OutputHook fn) {
  int id = ++g_hook_id;
  module(name).bwd_hooks_.push_back({id, std::move(fn)});
  return id;
}
void Module::remove_hook(int id) {
  for (auto& [n, m] : named_modules()) {
    (void)n;
    auto drop = [id](std::vector<Hook>& v) {
      v.erase(std::remove_if(v.begin(), v.end(), [id](const Hook& h) { return h.id == id; }), v.end());
    };
    drop(m->fwd_hooks_);
    drop(m->bwd_hooks_);
  }
}
void Module::clear_hooks() {
  for (auto& [n, m] : named_modules()) {
    (void)n;
    m->fwd_hooks_.clear();
    m->bwd_hooks_.clear();
  }
}

void Module::fire_hooks(const Tensor& y) {
  for (auto& h : fwd_hooks_) h.fn(y);
  if (bwd_hooks_.empty()) return;
  GB_CHECK(y.requires_grad(), "Module '", full_name_, "': a backward hook needs an output that requires a gradient (",
           y.desc(), "); is grad mode off?");
  Tensor t = y;
  for (auto& h : bwd_hooks_) t.register_hook(h.fn);
}

size_t Module::flop_mark() const {
  return t_count_flops && t_flop_session ? t_flop_session->records().size() : 0;
}
void Module::count_flops_since(size_t mark) {
  if (!t_count_flops || !t_flop_session) return;
  const auto& recs = t_flop_session->records();
  for (size_t i = mark; i < recs.size(); ++i) {
    const auto& r = recs[i];
    if (r.phase != "forward" || r.scope != full_name_) continue;
    flops_.mac += r.mac;
    flops_.other += r.flops - r.mac;
  }
}

Flops Module::flops() const {
  Flops f = flops_;
  for (auto& c : children_) f += c.second->flops();
  return f;
}
void Module::reset_flops() {
  flops_ = Flops{};
  for (auto& c : children_) c.second->reset_flops();
}

Tensor Sequential::forward(const Tensor& x) {
  return run([&] {
    Tensor y = x;
    for (auto& [n, c] : children()) {
      auto* u = dynamic_cast<Unary*>(c.get());
      GB_CHECK(u, "Sequential '", full_name(), "': child '", n, "' (", c->type_name(), ") is not a one-input module");
      y = u->forward(y);
    }
    return y;
  });
}

}  // namespace gb::nn

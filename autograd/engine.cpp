// The backward engine, grad mode, scopes and the autograd members of Tensor.
//
// backward(root): collect the nodes reachable from root, visit them in reverse topological order
// (ties broken by creation order, so the order — and with it every floating-point sum — is
// deterministic), and hand each node its output gradient plus the gradient buffers of its inputs.
// One buffer per tensor (keyed by its AutogradMeta) receives every consumer's contribution in place.
#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/kernels.h"

namespace gb {

// ---------------------------------------------------------------- grad mode and scopes
static thread_local bool t_grad_enabled = true;
bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : prev(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = prev; }

static thread_local std::vector<std::string> t_scope;
ScopeGuard::ScopeGuard(const std::string& name) { t_scope.push_back(name); }
ScopeGuard::~ScopeGuard() { t_scope.pop_back(); }
std::string current_scope() { return t_scope.empty() ? std::string() : t_scope.back(); }

// ---------------------------------------------------------------- tracing
namespace trace {
static thread_local TraceSession* t_session = nullptr;
TraceSession::TraceSession() : prev_(t_session) { t_session = this; }
TraceSession::~TraceSession() { t_session = prev_; }
bool active() { return t_session != nullptr; }
void emit(OpRecord r) {
  if (t_session) t_session->records_.push_back(std::move(r));
}
std::string backend_name(const Tensor& t) {
  if (t.defined() && t.device() == Device::CUDA) return "cuda";
  return cpu::use_reference_kernels() ? "cpu-ref" : "cpu";
}
Span::Span(const char* op, const std::vector<Tensor>& inputs) : op_(op), on_(active()), current_(op) {
  if (!on_) return;
  for (auto& t : inputs) {
    if (!t.defined()) continue;
    in_.push_back(t.shape());
    in_bytes_ += (double)t.numel() * dtype_size(t.dtype());
  }
  t0_ = std::chrono::steady_clock::now();
}
void Span::finish(const Tensor& out, double flops, double bytes, double mac) {
  if (!on_) return;
  OpRecord r;
  r.op = op_;
  r.scope = current_scope();
  r.phase = "forward";
  r.inputs = in_;
  r.output = out.shape();
  r.flops = flops;
  r.mac = mac;
  r.bytes = bytes >= 0 ? bytes : in_bytes_ + (double)out.numel() * dtype_size(out.dtype());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  r.backend = backend_name(out);
  emit(std::move(r));
}
}  // namespace trace

// ---------------------------------------------------------------- recording
bool needs_grad(const Tensor& t) {
  if (!t.defined() || !t.meta()) return false;
  return t.meta()->requires_grad || t.meta()->grad_fn != nullptr;
}
bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!t_grad_enabled) return false;
  for (auto& t : inputs)
    if (needs_grad(t)) return true;
  return false;
}

static uint64_t g_seq = 0;

void record(const char* op, Tensor& out, const std::vector<Tensor>& inputs, BackwardFn fn, double flops) {
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->scope = current_scope();
  node->flops = flops;
  node->seq = ++g_seq;
  node->inputs.reserve(inputs.size());
  for (auto& t : inputs) {
    Edge e;
    if (t.defined()) {
      e.shape = t.shape();
      e.dtype = t.dtype();
      e.device = t.device();
      if (needs_grad(t)) e.meta = t.meta();
    }
    node->inputs.push_back(std::move(e));
  }
  node->backward = std::move(fn);
  node->out_shape = out.shape();
  auto& m = out.ensure_meta();
  GB_CHECK(!m->grad_fn, op, ": output already has a producer (ops must return fresh tensors)");
  m->grad_fn = node;
  m->requires_grad = true;
  node->output = m;
}

// dst (shape D, any strides: view-op backwards pass views of a gradient buffer) += g (shape G, broadcastable to D or reducible to D by summing the
// leading/size-1 dimensions that broadcasting introduced).
void accumulate_grad(Tensor& dst, const Tensor& g_in) {
  Tensor g = g_in;
  if (g.shape() != dst.shape()) {
    // Sum over dimensions that were broadcast: leading extra dims, and dims where dst has size 1.
    const int64_t lead = g.dim() - dst.dim();
    GB_CHECK(lead >= 0, "accumulate_grad: gradient ", str(g.shape()), " does not reduce to ", str(dst.shape()));
    std::vector<int64_t> dims;
    for (int64_t i = 0; i < g.dim(); ++i)
      if (i < lead || (dst.shape()[i - lead] == 1 && g.shape()[i] != 1)) dims.push_back(i);
    {
      NoGradGuard ng;
      g = sum(g, dims, false).view_reshape(dst.shape());
    }
  }
  check_same_dtype(dst, g, "accumulate_grad");
  check_same_device(dst, g, "accumulate_grad");
  kern::accumulate(dst, g);
}

// ---------------------------------------------------------------- the engine
static void run_backward(const Tensor& root, const Tensor& seed_in, bool retain_graph) {
  GB_CHECK(needs_grad(root), "backward: tensor ", root.desc(), " does not require a gradient");
  Tensor seed = seed_in;
  if (!seed.defined()) {
    GB_CHECK(root.numel() == 1, "backward: a seed gradient is required for non-scalar output ", root.desc());
    seed = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  GB_CHECK(seed.shape() == root.shape(), "backward: seed ", seed.desc(), " does not match output ", root.desc());
  GB_CHECK(seed.dtype() == root.dtype(), "backward: seed dtype ", seed.desc(), " vs output ", root.desc());

  std::unordered_map<AutogradMeta*, Tensor> bufs;
  std::vector<std::shared_ptr<AutogradMeta>> leaves;  // metas of leaves reached, in first-reach order
  std::unordered_set<AutogradMeta*> leaf_seen;
  auto buffer_for = [&](const std::shared_ptr<AutogradMeta>& m, const Edge& e) -> Tensor& {
    auto it = bufs.find(m.get());
    if (it != bufs.end()) return it->second;
    if (!m->grad_fn && leaf_seen.insert(m.get()).second) leaves.push_back(m);
    return bufs.emplace(m.get(), Tensor::zeros(e.shape, e.dtype, e.device)).first->second;
  };

  const auto& root_meta = root.meta();
  {
    Edge re{root_meta, root.shape(), root.dtype(), root.device()};
    Tensor& b = buffer_for(root_meta, re);
    accumulate_grad(b, seed.contiguous());
  }

  // Topological order by iterative DFS (post-order), children visited in input order.
  std::vector<Node*> order;
  if (root_meta->grad_fn) {
    std::unordered_set<Node*> visited;
    std::vector<std::pair<Node*, size_t>> stack{{root_meta->grad_fn.get(), 0}};
    visited.insert(root_meta->grad_fn.get());
    while (!stack.empty()) {
      auto& [n, i] = stack.back();
      if (i < n->inputs.size()) {
        auto& m = n->inputs[i++].meta;
        if (m && m->grad_fn && visited.insert(m->grad_fn.get()).second) stack.push_back({m->grad_fn.get(), 0});
      } else {
        order.push_back(n);
        stack.pop_back();
      }
    }
  }

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = *it;
    GB_CHECK(!n->released, "backward: the graph through op '", n->op,
             "' was already freed by an earlier backward; pass retain_graph=true to go through it twice");
    auto out = n->output.lock();
    if (!out) continue;
    auto bit = bufs.find(out.get());
    if (bit == bufs.end()) continue;  // no gradient flowed here
    Tensor gy = bit->second;
    for (auto& h : out->hooks) h(gy);
    if (out->retain_grad) {
      if (!out->grad.defined())
        out->grad = gy.clone();
      else
        accumulate_grad(out->grad, gy);
    }
    std::vector<Tensor> gx(n->inputs.size());
    for (size_t i = 0; i < n->inputs.size(); ++i)
      if (n->inputs[i].meta) gx[i] = buffer_for(n->inputs[i].meta, n->inputs[i]);
    {
      ScopeGuard sg(n->scope);
      CurrentOpGuard og(n->op.c_str());  // kernels of this backward are attributed to the op
      auto t0 = std::chrono::steady_clock::now();
      n->backward(gy, gx);
      if (trace::active()) {
        trace::OpRecord r;
        r.op = n->op;
        r.scope = n->scope;
        r.phase = "backward";
        for (auto& e : n->inputs) r.inputs.push_back(e.shape);
        r.output = n->out_shape;
        r.flops = 2 * n->flops;
        r.bytes = 0;
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        r.backend = trace::backend_name(gy);
        trace::emit(std::move(r));
      }
    }
    bufs.erase(bit);  // this tensor's gradient is consumed: free it early
    if (!retain_graph) {
      n->backward = nullptr;  // frees the saved tensors
      n->released = true;
    }
  }

  // Leaves: hooks see this pass's gradient, then it accumulates into .grad.
  for (auto& m : leaves) {
    Tensor& g = bufs.at(m.get());
    for (auto& h : m->hooks) h(g);
    if (!m->grad.defined())
      m->grad = g;
    else
      accumulate_grad(m->grad, g);
  }
}

// ---------------------------------------------------------------- Tensor's autograd members
const std::shared_ptr<AutogradMeta>& Tensor::meta() const {
  GB_CHECK(impl_ != nullptr, "Tensor::meta: use of an undefined tensor");
  return impl_->meta;
}
const std::shared_ptr<AutogradMeta>& Tensor::ensure_meta() {
  if (!impl_->meta) impl_->meta = std::make_shared<AutogradMeta>();
  return impl_->meta;
}
bool Tensor::requires_grad() const { return needs_grad(*this); }
Tensor& Tensor::set_requires_grad(bool r) {
  GB_CHECK(!(impl_->meta && impl_->meta->grad_fn), "set_requires_grad: only leaf tensors can change this (",
           desc(), " has history; use detach())");
  GB_CHECK(!r || is_floating(dtype()), "set_requires_grad: only floating tensors can require grad, got ", desc());
  ensure_meta()->requires_grad = r;
  return *this;
}
bool Tensor::is_leaf() const { return !impl_->meta || !impl_->meta->grad_fn; }
Tensor Tensor::grad() const { return impl_->meta ? impl_->meta->grad : Tensor(); }
void Tensor::zero_grad() {
  if (impl_->meta) impl_->meta->grad = Tensor();
}
void Tensor::set_grad(const Tensor& g) {
  GB_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient ", g.desc(), " for ", desc());
  ensure_meta()->grad = g;
}
void Tensor::backward(const Tensor& seed, bool retain_graph) const { run_backward(*this, seed, retain_graph); }
void Tensor::retain_grad() {
  GB_CHECK(requires_grad(), "retain_grad: tensor does not require a gradient (", desc(), ")");
  ensure_meta()->retain_grad = true;
}
int Tensor::register_hook(std::function<void(const Tensor&)> fn) {
  GB_CHECK(requires_grad(), "register_hook: tensor does not require a gradient (", desc(), ")");
  auto& m = ensure_meta();
  m->hooks.push_back(std::move(fn));
  return (int)m->hooks.size() - 1;
}
const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return impl_->meta ? impl_->meta->grad_fn : none;
}
Tensor Tensor::detach() const {
  auto impl = std::make_shared<Tensor::Impl>(*impl_);
  impl->meta = nullptr;
  return Tensor(impl);
}

}  // namespace gb

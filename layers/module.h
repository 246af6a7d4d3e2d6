// Module: a node of the layer tree with hierarchical names, as torch.nn.Module names them.
//
//   parameters and buffers  "transformer.encoder.layer.0.attn.query.weight" (full names equal the
//                           official PyTorch state_dict keys for the models in models/)
//   order                   a module's own parameters (registration order), then its buffers, then
//                           each child in registration order, recursively: torch's state_dict order
//   forward                 every module's forward runs inside gb::ScopeGuard(full name), so graph
//                           nodes and trace records carry the layer that ran them
//   hooks                   root.register_forward_hook("decoder.conv_more", fn) calls fn(output) after
//                           that submodule's forward; register_backward_hook(name, fn) calls
//                           fn(d loss / d output) during backward (via Tensor::register_hook)
//   FLOPs                   leaf layers add their analytic forward FLOPs to themselves while
//                           FlopCountGuard is alive (audit): "mac" counts multiply-adds as 2 FLOPs
//                           (conv, linear, attention matmuls), "other" is everything elementwise
//
// Modules are held by std::shared_ptr and never copied or moved: members are Tensor handles whose
// addresses the registry keeps, so to(dtype) and load_state_dict update them in place.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"

namespace gb::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using TensorMap = std::map<std::string, Tensor>;
using OutputHook = std::function<void(const Tensor&)>;

struct Flops {
  double mac = 0;    // 2 x multiply-adds of conv / linear / matmul
  double other = 0;  // norms, activations, softmax, residual adds, resampling (1 per arithmetic op)
  Flops& operator+=(const Flops& o) { mac += o.mac; other += o.other; return *this; }
  double total() const { return mac + other; }
};

// While alive (on this thread), every module adds the FLOPs of the ops recorded in its own scope
// into Module::flops(). One source: the numbers are the ops' own counts from their trace records
// (autograd/trace.h; `mac` is the multiply-add part of convolutions, linears and matmuls), grouped by
// the layer scope that was active when each op ran, so a per-layer table and the op trace agree.
struct FlopCountGuard {
  FlopCountGuard();
  ~FlopCountGuard();
  bool prev;
  std::unique_ptr<trace::TraceSession> session;
  trace::TraceSession* prev_session_ = nullptr;
};
bool flop_counting();

// While alive (on this thread), layers may keep tensors computed from their parameters alone and
// reuse them on every forward instead of recomputing them: StdConv2d keeps its standardised weight
// ([O, C, kh, kw], as large as the weight), which R50-ViT-B_16 otherwise recomputes for 52 convs
// per forward (12-13 ms at 224 x 224 on 2 cores). The holder promises that no parameter changes
// while the scope lives: inference over a volume (train/predict.cpp), an explanation with frozen
// parameters (xai::FrozenParameters). A layer caches only when no graph runs through the
// parameter (grad mode off, or the parameter does not require a gradient), so a training step
// inside a scope still differentiates through the standardisation. Nested scopes see the outer
// ones' entries; everything cached is freed when its scope ends.
class ParameterCacheScope {
 public:
  ParameterCacheScope();
  ~ParameterCacheScope();
  ParameterCacheScope(const ParameterCacheScope&) = delete;
  ParameterCacheScope& operator=(const ParameterCacheScope&) = delete;
  // The innermost live scope on this thread, or null.
  static ParameterCacheScope* current();
  // The tensor kept under key (a layer's address) by this scope or an outer one; undefined if none.
  Tensor find(const void* key) const;
  void put(const void* key, const Tensor& t);
  size_t size() const { return cache_.size(); }

 private:
  ParameterCacheScope* prev_;
  std::map<const void*, Tensor> cache_;
};

// What load_state_dict did; with strict loading any problem throws instead (listing every key).
struct LoadReport {
  std::vector<std::string> loaded, missing, unexpected, mismatched;  // mismatched: "name: [a] vs [b]"
  bool complete() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string summary() const;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual std::string type_name() const { return "Module"; }

  // ---- registration (names are local: "weight", "conv1") ----
  // The module keeps a pointer to `slot`, a Tensor member of the derived class.
  void register_parameter(const std::string& name, Tensor& slot);
  void register_buffer(const std::string& name, Tensor& slot);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // ---- tree ----
  const std::string& full_name() const { return full_name_; }  // "" for the root
  const std::string& local_name() const { return local_name_; }
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  NamedTensors state_dict() const;  // parameters and buffers, torch order
  std::vector<std::pair<std::string, Module*>> named_modules();  // self first ("" for the root), preorder
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  Module* find_module(const std::string& name);  // hierarchical, relative to this; nullptr if absent
  Module& module(const std::string& name);       // throws listing nearby names
  Tensor find_tensor(const std::string& name) const;  // parameter or buffer by relative name
  int64_t num_parameters() const;

  // ---- modes and gradients ----
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();
  // Converts floating parameters and buffers in place (f32 <-> f64); integer buffers stay.
  void to(DType t);
  // Moves floating parameters and buffers to a device (integer buffers such as BatchNorm's
  // num_batches_tracked stay on the host, where the layer updates them).
  void to(Device d);
  // Where the floating parameters live (the CPU when there are none): inputs go there.
  Device device() const;
  // Reseeds every Dropout below with (seed, stream = its index in preorder).
  void set_dropout_seed(uint64_t seed);

  // ---- weights ----
  // Copies values into the existing tensors (converting dtype). Keys are full names relative to this
  // module. strict: any missing / unexpected / mis-shaped key throws a gb::Error listing all of them;
  // otherwise loads what matches and reports the rest.
  LoadReport load_state_dict(const TensorMap& sd, bool strict = true, const std::string& source = "state_dict");

  // ---- hooks (name = submodule's name relative to this; "" = this module) ----
  int register_forward_hook(const std::string& name, OutputHook fn);
  int register_backward_hook(const std::string& name, OutputHook fn);
  void remove_hook(int id);  // from whichever module holds it
  void clear_hooks();        // all hooks in the subtree

  // ---- FLOP accounting (see FlopCountGuard) ----
  const Flops& own_flops() const { return flops_; }
  Flops flops() const;  // own + subtree
  void reset_flops();

 protected:
  // Runs `f` inside ScopeGuard(full name) and then fires this module's hooks on its result.
  // Every forward goes through here:  return run([&] { return conv2d(x, weight, bias, o); });
  template <class F> Tensor run(F&& f) {
    Tensor y;
    const size_t mark = flop_mark();
    {
      ScopeGuard sg(full_name_);
      y = f();
    }
    count_flops_since(mark);
    fire_hooks(y);
    return y;
  }
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  virtual void on_train(bool) {}

 private:
  void set_names(const std::string& full, const std::string& local);
  void fire_hooks(const Tensor& y);
  // FLOP counting (FlopCountGuard): the trace position before the forward, and the sum of the
  // forward records made since then in this module's own scope.
  size_t flop_mark() const;
  void count_flops_since(size_t mark);
  void collect(const std::string& prefix, NamedTensors& out, bool params, bool buffers) const;

  std::string full_name_, local_name_;
  std::vector<std::pair<std::string, Tensor*>> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
  struct Hook { int id; OutputHook fn; };
  std::vector<Hook> fwd_hooks_, bwd_hooks_;
  Flops flops_;
};

// A module with one tensor in and one out; Sequential calls these.
class Unary : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
};

// Children applied in order (torch nn.Sequential; children named "0", "1", ... by add()).
class Sequential : public Unary {
 public:
  std::string type_name() const override { return "Sequential"; }
  template <class M> std::shared_ptr<M> add(std::shared_ptr<M> m) {
    return register_module(std::to_string(children().size()), std::move(m));
  }
  template <class M> std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> m) {
    return register_module(name, std::move(m));
  }
  Tensor forward(const Tensor& x) override;
};

}  // namespace gb::nn

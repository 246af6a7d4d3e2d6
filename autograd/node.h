// A node of the reverse-mode graph: one recorded op application. Built as ops run (define-by-run).
//
// Contract for `backward(gy, gx)`:
//   gy     the complete gradient of the op's output (contiguous, output-shaped, output dtype/device).
//   gx[i]  defined iff input i needs a gradient: contiguous, input-shaped, possibly already holding
//          other consumers' contributions. The op ADDS its contribution (+=); it never assigns.
//          The engine zeroes buffers; ops never do. (llm.c's convention; tested by running backward
//          twice and expecting twice the gradient.)
// Saved tensors live in the closure, so releasing the closure frees them.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace gb {

struct Edge {
  std::shared_ptr<AutogradMeta> meta;  // null when this input needs no gradient
  Shape shape;
  DType dtype = DType::F32;
  Device device = Device::CPU;
};

using BackwardFn = std::function<void(const Tensor& gy, std::vector<Tensor>& gx)>;

struct Node {
  std::string op;     // "conv2d"
  std::string scope;  // hierarchical layer name active when recorded ("transformer.encoder.layer.0.attn")
  std::vector<Edge> inputs;
  std::weak_ptr<AutogradMeta> output;
  Shape out_shape;
  double flops = 0;  // forward FLOPs (for traces; backward is reported as ~2x)
  BackwardFn backward;
  bool released = false;
  uint64_t seq = 0;  // creation order; the engine breaks ties with it (deterministic order)
};

// ---- grad mode ----
bool grad_enabled();
struct NoGradGuard {
  NoGradGuard();
  ~NoGradGuard();
  bool prev;
};

// True when grad mode is on and any input requires a gradient (is a leaf that asked, or has history).
bool any_requires_grad(const std::vector<Tensor>& inputs);
bool needs_grad(const Tensor& t);

// Records `op` producing `out` from `inputs`, if any input needs a gradient (otherwise does nothing).
// Call after computing `out`. `flops` is the op's forward FLOP count for traces.
void record(const char* op, Tensor& out, const std::vector<Tensor>& inputs, BackwardFn fn, double flops = 0);

// gx[i] += g, where g may be a broadcast-shaped or strided view: sums over broadcast dimensions so the
// result matches gx[i]'s shape. Used by elementwise backward passes.
void accumulate_grad(Tensor& dst, const Tensor& g);

// ---- hierarchical scope names (layers push their names while they run) ----
struct ScopeGuard {
  explicit ScopeGuard(const std::string& name);
  ~ScopeGuard();
};
std::string current_scope();

}  // namespace gb

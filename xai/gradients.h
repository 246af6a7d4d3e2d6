// The one primitive every gradient method here is built on: dT/dx for a set of inputs, evaluated in
// batches (one forward and one backward per batch), in a fixed order.
//
//   inputs   S samples, sample s made on demand by make(s) -> [C, *spatial] (model dtype)
//   batches  [0, b), [b, 2b), ... : sample s is always row s - first of its batch, batches in order,
//            so a given batch size reproduces bit for bit (CPU kernels split outputs among threads,
//            never a sum, so the thread count does not matter either)
//   result   use(s, T_s, g_s) for every s in increasing order; g_s = dT_s/dx_s [C, *spatial]
//
// Each sample's T_s depends only on its own row (the model runs in eval mode: BatchNorm uses its
// running statistics, dropout is off), so the batch's T = sum_s T_s gives every row its own gradient.
// Parameters are excluded from the graph while this runs (their gradients are never needed), which
// saves the weight-gradient GEMMs of the backward pass.
//
// Devices. The model may live on any device (Module::to): every input built here on the host goes to
// the model's device (model.device()) one batch at a time, and what host code reads comes back once
// per batch (T, the input gradient). Inputs and results of the functions below are host tensors; an
// input already on a device is accepted too.
#pragma once
#include <functional>

#include "models/model.h"
#include "xai/targets.h"

namespace gb::xai {

// Puts the model in eval mode for the scope and restores its previous mode.
struct EvalGuard {
  explicit EvalGuard(nn::Module& m) : m_(m), was_training_(m.is_training()) { m_.eval(); }
  ~EvalGuard() { m_.train(was_training_); }
  nn::Module& m_;
  bool was_training_;
};

// Turns requires_grad off on every parameter for the scope and restores it. Parameters cannot change
// meanwhile, so layers may also keep what they derive from them (nn::ParameterCacheScope: an IG path
// standardises R50's conv weights once, not once per batch of steps).
struct FrozenParameters {
  explicit FrozenParameters(nn::Module& m);
  ~FrozenParameters();
  std::vector<std::pair<Tensor, bool>> saved_;
  nn::ParameterCacheScope cache_;
};

// A fresh leaf copy of x on the model's device (what an explanation feeds the model and differentiates
// with respect to): one transfer when x lives elsewhere, a clone otherwise.
Tensor input_on_model_device(const nn::Module& model, const Tensor& x);

using MakeInput = std::function<Tensor(int64_t s)>;
using UseGradient = std::function<void(int64_t s, double T, const Tensor& grad)>;

// See the header comment. target: a shared region [*spatial] (or [S, *spatial] for per-sample regions),
// on the host. make(s) may build its sample on the host (it is moved with its batch); use() gets g_s on
// the host.
void input_gradients(models::SegmentationModel& model, int64_t S, const MakeInput& make, const Target& target,
                     int64_t batch, const UseGradient& use);

// T_s only (forward passes, no graph), same batching; returns [S] values in order.
std::vector<double> target_values(models::SegmentationModel& model, int64_t S, const MakeInput& make,
                                  const Target& target, int64_t batch);

// Memory a forward + backward of one sample needs, estimated from one traced forward of `x` [1, ...]:
// 3 x the bytes of every op output (the activations the graph keeps, their gradients in the backward
// pass, and scratch). forward_only: 1 x (occlusion keeps no graph, only the live tensors).
double bytes_per_sample(models::SegmentationModel& model, const Tensor& x, bool forward_only = false);

// The batch size that fits memory_mb (at least 1, at most max_batch).
int64_t batch_for_budget(double memory_mb, double bytes_per_sample, int64_t max_batch);

// Steps (or noisy copies) per forward + backward for the gradient methods when the user names none.
// memory_mb bounds the batch on every device. On the CPU the batch also stops growing once a pass's
// estimated working set (batch x bytes_per_sample) would pass cpu_pass_mb: beyond that a bigger batch
// runs no faster there and only costs memory (bench/RESULTS.md, "Steps per batch on the CPU", a
// 2-core AVX2 guest: tiny TransUNet IG32 at 64² runs 1.8x faster at 16 steps per batch than at 1, at
// 128² 1.45x at 8 and slower beyond, at 224² flat up to 8 and slower from 12; R50-ViT-B_16 at 224² is
// fastest at 1). On an accelerator: the largest batch within memory_mb (bigger passes keep it busy).
int64_t gradient_batch(Device dev, double memory_mb, double cpu_pass_mb, double bytes_per_sample, int64_t max_batch);

}  // namespace gb::xai

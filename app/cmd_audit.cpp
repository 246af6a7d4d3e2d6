// `glassbox audit`: what a model is made of and what one pass costs.
//   1. per-layer table: parameters, output shape and forward FLOPs of every module (one forward,
//      no gradients, FLOPs counted analytically by the layers: see layers/module.h)
//   2. with --trace: one traced forward + backward (loss = mean of the logits) listing every op
//      executed, with its layer, shapes, FLOPs, bytes, time and backend, then totals per op.
// FLOPs: a multiply-add counts as 2. "mac" = convolutions, linears and attention matmuls;
// "other" = norms, activations, softmax, residual adds, resampling, pooling (estimated per element).
// The traced pass of a full-size model runs on the CPU and is slow (R50-ViT-B_16 at 224: ~40 s on 2
// busy cores): --trace runs by default only for models under 20 GFLOP (the tiny, micro and small
// U-Net configs); pass --force-trace for bigger ones.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "app/command.h"
#include "autograd/trace.h"
#include "models/model.h"

namespace {

std::string shape_str(const gb::Shape& s) { return gb::str(s); }

std::string commas(double v) {
  std::string s = std::to_string((long long)(v + 0.5));
  std::string out;
  int n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (n && n % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return out;
}

struct Opts {
  std::string model = "tiny";
  int64_t size = 0, classes = 0, in_channels = 0, batch = 1, depth = 99;
  bool trace = false, force_trace = false;
  uint64_t seed = 1234;
};

int run_audit(const Opts& o) {
  using namespace gb;
  models::ModelConfig cfg = models::named_config(o.model, o.size, o.classes, o.in_channels);
  auto model = models::make_model(cfg, o.seed);
  model->eval();
  std::printf("model %s (%s), input %s x %lld channel(s), %lld classes, batch %lld\n", cfg.name.c_str(),
              model->type_name().c_str(), shape_str(cfg.size).c_str(), (long long)cfg.in_channels,
              (long long)cfg.classes, (long long)o.batch);
  std::printf("config %s\n\n", cfg.to_json().c_str());

  Shape xs{o.batch, cfg.in_channels};
  for (int64_t s : cfg.size) xs.push_back(s);
  Tensor x = Tensor::empty(xs);
  Generator g(o.seed, 1);
  g.uniform_(x, -1, 1);

  // ---- 1. per-layer table
  auto mods = model->named_modules();
  std::map<std::string, Shape> out_shape;
  for (auto& [name, m] : mods) {
    std::string n = name;
    model->register_forward_hook(n, [&out_shape, n](const Tensor& y) {
      if (!out_shape.count(n)) out_shape[n] = y.shape();
    });
  }
  model->reset_flops();
  {
    NoGradGuard ng;
    nn::FlopCountGuard fc;
    model->forward(x);
  }
  model->clear_hooks();
  std::printf("%-72s %-18s %12s %-20s %14s %12s\n", "layer", "type", "params", "output", "MFLOP mac", "MFLOP other");
  for (auto& [name, m] : mods) {
    const int64_t depth = name.empty() ? 0 : 1 + (int64_t)std::count(name.begin(), name.end(), '.');
    if (depth > o.depth) continue;
    std::string label = std::string(2 * depth, ' ') + (name.empty() ? "(model)" : m->local_name());
    if (label.size() > 72) label = label.substr(0, 69) + "...";
    const nn::Flops f = m->flops();
    auto it = out_shape.find(name);
    std::printf("%-72s %-18s %12s %-20s %14.2f %12.2f\n", label.c_str(), m->type_name().c_str(),
                commas((double)m->num_parameters()).c_str(), it == out_shape.end() ? "-" : shape_str(it->second).c_str(),
                f.mac / 1e6, f.other / 1e6);
  }
  const nn::Flops total = model->flops();
  std::printf("\nparameters: %s (%lld)\n", commas((double)model->num_parameters()).c_str(),
              (long long)model->num_parameters());
  std::printf("forward FLOPs per batch of %lld: %s mac (= %.4f GFLOP, multiply-add = 2 FLOPs: convolutions, linears, "
              "attention matmuls) + %s other (%.4f GFLOP: norms, activations, softmax, adds, resampling, pooling; "
              "estimated)\n",
              (long long)o.batch, commas(total.mac).c_str(), total.mac / 1e9, commas(total.other).c_str(),
              total.other / 1e9);

  // ---- 2. traced forward + backward
  if (!o.trace) return 0;
  if (total.mac > 20e9 * o.batch && !o.force_trace) {
    std::printf("\ntrace skipped: %.1f GFLOP forward (x3 with backward) is slow on the CPU; --trace runs by default "
                "only under 20 GFLOP (tiny configs); pass --force-trace to run it anyway\n",
                total.mac / 1e9);
    return 0;
  }
  model->train();
  {  // one untraced pass first, so the times are the steady state a training loop sees (thread pool
     // started, conv/GEMM workspaces grown, the host buffer cache filled: no first-touch page faults)
    Tensor y = model->forward(x);
    mean(y).backward();
  }
  std::vector<trace::OpRecord> recs;
  {
    trace::TraceSession ts;
    Tensor y = model->forward(x);
    Tensor loss = mean(y);
    loss.backward();
    recs = ts.records();
  }
  std::printf("\ntraced forward + backward (train mode, loss = mean(logits), after one untraced warm-up pass): %zu op "
              "records\n", recs.size());
  std::printf("%5s %-8s %-22s %-56s %-34s %-18s %12s %10s %9s %s\n", "#", "phase", "op", "layer", "inputs", "output",
              "MFLOP", "MB", "ms", "backend");
  struct Agg {
    int64_t n = 0;
    double flops = 0, seconds = 0;
  };
  std::map<std::string, Agg> per_op;
  double fwd_flops = 0, bwd_flops = 0, fwd_s = 0, bwd_s = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    const auto& r = recs[i];
    std::string ins;
    for (auto& s : r.inputs) ins += (ins.empty() ? "" : " ") + shape_str(s);
    if (ins.size() > 34) ins = ins.substr(0, 31) + "...";
    std::string scope = r.scope.empty() ? "(model)" : r.scope;
    if (scope.size() > 56) scope = "..." + scope.substr(scope.size() - 53);
    std::printf("%5zu %-8s %-22s %-56s %-34s %-18s %12.3f %10.3f %9.3f %s\n", i, r.phase.c_str(), r.op.c_str(),
                scope.c_str(), ins.c_str(), shape_str(r.output).c_str(), r.flops / 1e6, r.bytes / 1e6, r.seconds * 1e3,
                r.backend.c_str());
    Agg& a = per_op[r.phase + " " + r.op];
    a.n++;
    a.flops += r.flops;
    a.seconds += r.seconds;
    (r.phase == "backward" ? bwd_flops : fwd_flops) += r.flops;
    (r.phase == "backward" ? bwd_s : fwd_s) += r.seconds;
  }
  std::printf("\nper op: %-30s %6s %14s %10s\n", "phase op", "count", "MFLOP", "ms");
  for (auto& [k, a] : per_op)
    std::printf("        %-30s %6lld %14.3f %10.3f\n", k.c_str(), (long long)a.n, a.flops / 1e6, a.seconds * 1e3);
  std::printf("forward: %.4f GFLOP in %.3f s; backward: %.4f GFLOP in %.3f s (op-reported FLOPs; backward counted as "
              "2x forward by the engine)\n",
              fwd_flops / 1e9, fwd_s, bwd_flops / 1e9, bwd_s);
  return 0;
}

gb::app::Register reg("audit", "per-layer parameters, output shapes and FLOPs; --trace lists every op of one pass",
                      [](CLI::App& sub) {
                        auto o = std::make_shared<Opts>();  // owned by the action below (freed at exit)
                        sub.add_option("--model", o->model, "model config (r50-vit-b16, vit-b16, tiny, tiny-vit, micro, "
                                                            "unet2d, unet2d-tiny, unet3d, unet3d-small, unet3d-tiny)");
                        sub.add_option("--size", o->size, "input size (every spatial dim); 0 = the config's");
                        sub.add_option("--classes", o->classes, "number of classes; 0 = the config's");
                        sub.add_option("--in-channels", o->in_channels, "input channels (1 or 3); 0 = the config's");
                        sub.add_option("--batch", o->batch, "batch size");
                        sub.add_option("--depth", o->depth, "deepest layer level shown in the table");
                        sub.add_option("--seed", o->seed, "weight seed");
                        sub.add_flag("--trace", o->trace, "also run one traced forward + backward and list every op");
                        sub.add_flag("--force-trace", o->force_trace, "trace even a model over 20 GFLOP (slow on the CPU)");
                        return [o] { return run_audit(*o); };
                      });

}  // namespace

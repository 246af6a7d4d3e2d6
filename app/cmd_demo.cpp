// `glassbox demo`: the whole paper on built-in phantom data (pipeline/demo.h): phantom CT -> TransUNet
// and the U-Net baseline trained on one split -> held-out cases segmented and scored as LiTS does ->
// every held-out tumour explained with Grad-CAM and IG -> saliency metrics -> report.html.
#include <cstdio>
#include <filesystem>

#include "app/command.h"
#include "autograd/backends.h"
#include "pipeline/demo.h"
#include "tensor/cpu/parallel.h"
#include "train/progress.h"

namespace {

struct DemoArgs {
  gb::pipeline::DemoOptions o;
  int64_t steps = 0, baseline_steps = 0, batch = 0;
  double lr = 0;
  std::string optimizer;
  std::string device = "auto";
};

int run_demo(DemoArgs& a) {
  using namespace gb;
  auto& o = a.o;
  o.models = pipeline::default_demo_models();
  for (size_t i = 0; i < o.models.size(); ++i) {
    auto& m = o.models[i];
    if (i == 0 && a.steps > 0) m.steps = a.steps;
    if (i > 0 && a.baseline_steps > 0) m.steps = a.baseline_steps;
    if (a.batch > 0) m.batch = a.batch;
    if (a.lr > 0) m.lr = a.lr;
    if (!a.optimizer.empty()) m.optimizer = a.optimizer;
  }
  o.command = app::command_line();
  BackendInfo b = init_backends();
  if (!b.cuda_available || a.device == "cpu")
    std::printf("backend: CPU, %d threads%s%s%s\n", cpu::num_threads(), b.cuda_available ? "" : " (no CUDA: ",
                b.cuda_available ? "" : b.why_not.c_str(), b.cuda_available ? "" : ")");
  o.device = b.cuda_available ? a.device : "cpu";  // without a GPU the line above already said why
  train::Progress prog;
  pipeline::DemoEvents ev;
  ev.message = [&](const std::string& s) { prog.message(s); };
  ev.progress = [&](const std::string& s, bool done) { prog.update(s, done); };
  const pipeline::DemoResult r = pipeline::run_demo(o, ev);
  prog.finish();
  std::printf("\nheld-out cases (%zu): ", r.val_cases.size());
  for (const auto& c : r.val_cases) std::printf("%s ", c.c_str());
  std::printf("\n%-14s %12s %12s %13s %13s %10s\n", "model", "liver Dice", "tumour Dice", "liver global", "tumour global",
              "train s");
  for (const auto& s : r.scores)
    std::printf("%-14s %12.3f %12.3f %13.3f %13.3f %10.1f\n", s.model.c_str(), s.liver_dice, s.tumour_dice,
                s.liver_global, s.tumour_global, s.train_seconds);
  std::printf("(per-case mean Dice; global = all voxels of the held-out cases pooled; intervals, surface distances, "
              "lesions and the paired test are in the report)\n");
  std::printf("\noutputs:\n  data      %s\n", r.data.c_str());
  for (const auto& run : r.runs) std::printf("  run       %s (model.safetensors: `glassbox segment --model ...`)\n", run.c_str());
  std::printf("  evaluate  %s (metrics.csv, metrics.json)\n", r.evaluate.c_str());
  for (const auto& e : r.explains) std::printf("  explain   %s (maps as NIfTI, panels, metrics.csv)\n", e.c_str());
  std::printf("done in %.1f s\nopen the report: file://%s\n", r.seconds,
              std::filesystem::absolute(r.report).string().c_str());
  return 0;
}

gb::app::Register reg("demo", "the whole paper on built-in phantom CT: train TransUNet and U-Net, evaluate, explain, report",
                      [](CLI::App& sub) {
                        auto a = std::make_shared<DemoArgs>();  // owned by the action below (freed at exit)
                        auto& o = a->o;
                        sub.add_option("--out", o.out, "output folder")->capture_default_str();
                        sub.add_option("--cases", o.cases, "phantom volumes to generate")->capture_default_str();
                        sub.add_option("--size", o.size, "in-plane size = model input (divisible by 16)")->capture_default_str();
                        sub.add_option("--depth", o.depth, "slices per phantom volume")->capture_default_str();
                        sub.add_option("--seed", o.seed, "seed: names the data, the split, the weights and the runs")
                            ->capture_default_str();
                        sub.add_option("--steps", a->steps, "TransUNet training steps (default 1500)");
                        sub.add_option("--baseline-steps", a->baseline_steps, "U-Net training steps (default 600)");
                        sub.add_option("--batch", a->batch, "batch size (default 4)");
                        sub.add_option("--lr", a->lr, "base learning rate (default 1e-3)");
                        sub.add_option("--optimizer", a->optimizer, "adamw (default) or sgd")
                            ->check(CLI::IsMember({"sgd", "adamw"}));
                        sub.add_option("--oversample", o.oversample, "times each tumour slice is seen per epoch")
                            ->capture_default_str();
                        sub.add_option("--class-weights", o.class_weights,
                                       "loss weight per class: background, liver, tumour")
                            ->delimiter(',');
                        sub.add_option("--ig-steps", o.ig_steps, "Integrated Gradients steps (Gauss-Legendre)")
                            ->capture_default_str();
                        sub.add_option("--max-tumours", o.max_tumours, "tumours explained per held-out case")
                            ->capture_default_str();
                        sub.add_option("--device", a->device, "cpu, cuda or auto")
                            ->capture_default_str()
                            ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
                        return [a] { return run_demo(*a); };
                      });

}  // namespace

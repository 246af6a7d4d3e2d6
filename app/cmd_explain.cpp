// `glassbox explain`: saliency maps for the user's CT with a trained checkpoint (pipeline/explain.h
// does the work); `--list-layers` prints every hookable layer with its output shape.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "app/command.h"
#include "models/config.h"
#include "pipeline/explain.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/progress.h"
#include "xai/cam.h"
#include "xai/layers.h"

namespace {

struct ExplainArgs {
  std::string model, in, out, region = "prediction", rule = "gauss-legendre", baseline = "blur";
  std::string device = "auto";
  std::vector<std::string> methods, layers;
  std::vector<int64_t> box, pixel;
  bool list_layers = false, component_of_truth = false;
  gb::pipeline::ExplainOptions opt;
};

int run_explain(ExplainArgs& a) {
  using namespace gb;
  GB_CHECK(!a.model.empty(), "explain: --model CHECKPOINT is required");
  std::shared_ptr<models::SegmentationModel> model;
  io::Preprocess pre;
  if (a.list_layers && !std::filesystem::exists(a.model)) {
    model = models::make_model(models::named_config(a.model), 1);  // a config name: layers need no weights
  } else {
    train::Checkpoint ck = train::load_checkpoint(a.model);
    model = ck.model;
    pre = ck.pre;
  }
  if (a.list_layers) {
    std::printf("%-64s %-18s %-22s %s\n", "layer", "type", "output (batch 1)", "feature map");
    for (auto& l : xai::list_layers(*model))
      std::printf("%-64s %-18s %-22s %s\n", l.name.c_str(), l.type.c_str(), str(l.output).c_str(), l.feature_map ? "yes" : "-");
    std::printf("automatic layer: %s\n", xai::auto_layer(*model).c_str());
    return 0;
  }
  GB_CHECK(!a.in.empty() && !a.out.empty(), "explain: --in and --out are required");
  pipeline::ExplainOptions& o = a.opt;
  o.methods.clear();
  for (auto& m : a.methods) {  // "gradcam,ig" or repeated --method
    size_t s = 0;
    for (size_t e; (e = m.find(',', s)) != std::string::npos; s = e + 1) o.methods.push_back(m.substr(s, e - s));
    o.methods.push_back(m.substr(s));
  }
  if (o.methods.empty()) o.methods = {"gradcam"};
  o.layers = a.layers;
  o.target.region = xai::region_kind_from_name(a.region);
  o.target.box = a.box;
  o.target.pixel = a.pixel;
  o.target.of_truth = a.component_of_truth;
  o.ig.rule = xai::rule_from_name(a.rule);
  o.baseline = xai::baseline_from_name(a.baseline);
  // Everything is read and checked before the first line is printed or a file is written.
  auto plan = pipeline::plan_explain(*model, pre, a.in, a.out, o);
  // Explanations differentiate: the check records a backward pass too (training = true).
  const train::DeviceChoice dc = train::choose_device(a.device, model->config(), true, "explain");
  std::printf("model: %s (%s), input %s\n", a.model.c_str(), model->config().name.c_str(), pre.describe().c_str());
  if (!dc.note.empty()) std::printf("%s\n", dc.note.c_str());
  model->to(dc.device);  // every forward and backward runs where the model is; maps come back to the host
  std::printf("target: %s; methods:", o.target.describe().c_str());
  for (auto& m : o.methods) std::printf(" %s", m.c_str());
  std::printf("; IG %s, %lld steps, baseline %s, tolerance %.3g %%\n", xai::rule_name(o.ig.rule), (long long)o.ig.steps,
              xai::baseline_name(o.baseline), 100 * o.ig.tolerance);
  train::Progress prog;
  auto r = pipeline::explain(*model, pre, plan, o, [&](int64_t done, int64_t total, const std::string& what) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "explain %lld/%lld  %s", (long long)done, (long long)total, what.c_str());
    prog.update(buf, done == total);
  });
  prog.finish();
  for (auto& row : r.rows)  // one line per IG map (a 3-D model's window, not each of its planes again)
    if (row.method == "ig" && (pre.depth == 0 || row.scope == "window"))
      std::printf("%s %s %lld: IG T(x) %.4f T(x') %.4f, completeness error %.4g (%.3g %%), %lld gradient evaluations\n",
                  row.input.c_str(), row.scope == "window" ? "window at slice" : "slice",
                  (long long)(row.scope == "window" ? std::max<int64_t>(0, row.window.at(0)) : row.slice), row.target, row.target_baseline, row.delta_abs,
                  100 * row.delta_rel, (long long)row.evaluations);
  for (auto& w : r.warnings) std::fprintf(stderr, "WARNING: %s\n", w.c_str());
  // A map is one (slice or window, method); chance rows and a window's per-plane rows score maps, not add any.
  const auto maps = std::count_if(r.rows.begin(), r.rows.end(), [&](const gb::pipeline::ExplainRow& row) {
    return row.method.rfind("chance-", 0) != 0 && (pre.depth == 0 || row.scope == "window");
  });
  std::printf("%lld maps explained (%zu metric rows, chance and per-plane rows included), %zu files written to %s (metrics.csv, metrics.json)\n",
              (long long)maps, r.rows.size(), r.files.size(), a.out.c_str());
  return 0;
}

gb::app::Register reg("explain", "saliency maps (Grad-CAM family, IG, SmoothGrad, occlusion, transformer rollout and relevance) for a trained checkpoint",
                      [](CLI::App& sub) {
  auto a = std::make_shared<ExplainArgs>();  // owned by the action below (freed at exit)
  auto& o = a->opt;
  sub.add_option("--model", a->model, "checkpoint (.safetensors); with --list-layers also a config name")->required();
  sub.add_flag("--list-layers", a->list_layers, "print every hookable layer with its output shape, and exit");
  sub.add_option("--in", a->in,
                 "NIfTI volume, PNG/JPG slice, folder of slices, or a dataset as train --data takes (slice folder, LiTS, "
                 "MSD, stacks:FOLDER[:SIZE], phantom:N) whose labels are the truth");
  sub.add_option("--cases", o.cases, "dataset input: only these cases, e.g. volume-35,volume-37")->delimiter(',');
  sub.add_option("--truth", o.truth, "labels: NIfTI on the volume's grid, a label PNG, or a folder of <stem>_mask.png");
  sub.add_option("--out", a->out, "output folder");
  sub.add_option("--method", a->methods,
                 "gradcam hirescam gradcam++ layercam ig gradient gradxinput smoothgrad vargrad occlusion rollout gradrollout "
                 "relevance (repeat or comma-separate)");
  sub.add_option("--layer", a->layers, "CAM layer(s) (default: automatic, see --list-layers); several are combined");
  sub.add_option("--class", o.target.cls, "class whose logits are explained")->capture_default_str();
  sub.add_option("--region", a->region, "prediction, truth, component, box, pixel, whole")->capture_default_str();
  sub.add_option("--component", o.target.component, "component region: 0 largest, k >= 1 k-th in scan order")->capture_default_str();
  sub.add_flag("--component-of-truth", a->component_of_truth, "component of the truth instead of the prediction");
  sub.add_option("--box", a->box, "box region on the model grid: y0 x0 y1 x1 (half-open)")->expected(4);
  sub.add_option("--pixel", a->pixel, "pixel region on the model grid: y x")->expected(2);
  sub.add_option("--slices", o.slices, "volume slices to explain (2-D models; default: every slice holding the class)");
  sub.add_option("--baseline", a->baseline, "IG / occlusion baseline: zero, air, blur, noise, tissue")->capture_default_str();
  sub.add_option("--blur-sigma", o.blur_sigma, "blur baseline sigma in pixels (0: image side / 16)")->capture_default_str();
  sub.add_option("--rule", a->rule, "IG rule: gauss-legendre, riemann-left, riemann-right, riemann-middle, trapezoid, adaptive")
      ->capture_default_str();
  sub.add_option("--steps", o.ig.steps, "IG steps (fixed rules)")->capture_default_str();
  sub.add_option("--tolerance", o.ig.tolerance, "IG relative completeness tolerance (warning; adaptive's goal)")->capture_default_str();
  sub.add_option("--max-steps", o.ig.max_steps, "adaptive IG gradient-evaluation budget")->capture_default_str();
  sub.add_option("--perturbation-steps", o.perturbation_steps,
                 "deletion and insertion AUC with this many steps per curve (0: off; costs 2 (N + 1) forwards per map; a 3-D model: per window)")
      ->capture_default_str();
  sub.add_option("--memory-mb", o.memory_mb, "memory budget for batched steps / copies (on the CPU IG and SmoothGrad also keep each pass under 512 MiB, where bigger batches stop paying)")->capture_default_str();
  sub.add_option("--smooth-of", o.smooth_of, "SmoothGrad / VarGrad over: gradient, gradxinput, ig")->capture_default_str();
  sub.add_option("--samples", o.smooth_samples, "SmoothGrad / VarGrad noisy copies")->capture_default_str();
  sub.add_option("--noise", o.smooth_sigma, "SmoothGrad noise sigma, fraction of the input range")->capture_default_str();
  sub.add_option("--patch", o.occlusion_patch, "occlusion patch size (1 or 2 values)")->capture_default_str();
  sub.add_option("--stride", o.occlusion_stride, "occlusion stride (1 or 2 values)")->capture_default_str();
  sub.add_option("--seed", o.seed, "noise seed (SmoothGrad, noise baseline)")->capture_default_str();
  sub.add_option("--device", a->device, "cpu, cuda or auto (the CPU, saying why, without a usable GPU)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  sub.add_flag("--force", o.force, "write into an output folder that already holds files");
  return [a] { return run_explain(*a); };
});

}  // namespace

// `glassbox demo`: the whole pipeline on built-in phantom data, end to end on this machine, through
// the same library calls as `glassbox phantom`, `train` and `segment`:
//   1. writes a seeded phantom CT dataset in the LiTS layout (NIfTI)     -> <out>/data/
//   2. trains a small TransUNet (R50-ViT-B_16 layout, narrower) in a run folder, TransUNet's loss,
//      optimiser and schedule, validating on the held-out cases         -> <out>/run/
//   3. segments the held-out cases, scores Dice per class, writes each prediction as NIfTI in the
//      input's exact geometry                                            -> <out>/pred/
//   4. explains the largest predicted tumour of one slice with Grad-CAM  -> <out>/gradcam.png
//   5. the checkpoint (weights, config, preprocessing)                   -> <out>/model.safetensors
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "app/command.h"
#include "autograd/backends.h"
#include "autograd/ops.h"
#include "io/image.h"
#include "io/phantom.h"
#include "pipeline/cases.h"
#include "tensor/cpu/parallel.h"
#include "train/checkpoint.h"
#include "train/progress.h"
#include "train/run.h"

namespace {

struct DemoArgs {
  std::string out = "glassbox-demo";
  int64_t cases = 12, steps = 1000, size = 128, batch = 4, depth = 24;
  uint64_t seed = 1234;
  double lr = 0.02;
  int64_t oversample = 4;
  std::string cam_layer = "decoder.blocks.1";  // 1/4 of the input size: finer than conv_more (1/16)
  std::string device = "auto";
};

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int run_demo(const DemoArgs& a) {
  namespace fs = std::filesystem;
  using namespace gb;
  auto t_all = Clock::now();
  // Check the arguments before anything is generated or trained.
  GB_CHECK(a.size >= 16 && a.size % 16 == 0, "demo: --size ", a.size, " must be a positive multiple of 16");
  GB_CHECK(a.cases >= 2, "demo: --cases ", a.cases, " must be at least 2 (one is held out for testing)");
  GB_CHECK(a.steps >= 1 && a.batch >= 1 && a.depth >= 3, "demo: --steps, --batch must be >= 1 and --depth >= 3");
  GB_CHECK(a.oversample >= 1, "demo: --oversample must be >= 1");
  GB_CHECK(a.lr > 0, "demo: --lr must be positive");
  BackendInfo b = init_backends();
  if (!b.cuda_available || a.device == "cpu")
    std::printf("backend: CPU, %d threads%s%s%s\n", cpu::num_threads(), b.cuda_available ? "" : " (no CUDA: ",
                b.cuda_available ? "" : b.why_not.c_str(), b.cuda_available ? "" : ")");

  // 1. data
  const std::string data_dir = (fs::path(a.out) / "data").string();
  io::PhantomOptions po;
  po.width = po.height = 128;
  po.depth = a.depth;
  auto t0 = Clock::now();
  io::write_phantom_dataset(data_dir, a.seed, a.cases, po);
  std::printf("data: %lld phantom CT volumes (128x128x%lld, seed %llu) written to %s in the LiTS layout (%.1f s)\n",
              (long long)a.cases, (long long)a.depth, (unsigned long long)a.seed, data_dir.c_str(), since(t0));

  // 2. training, in a run folder like `glassbox train`
  train::RunOptions ro;
  ro.model = "tiny";
  ro.device = b.cuda_available ? a.device : "cpu";  // without a GPU the line above already said why
  ro.size = a.size;
  ro.data = data_dir;
  ro.out = (fs::path(a.out) / "run").string();
  ro.force = true;  // the demo's own folder
  ro.val_fraction = 0.25;
  ro.seed = a.seed;
  ro.steps = a.steps;
  ro.batch = a.batch;
  ro.lr = a.lr;
  ro.oversample = a.oversample;
  ro.slices = "liver";  // train on the slices that show the liver, as LiTS pipelines do
  ro.val_every = std::max<int64_t>(1, a.steps / 4);
  ro.ckpt_every = a.steps;
  ro.keep_last = 1;
  ro.command_line = app::command_line();
  std::printf("training: %lld steps, batch %lld of liver slices (tumour slices x%lld), loss 0.5 CE + 0.5 Dice, SGD lr %.3g momentum 0.9 wd 1e-4, poly decay\n",
              (long long)a.steps, (long long)a.batch, (long long)a.oversample, a.lr);
  train::Progress prog;
  train::RunEvents ev;
  ev.message = [&](const std::string& s) { prog.message("  " + s); };
  ev.step = [&](const train::StepRecord& r, int64_t total, double eta) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  step %lld/%lld  loss %.4f (ce %.4f dice %.4f)  lr %.5f  %.2f s/step  ETA %s",
                  (long long)r.step + 1, (long long)total, r.loss, r.ce, r.dice, r.lr, r.seconds,
                  train::format_duration(eta).c_str());
    prog.update(buf, r.step + 1 == total);
    if (r.validated) {
      std::snprintf(buf, sizeof buf, "  validation at step %lld: Dice liver %.3f, tumour %.3f", (long long)r.step + 1,
                    r.val_liver, r.val_tumour);
      prog.message(buf);
    }
  };
  t0 = Clock::now();
  train::RunResult rr = train::start_run(ro, ev);
  prog.finish();
  std::printf("trained in %.1f s (run folder %s: log.csv, curves.png, run.json)\n", since(t0), ro.out.c_str());

  // 3. segmentation of the held-out cases, with the model and preprocessing as saved
  train::Checkpoint ck = train::load_checkpoint(rr.final_checkpoint);
  auto ds = io::open_lits(data_dir);
  const std::string pred_dir = (fs::path(a.out) / "pred").string();
  std::printf("test cases (Dice; both-empty counts as 1):\n");
  pipeline::CaseResult best;
  pipeline::SliceChoice best_choice;
  for (int64_t item : ds->items_of_cases(rr.val_cases)) {
    pipeline::CaseResult c = pipeline::segment_case(*ck.model, ck.pre, *ds, item, pred_dir);
    std::printf("  %-10s liver %.3f  tumour %.3f%s  -> %s\n", c.sample.info.id.c_str(), c.liver.dice, c.tumour.dice,
                c.tumour.both_empty ? " (no tumour in truth or prediction)" : "", c.pred_path.c_str());
    pipeline::SliceChoice ch = pipeline::choose_tumour_slice(c.pred, c.sample.label.data);
    if (ch.rank() > best_choice.rank()) best = c, best_choice = ch;
  }

  // 4. Grad-CAM of the tumour logits over the predicted tumour of that slice (else the true tumour)
  if (best_choice.slice >= 0) {
    pipeline::ExplainedSlice e = pipeline::explain_slice(*ck.model, ck.pre, best, best_choice, a.cam_layer, 2);
    std::string png = (fs::path(a.out) / "gradcam.png").string();
    io::write_png(png, e.panel);
    std::printf("Grad-CAM: layer %s (%lldx%lld map), class tumour, T = sum of tumour logits over the %lld %s tumour pixels "
                "of %s slice %lld = %.3f -> %s\n  panels: CT | truth (green liver, red tumour) and prediction (blue liver, yellow tumour) outlines | Grad-CAM with the explained region outlined\n",
                a.cam_layer.c_str(), (long long)e.cam.raw.size(0), (long long)e.cam.raw.size(1),
                (long long)e.region_pixels, best_choice.on_prediction ? "predicted" : "true (none predicted)",
                best.sample.info.id.c_str(), (long long)best_choice.slice, e.cam.target, png.c_str());
  }

  // 5. checkpoint
  std::string ckpt = (fs::path(a.out) / "model.safetensors").string();
  fs::copy_file(rr.final_checkpoint, ckpt, fs::copy_options::overwrite_existing);
  std::printf("checkpoint: %s (weights, model config and preprocessing; `glassbox segment --model %s` uses it)\ndone in %.1f s\n",
              ckpt.c_str(), ckpt.c_str(), since(t_all));
  return 0;
}

gb::app::Register reg("demo", "train and explain a small TransUNet on built-in phantom CT, end to end",
                      [](CLI::App& sub) {
                        auto a = std::make_shared<DemoArgs>();  // owned by the action below (freed at exit)
                        sub.add_option("--out", a->out, "output folder")->capture_default_str();
                        sub.add_option("--cases", a->cases, "phantom volumes to generate")->capture_default_str();
                        sub.add_option("--steps", a->steps, "training steps")->capture_default_str();
                        sub.add_option("--size", a->size, "model input size (divisible by 16)")->capture_default_str();
                        sub.add_option("--batch", a->batch, "batch size")->capture_default_str();
                        sub.add_option("--depth", a->depth, "slices per phantom volume")->capture_default_str();
                        sub.add_option("--seed", a->seed, "seed: names the data, the weights and the run")->capture_default_str();
                        sub.add_option("--lr", a->lr, "base learning rate")->capture_default_str();
                        sub.add_option("--device", a->device, "cpu, cuda or auto")
                            ->capture_default_str()
                            ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
                        sub.add_option("--cam-layer", a->cam_layer, "layer Grad-CAM explains")->capture_default_str();
                        sub.add_option("--oversample", a->oversample, "times each tumour slice is seen per epoch")->capture_default_str();
                        return [a] { return run_demo(*a); };
                      });

}  // namespace

// `glassbox demo`: the whole pipeline on built-in phantom data, end to end on this machine.
//   1. writes a seeded phantom CT dataset in the LiTS layout (NIfTI)     -> <out>/data/
//   2. splits it by case, trains a small TransUNet (same architecture as R50-ViT-B_16, narrower)
//      with TransUNet's loss, optimiser and schedule
//   3. segments the held-out cases, scores Dice per class, writes each prediction as NIfTI in the
//      input's exact geometry                                            -> <out>/pred/
//   4. explains the largest predicted tumour of one slice with Grad-CAM  -> <out>/gradcam.png
//   5. saves the checkpoint                                              -> <out>/model.safetensors
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "app/command.h"
#include "autograd/ops.h"
#include "autograd/backends.h"
#include "eval/overlap.h"
#include "io/colormap.h"
#include "io/dataset.h"
#include "io/image.h"
#include "io/nifti.h"
#include "io/phantom.h"
#include "io/split.h"
#include "models/checkpoint.h"
#include "models/config.h"
#include "tensor/cpu/parallel.h"
#include "train/loop.h"
#include "train/predict.h"
#include "xai/gradcam.h"

namespace {

struct DemoArgs {
  std::string out = "glassbox-demo";
  int64_t cases = 12, steps = 1000, size = 128, batch = 4, depth = 24;
  uint64_t seed = 1234;
  double lr = 0.02;
  int64_t oversample = 4;
  std::string cam_layer = "decoder.blocks.1";  // 1/4 of the input size: finer than conv_more (1/16)
};

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Labels as binary masks for LiTS scoring: liver = liver + tumour (label >= 1), tumour = label 2.
gb::Tensor binary(const gb::Tensor& labels, int32_t min_label) {
  auto v = labels.to_vector_as<int32_t>();
  for (auto& x : v) x = x >= min_label ? 1 : 0;
  return gb::Tensor::from_vector(v, labels.shape());
}

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
  if (b.cuda_available)
    std::printf("backend: CUDA %s (the demo's ops run on the CPU reference path in this version)\n",
                b.cuda_device.c_str());
  else
    std::printf("backend: CPU, %d threads (no CUDA: %s)\n", cpu::num_threads(), b.why_not.c_str());

  // 1. data
  const std::string data_dir = (fs::path(a.out) / "data").string();
  const std::string pred_dir = (fs::path(a.out) / "pred").string();
  fs::create_directories(pred_dir);
  io::PhantomOptions po;
  po.width = po.height = 128;
  po.depth = a.depth;
  auto t0 = Clock::now();
  io::write_phantom_dataset(data_dir, a.seed, a.cases, po);
  std::printf("data: %lld phantom CT volumes (128x128x%lld, seed %llu) written to %s in the LiTS layout (%.1f s)\n",
              (long long)a.cases, (long long)a.depth, (unsigned long long)a.seed, data_dir.c_str(), since(t0));
  auto ds = io::open_lits(data_dir);
  io::SplitFractions fr{0.75, 0.0, 0.25};
  io::Split split = io::split_dataset(*ds, fr, a.seed);
  std::printf("split by case (seed %llu): %zu train, %zu test:", (unsigned long long)a.seed, split.train.size(),
              split.test.size());
  for (auto& c : split.test) std::printf(" %s", c.c_str());
  std::printf("\n");

  // 2. model and training
  models::ModelConfig cfg = models::named_config("tiny", a.size, 3, 1);
  auto model = models::make_model(cfg, a.seed);
  std::printf("model: TransUNet '%s' at %lldx%lld, %lld parameters (R50-ViT-B_16 layout, narrower)\n",
              cfg.name.c_str(), (long long)a.size, (long long)a.size, (long long)model->num_parameters());
  io::LoaderOptions lo;
  lo.batch_size = a.batch;
  lo.height = lo.width = a.size;
  lo.channels = 1;
  lo.augment = true;
  lo.seed = a.seed;
  lo.items = ds->items_of_cases(split.train);
  lo.drop_last = true;
  lo.min_label = 1;  // train on the slices that show the liver, as LiTS pipelines do
  lo.oversample_label = 2;
  lo.oversample_times = a.oversample;  // tumour slices more often (see io/loader.h)
  io::Loader loader(*ds, lo);
  train::TrainOptions to;
  to.steps = a.steps;
  to.sgd.lr = a.lr;
  std::printf("training: %lld steps, batch %lld of liver slices (tumour slices x%lld), loss 0.5 CE + 0.5 Dice, SGD lr %.3g momentum 0.9 wd 1e-4, poly decay\n",
              (long long)a.steps, (long long)a.batch, (long long)a.oversample, a.lr);
  t0 = Clock::now();
  double run_loss = 0;
  train::fit(*model, loader, to, [&](const train::StepLog& s) {
    run_loss = s.step == 0 ? s.loss : 0.9 * run_loss + 0.1 * s.loss;
    if (s.step % 10 == 0 || s.step + 1 == a.steps)
      std::printf("  step %4lld  loss %.4f (ce %.4f dice %.4f)  avg %.4f  lr %.5f  %.2f s/step\n", (long long)s.step,
                  s.loss, s.ce, s.dice, run_loss, s.lr, s.seconds);
    std::fflush(stdout);
  });
  std::printf("trained in %.1f s\n", since(t0));

  // 3. segmentation of the held-out cases
  train::PredictOptions pr;
  pr.height = pr.width = a.size;
  double best_tumour = -1;
  io::Sample best;
  Tensor best_pred;
  int64_t best_k = 0;
  std::printf("test cases (Dice; both-empty counts as 1):\n");
  for (int64_t item : ds->items_of_cases(split.test)) {
    io::Sample s = ds->load(item);
    Tensor pred = train::predict_volume(*model, s.image, pr);
    auto liver = eval::overlap(binary(pred, 1), binary(s.label.data, 1), 1);
    auto tumour = eval::overlap(binary(pred, 2), binary(s.label.data, 2), 1);
    std::string out = (fs::path(pred_dir) / (s.info.id + "_pred.nii.gz")).string();
    io::WriteOptions wo;
    wo.dtype = io::NiftiDType::U8;
    io::write_nifti_like(out, s.image, pred, wo);
    std::printf("  %-10s liver %.3f  tumour %.3f%s  -> %s\n", s.info.id.c_str(), liver.dice, tumour.dice,
                tumour.both_empty ? " (no tumour in truth or prediction)" : "", out.c_str());
    // The explanation explains what the model marks: the slice with the largest predicted tumour
    // (or, when nothing is predicted anywhere, the largest true tumour).
    const int64_t D = s.label.data.size(0), HW = s.label.data.size(1) * s.label.data.size(2);
    auto lab = s.label.data.to_vector_as<int32_t>(), pv = pred.to_vector_as<int32_t>();
    for (int64_t k = 0; k < D; ++k) {
      int64_t np = 0, nt = 0;
      for (int64_t i = 0; i < HW; ++i) np += pv[k * HW + i] == 2, nt += lab[k * HW + i] == 2;
      const double score = np > 0 ? 1e9 + (double)np : (double)nt;  // any predicted tumour outranks truth only
      if (score > best_tumour) best_tumour = score, best = s, best_pred = pred, best_k = k;
    }
  }

  // 4. Grad-CAM of the tumour logits over the predicted tumour of that slice (else the true tumour)
  if (best_tumour > 0) {
    const bool on_prediction = best_tumour >= 1e9;
    Tensor x = train::model_input_slice(best.image, best_k, pr);  // [1, 1, S, S]
    Tensor src = io::label_slice(on_prediction ? best_pred : best.label.data, best_k);
    Tensor region = binary(io::resize_nearest(src, a.size, a.size).view_reshape({a.size, a.size}), 2);
    model->eval();
    xai::CamResult cam = xai::grad_cam(*model, x, a.cam_layer, 2, region);
    // Panels at the slice's own resolution: CT | CT + truth (filled) and prediction outlines | Grad-CAM.
    const int64_t H = best.image.data.size(1), W = best.image.data.size(2);
    Tensor ct01 = io::to_unit_range(io::volume_slice(best.image.data, best_k), io::Units::HU, pr.window)
                      .view_reshape({H, W}).contiguous();
    Tensor truth = io::label_slice(best.label.data, best_k).view_reshape({H, W}).contiguous();
    Tensor pred_slice = io::label_slice(best_pred, best_k).view_reshape({H, W}).contiguous();
    Tensor cam_full = io::resize_bilinear(cam.normalised.to(DType::F32).view_reshape({1, a.size, a.size}), H, W)
                          .view_reshape({H, W}).contiguous();
    Tensor p1 = io::grey_to_rgb(ct01);
    Tensor p2 = io::grey_to_rgb(ct01);
    io::draw_label_contours(p2, truth);
    Tensor p2b = io::grey_to_rgb(ct01);
    io::draw_label_contours(p2b, pred_slice, {io::Rgb{0, 0, 0}, io::Rgb{80, 160, 255}, io::Rgb{255, 230, 0}});
    // prediction outlines drawn over the truth outlines where they exist
    {
      auto a2 = p2.to_vector_as<uint8_t>(), b2 = p2b.to_vector_as<uint8_t>(), g = p1.to_vector_as<uint8_t>();
      for (size_t i = 0; i < a2.size(); ++i)
        if (b2[i] != g[i]) a2[i] = b2[i];
      std::vector<int32_t> iv(a2.begin(), a2.end());
      p2 = Tensor::from_vector(iv, {3, H, W}).to(DType::U8);
    }
    Tensor p3 = io::overlay_heatmap(ct01, cam_full, io::Colormap::Jet, 0.45f);
    // Outline the region T was summed over: the predicted tumour (yellow) or the true one (red).
    if (on_prediction)
      io::draw_label_contours(p3, binary(pred_slice, 2), {io::Rgb{0, 0, 0}, io::Rgb{255, 230, 0}});
    else
      io::draw_label_contours(p3, binary(truth, 2), {io::Rgb{0, 0, 0}, io::Rgb{255, 40, 40}});
    Tensor rgb = Tensor::empty({3, H, 3 * W}, DType::U8);
    rgb.view_slice(2, 0, W).copy_from(p1);
    rgb.view_slice(2, W, 2 * W).copy_from(p2);
    rgb.view_slice(2, 2 * W, 3 * W).copy_from(p3);
    std::string png = (fs::path(a.out) / "gradcam.png").string();
    io::write_png(png, rgb);
    std::printf("Grad-CAM: layer %s (%lldx%lld map), class tumour, T = sum of tumour logits over the %lld %s tumour pixels "
                "of %s slice %lld = %.3f -> %s\n  panels: CT | truth (green liver, red tumour) and prediction (blue liver, yellow tumour) outlines | Grad-CAM with the explained region outlined\n",
                a.cam_layer.c_str(), (long long)cam.raw.size(0), (long long)cam.raw.size(1),
                (long long)sum(region.to(DType::F64)).item(), on_prediction ? "predicted" : "true (none predicted)",
                best.info.id.c_str(),
                (long long)best_k, cam.target, png.c_str());
  }

  // 5. checkpoint
  std::string ckpt = (fs::path(a.out) / "model.safetensors").string();
  models::save_checkpoint(ckpt, *model);
  std::printf("checkpoint: %s\ndone in %.1f s\n", ckpt.c_str(), since(t_all));
  return 0;
}

gb::app::Register reg("demo", "train and explain a small TransUNet on built-in phantom CT, end to end",
                      [](CLI::App& sub) {
                        auto* a = new DemoArgs;
                        sub.add_option("--out", a->out, "output folder")->capture_default_str();
                        sub.add_option("--cases", a->cases, "phantom volumes to generate")->capture_default_str();
                        sub.add_option("--steps", a->steps, "training steps")->capture_default_str();
                        sub.add_option("--size", a->size, "model input size (divisible by 16)")->capture_default_str();
                        sub.add_option("--batch", a->batch, "batch size")->capture_default_str();
                        sub.add_option("--depth", a->depth, "slices per phantom volume")->capture_default_str();
                        sub.add_option("--seed", a->seed, "seed: names the data, the weights and the run")->capture_default_str();
                        sub.add_option("--lr", a->lr, "base learning rate")->capture_default_str();
                        sub.add_option("--cam-layer", a->cam_layer, "layer Grad-CAM explains")->capture_default_str();
                        sub.add_option("--oversample", a->oversample, "times each tumour slice is seen per epoch")->capture_default_str();
                        return [a] { return run_demo(*a); };
                      });

}  // namespace

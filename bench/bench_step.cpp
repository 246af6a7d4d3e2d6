// Whole steps of the models people train and explain on a CPU (issue 11), f32, 2 threads:
//   forward   eval mode, no graph (NoGradGuard): model(x)
//   train     train mode: forward, loss = 0.5 CE + 0.5 soft Dice (train/loop.h), backward, SGD update
//             (lr 0.01, momentum 0.9, weight decay 1e-4: torch.optim.SGD's update)
//   gradcam   Grad-CAM at the auto layer (xai/layers.h) for class 1 over a box, batch 1
//   ig        Integrated Gradients, 32 Gauss-Legendre steps, zero baseline, the same target, batch 1
//             input, all 32 scaled inputs in ONE forward/backward batch (IgOptions::batch = 32, as
//             Captum's internal_batch_size = 32 on the PyTorch side)
//   forward_f64, train_f64   the same in double precision (model and input converted with to(F64)):
//             gradient checks and audits run in f64; the target is within 4x of f32
// for tiny (128², 3 classes), unet2d-tiny (128², 3 classes) and r50-vit-b16 (224², 9 classes), batch 1,
// 4 and 24 (r50: 24 for forward only). Inputs: uniform [0, 1) noise, labels uniform over the classes,
// weights from the seeded initialiser (speed does not depend on their values).
// The PyTorch side on the same architectures and shapes is scripts/bench_step_torch.py;
// scripts/bench_step.sh runs both, case by case, and bench/RESULTS.md has the ratios.
//
// Counters: images_per_s (batch / seconds per iteration), allocs_per_iter and alloc_MiB_per_iter
// (Storage allocations per iteration), minflt_per_iter (minor page faults: fresh pages the kernel
// had to map and zero), peak_rss_MiB (getrusage high-water mark of the whole process: run one case
// per process for an honest figure, as scripts/bench_step.sh does), params.
// Filter with --benchmark_filter, e.g. 'BM_step/tiny/train/4/' (names end in /min_time:.../real_time).
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <memory>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "models/config.h"
#include "models/model.h"
#include "tensor/cpu/parallel.h"
#include "tensor/philox.h"
#include "train/loop.h"
#include "train/sgd.h"
#include "xai/cam.h"
#include "xai/integrated_gradients.h"
#include "xai/layers.h"
#include "xai/targets.h"

namespace {

using namespace gb;

constexpr int kThreads = 2;

struct Usage {
  double rss_mib = 0;
  int64_t minflt = 0;
};
Usage usage() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return {(double)u.ru_maxrss / 1024.0, (int64_t)u.ru_minflt};  // Linux: KiB
}

struct Case {
  std::shared_ptr<models::SegmentationModel> model;
  Tensor x, labels;
  xai::Target target;
  int64_t params = 0;
};

Case make_case(const std::string& name, int64_t batch, DType dt = DType::F32) {
  gb::cpu::set_num_threads(kThreads);
  Case c;
  const models::ModelConfig cfg = models::named_config(name);
  c.model = models::make_model(cfg, 1234);
  for (auto& [n, p] : c.model->named_parameters()) c.params += p.numel();
  const int64_t H = cfg.size.at(0), W = cfg.size.at(1);
  c.x = Tensor::empty({batch, cfg.in_channels, H, W}, DType::F32);
  Generator g(7);
  g.uniform_(c.x, 0, 1);
  Tensor u = Tensor::empty({batch, H, W}, DType::F64);
  g.uniform_(u, 0, (double)cfg.classes);
  c.labels = Tensor::zeros({batch, H, W}, DType::I32);
  const double* up = u.data<double>();
  int32_t* lp = c.labels.data<int32_t>();
  for (int64_t i = 0; i < u.numel(); ++i) lp[i] = std::min<int32_t>((int32_t)up[i], (int32_t)cfg.classes - 1);
  // Target: class 1 over the central half of the image (rows and columns H/4 .. 3H/4).
  if (dt != DType::F32) {
    c.model->to(dt);
    c.x = c.x.to(dt);
  }
  c.target.cls = 1;
  c.target.mask = Tensor::zeros({H, W}, DType::F64);
  for (int64_t i = H / 4; i < 3 * H / 4; ++i) c.target.mask.view_slice(0, i, i + 1).view_slice(1, W / 4, 3 * W / 4).fill(1);
  return c;
}

// Times `once` per iteration and fills the counters; `batch` images per call.
template <class F>
void timed_loop(benchmark::State& st, const Case& c, int64_t batch, F once) {
  // Two warm-up calls, as scripts/bench_step_torch.py makes on PyTorch's side (at least 2): the pool,
  // the workspaces and the allocator warm up, and the first training step creates SGD's momentum
  // buffers, so only the second one allocates as every later step does.
  once();
  once();
  const AllocStats a0 = storage_alloc_stats();
  const Usage u0 = usage();
  int64_t iters = 0;
  for (auto _ : st) {
    once();
    ++iters;
  }
  const AllocStats a1 = storage_alloc_stats();
  const Usage u1 = usage();
  const double n = (double)std::max<int64_t>(iters, 1);
  st.counters["images_per_s"] = benchmark::Counter((double)(batch * iters), benchmark::Counter::kIsRate);
  st.counters["allocs_per_iter"] = (double)(a1.count - a0.count) / n;
  st.counters["alloc_MiB_per_iter"] = (double)(a1.bytes - a0.bytes) / n / (1024.0 * 1024.0);
  st.counters["minflt_per_iter"] = (double)(u1.minflt - u0.minflt) / n;
  st.counters["peak_rss_MiB"] = u1.rss_mib;
  st.counters["params"] = (double)c.params;
  st.counters["threads"] = gb::cpu::num_threads();
}

void forward_as(benchmark::State& st, const std::string& name, int64_t batch, DType dt) {
  Case c = make_case(name, batch, dt);
  c.model->eval();
  timed_loop(st, c, batch, [&] {
    NoGradGuard ng;
    Tensor y = c.model->forward(c.x);
    benchmark::DoNotOptimize(y.storage().get());
  });
}

void train_as(benchmark::State& st, const std::string& name, int64_t batch, DType dt) {
  Case c = make_case(name, batch, dt);
  c.model->train();
  std::vector<Tensor> params;
  for (auto& [n, p] : c.model->named_parameters()) params.push_back(p);
  train::Sgd sgd(params, train::SgdOptions{});
  timed_loop(st, c, batch, [&] {
    sgd.zero_grad();
    Tensor loss = train::segmentation_loss(c.model->forward(c.x), c.labels);
    loss.backward();
    sgd.step();
    benchmark::DoNotOptimize(loss.item());
  });
}

void bm_forward(benchmark::State& st, std::string name, int64_t batch) { forward_as(st, name, batch, DType::F32); }
void bm_train(benchmark::State& st, std::string name, int64_t batch) { train_as(st, name, batch, DType::F32); }
void bm_forward_f64(benchmark::State& st, std::string name, int64_t batch) { forward_as(st, name, batch, DType::F64); }
void bm_train_f64(benchmark::State& st, std::string name, int64_t batch) { train_as(st, name, batch, DType::F64); }

void bm_gradcam(benchmark::State& st, std::string name, int64_t batch) {
  Case c = make_case(name, batch);
  c.model->eval();
  const std::string layer = xai::auto_layer(*c.model);
  st.SetLabel(layer);
  timed_loop(st, c, batch, [&] {
    auto s = xai::cam(*c.model, c.x, c.target, xai::CamMethod::GradCam, {layer});
    benchmark::DoNotOptimize(s);
  });
}

void bm_ig32(benchmark::State& st, std::string name, int64_t batch) {
  Case c = make_case(name, batch);
  c.model->eval();
  const Tensor base = Tensor::zeros(c.x.shape(), DType::F32);
  xai::IgOptions o;
  o.rule = xai::Rule::GaussLegendre;
  o.steps = 32;
  o.batch = 32;
  o.tolerance = 1e9;  // speed only: no completeness warning on random weights
  int64_t used = 0;
  timed_loop(st, c, batch, [&] {
    xai::IgResult r = xai::integrated_gradients(*c.model, c.x, base, c.target, o);
    used = r.batch;
    benchmark::DoNotOptimize(r);
  });
  st.counters["ig_batch"] = (double)used;
}

struct Spec {
  const char* model;
  const char* mode;
  void (*fn)(benchmark::State&, std::string, int64_t);
  std::vector<int64_t> batches;
  double min_time;
};

}  // namespace

int main(int argc, char** argv) {
  const std::vector<Spec> specs = {
      {"tiny", "forward", bm_forward, {1, 4, 24}, 1.0},
      {"tiny", "train", bm_train, {1, 4, 24}, 1.5},
      {"tiny", "gradcam", bm_gradcam, {1}, 1.0},
      {"tiny", "ig", bm_ig32, {1}, 1.5},
      {"tiny", "forward_f64", bm_forward_f64, {1, 4}, 1.0},
      {"tiny", "train_f64", bm_train_f64, {1, 4}, 1.5},
      {"unet2d-tiny", "forward", bm_forward, {1, 4, 24}, 1.0},
      {"unet2d-tiny", "train", bm_train, {1, 4, 24}, 1.5},
      {"unet2d-tiny", "gradcam", bm_gradcam, {1}, 1.0},
      {"unet2d-tiny", "ig", bm_ig32, {1}, 1.5},
      {"unet2d-tiny", "forward_f64", bm_forward_f64, {1, 4}, 1.0},
      {"unet2d-tiny", "train_f64", bm_train_f64, {1, 4}, 1.5},
      {"r50-vit-b16", "forward", bm_forward, {1, 4, 24}, 2.0},
      {"r50-vit-b16", "train", bm_train, {1, 4}, 3.0},
      {"r50-vit-b16", "gradcam", bm_gradcam, {1}, 2.0},
      {"r50-vit-b16", "ig", bm_ig32, {1}, 3.0},
  };
  for (const Spec& s : specs)
    for (int64_t b : s.batches) {
      const std::string name = std::string("BM_step/") + s.model + "/" + s.mode + "/" + std::to_string(b);
      benchmark::RegisterBenchmark(name.c_str(), s.fn, std::string(s.model), b)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinTime(s.min_time);
    }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Explanations per 224 x 224 slice on 2 CPU threads (issue 10): Grad-CAM (one forward + one backward,
// layer decoder.blocks.1) and Integrated Gradients with 32 and 64 Gauss-Legendre steps (zero baseline,
// glassbox's default batching, xai::gradient_batch: within memory_mb = 2048 MiB and, on the CPU, a
// pass of at most cpu_pass_mb = 512 MiB estimated), for R50-ViT-B_16
// (9 classes) and the small config "tiny" (3 classes) built at 224 x 224, f32, eval mode, seeded
// weights. T = sum of the class-1 logits over the box rows [64, 160) x cols [64, 160).
// The PyTorch side (Captum IntegratedGradients, pytorch-grad-cam GradCAM on the same architecture) is
// scripts/bench_xai_torch.py; bench/RESULTS.md has both.
//
// Peak memory: counter peak_rss_MiB = getrusage(RUSAGE_SELF).ru_maxrss at the end of the benchmark, a
// process-wide high-water mark: run ONE benchmark per process for an honest figure, e.g.
//   for b in GradCam_r50 IG32_r50 IG64_r50 GradCam_tiny IG32_tiny IG64_tiny; do
//     ./bench_xai --benchmark_filter="^BM_$b/"; done
// and BM_IG32_tiny_batch/K (K steps per batch), BM_IG32_r50_batch/K and
// BM_IG32_tiny_small_batch/K/side one per process likewise (K = 0: the default).
// (rss_before_MiB is the high-water mark when the timed loop starts: model and input built, and after
// one untimed warm-up call.) Each timed iteration is one whole explanation of one slice.
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "models/config.h"
#include "models/model.h"
#include "tensor/cpu/parallel.h"
#include "tensor/philox.h"
#include "xai/cam.h"
#include "xai/integrated_gradients.h"
#include "xai/targets.h"

namespace {

using namespace gb;

constexpr int kThreads = 2;
constexpr int64_t kSize = 224;

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_maxrss / 1024.0;  // Linux: KiB
}

struct Case {
  std::shared_ptr<models::SegmentationModel> model;
  Tensor x;
  xai::Target target;
};

// size: the slice side (224 unless a case says otherwise); the target box scales with it.
Case make_case(const std::string& name, int64_t size = kSize) {
  gb::cpu::set_num_threads(kThreads);
  Case c;
  c.model = models::make_model(models::named_config(name, size, 0, 1), 1234);
  c.model->eval();
  c.x = Tensor::empty({1, 1, size, size}, DType::F32);
  Generator g(7);
  g.uniform_(c.x, 0, 1);
  c.target.cls = 1;
  c.target.mask = Tensor::zeros({size, size}, DType::F64);
  const int64_t lo = size * 64 / 224, hi = size * 160 / 224;
  for (int64_t i = lo; i < hi; ++i) c.target.mask.view_slice(0, i, i + 1).view_slice(1, lo, hi).fill(1);
  return c;
}

void run_gradcam(benchmark::State& st, const std::string& name) {
  Case c = make_case(name);
  auto once = [&] { return xai::cam(*c.model, c.x, c.target, xai::CamMethod::GradCam, {"decoder.blocks.1"}); };
  once();  // warm-up
  st.counters["rss_before_MiB"] = peak_rss_mib();
  for (auto _ : st) {
    auto s = once();
    benchmark::DoNotOptimize(s);
  }
  st.counters["peak_rss_MiB"] = peak_rss_mib();
  st.counters["threads"] = gb::cpu::num_threads();
}

// batch == 0: glassbox's default (xai::gradient_batch); batch == 1: one step per forward/backward, the
// batching of Captum's internal_batch_size=1, for a memory figure at equal batching.
void run_ig(benchmark::State& st, const std::string& name, int64_t steps, int64_t batch_opt = 0,
            int64_t size = kSize) {
  Case c = make_case(name, size);
  const Tensor base = Tensor::zeros(c.x.shape(), DType::F32);
  xai::IgOptions o;
  o.rule = xai::Rule::GaussLegendre;
  o.steps = steps;
  o.tolerance = 1e9;  // speed only: no completeness warning on random weights
  o.batch = batch_opt;
  int64_t batch = 0;
  {  // warm-up with one step (pool, allocator), not the whole path: R50 paths take tens of seconds
    xai::IgOptions w = o;
    w.steps = 1;
    xai::integrated_gradients(*c.model, c.x, base, c.target, w);
  }
  st.counters["rss_before_MiB"] = peak_rss_mib();
  for (auto _ : st) {
    xai::IgResult r = xai::integrated_gradients(*c.model, c.x, base, c.target, o);
    batch = r.batch;
    benchmark::DoNotOptimize(r);
  }
  st.counters["peak_rss_MiB"] = peak_rss_mib();
  st.counters["batch"] = (double)batch;
  st.counters["steps"] = (double)steps;
  st.counters["threads"] = gb::cpu::num_threads();
}

void BM_GradCam_r50(benchmark::State& st) { run_gradcam(st, "r50-vit-b16"); }
void BM_GradCam_tiny(benchmark::State& st) { run_gradcam(st, "tiny"); }
void BM_IG32_r50(benchmark::State& st) { run_ig(st, "r50-vit-b16", 32); }
void BM_IG64_r50(benchmark::State& st) { run_ig(st, "r50-vit-b16", 64); }
void BM_IG32_tiny(benchmark::State& st) { run_ig(st, "tiny", 32); }
void BM_IG64_tiny(benchmark::State& st) { run_ig(st, "tiny", 64); }
// The steps per batch set by hand (the argument), e.g. BM_IG32_tiny_batch/1 = Captum's
// internal_batch_size=1.
void BM_IG32_tiny_batch(benchmark::State& st) { run_ig(st, "tiny", 32, st.range(0)); }
void BM_IG64_tiny_batch(benchmark::State& st) { run_ig(st, "tiny", 64, st.range(0)); }
void BM_IG32_r50_batch(benchmark::State& st) { run_ig(st, "r50-vit-b16", 32, st.range(0)); }
// The same on smaller slices (128: the demo's phantoms; 64), where per-op overheads weigh more: does
// batching steps pay on the CPU when each sample is small? Arguments: steps per batch, slice side.
void BM_IG32_tiny_small_batch(benchmark::State& st) { run_ig(st, "tiny", 32, st.range(0), st.range(1)); }

// One explanation per iteration, wall-clock; --benchmark_repetitions=N for more.
#define GB_XAI_BENCH(fn, iters) BENCHMARK(fn)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(iters)
GB_XAI_BENCH(BM_GradCam_r50, 3);
GB_XAI_BENCH(BM_IG32_r50, 1);
GB_XAI_BENCH(BM_IG64_r50, 1);
GB_XAI_BENCH(BM_GradCam_tiny, 10);
GB_XAI_BENCH(BM_IG32_tiny, 2);
GB_XAI_BENCH(BM_IG64_tiny, 2);
GB_XAI_BENCH(BM_IG32_tiny_batch, 2)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(12)->Arg(16);
GB_XAI_BENCH(BM_IG64_tiny_batch, 2)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Arg(12)->Arg(16);
GB_XAI_BENCH(BM_IG32_r50_batch, 1)->Arg(1)->Arg(2)->Arg(4);
GB_XAI_BENCH(BM_IG32_tiny_small_batch, 5)->ArgsProduct({{0, 1, 2, 4, 8, 16, 32}, {64, 128}});

}  // namespace

BENCHMARK_MAIN();

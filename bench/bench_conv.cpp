// conv2d forward throughput (f32, N = 1, 2 threads) on TransUNet's layer shapes: glassbox's
// vol2col + gemm path (cpu::conv_forward with set_conv_algo(Im2col), so these runs keep comparing
// GEMMs; the shape rule would send root, stage1 and block4 to the direct kernels, which algo/ below
// measures) against a baseline measured in the same run, vol2col + OpenBLAS cblas_sgemm (openblas_set_num_threads(2)). Both sides reuse their col
// buffer across calls and share the same threaded vol2col, so the ratio mostly compares the GEMMs
// (ours also tiles col to at most 4M elements: block1 and block4 run as two tiles). Pointwise convs
// skip vol2col on both sides.
//   ./bench_conv               all shapes; ratio table at the end
//   ./bench_conv --benchmark_filter=paired   only the paired runs (backward/: ours, gx + gw)
//   ./bench_conv --benchmark_filter=algo/    only direct vs vol2col + gemm (below)
// algo/<pass>/<shape>: our two algorithms (conv.h ConvAlgo) on the same operands, alternating call by
// call: vol2col + gemm (the path before the direct kernels, set_conv_algo(Im2col)) and the direct
// kernels (set_conv_algo(Direct)), per pass (fwd: forward + bias where the layer has one; gx: input
// gradient only; gw: weight gradient only, + bias gradient where the layer has a bias), on the
// "tiny" TransUNet config's conv shapes at batch 4 and on some R50 shapes at batch 1. Each side keeps
// its best call; the table at the end is the median over 3 repetitions, with the load average.
// Counters: GFLOP/s (2 * O * OH * OW * C/groups * KH * KW per image) and, on glassbox runs,
// vs_openblas = baseline time / our time (> 1: ours faster), from the baseline's latest repetition.
// OpenBLAS 0.3.21 (Debian 12) falls back to SSE3 kernels on unrecognised Xeons under KVM; as in
// bench_gemm, the bench re-executes itself with OPENBLAS_CORETYPE=SkylakeX when that variable is not
// set and the CPU has AVX-512.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <stdlib.h>
#include <unistd.h>

#include "tensor/cpu/conv.h"
#include "tensor/cpu/conv_direct.h"
#include "tensor/cpu/gemm_kernels.h"
#include "bench/bench_common.h"
#include "bench/openblas_core.h"
#include "tensor/cpu/parallel.h"


namespace {

constexpr int kThreads = 2;

struct ConvShape {
  const char* name;
  int64_t C, O, H, W, K, stride, pad;
};
// TransUNet (R50-ViT-B_16, 224x224 input), N = 1, no bias (StdConv / Conv+BN layers).
const ConvShape kShapes[] = {
    {"root_7x7s2_3to64_224", 3, 64, 224, 224, 7, 2, 3},           // ResNet root StdConv2d
    {"stage1_3x3_64to64_56", 64, 64, 56, 56, 3, 1, 1},            // ResNet stage 1 unit conv2
    {"stage1_1x1_256to64_56", 256, 64, 56, 56, 1, 1, 0},          // ResNet stage 1 unit conv1
    {"conv_more_3x3_768to512_14", 768, 512, 14, 14, 3, 1, 1},     // decoder conv_more
    {"block1_3x3_1024to256_28", 1024, 256, 28, 28, 3, 1, 1},      // decoder block 1 conv1 (512 + 512 skip)
    {"block4_3x3_16to16_224", 16, 16, 224, 224, 3, 1, 1},         // decoder block 4 conv2
};

// A square-kernel 2-D conv geometry (D = KD = 1).
gb::cpu::ConvGeom geom2d(int64_t N, int64_t C, int64_t O, int64_t H, int64_t W, int64_t K, int64_t stride,
                         int64_t pad) {
  gb::cpu::ConvGeom g;
  g.N = N;
  g.C = C;
  g.O = O;
  g.in = {1, H, W};
  g.k = {1, K, K};
  g.stride = {1, stride, stride};
  g.pad = {0, pad, pad};
  for (int d = 0; d < 3; ++d) g.out[d] = gb::cpu::conv_out_size(g.in[d], g.k[d], g.stride[d], g.pad[d], g.dil[d]);
  return g;
}

gb::cpu::ConvGeom geom(const ConvShape& s) { return geom2d(1, s.C, s.O, s.H, s.W, s.K, s.stride, s.pad); }

std::vector<float> random_vec(size_t n, uint64_t seed) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& x : v) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x = (float)((double)(s >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
  }
  return v;
}

std::map<std::string, double> g_baseline_seconds;  // shape -> seconds per call, latest repetition

#ifdef GB_HAVE_OPENBLAS
// The baseline: col [C*KH*KW, OH*OW] by the same vol2col, then y [O, OH*OW] = w [O, CK] @ col.
void baseline_forward(const gb::cpu::ConvGeom& g, const float* x, const float* w, float* y) {
  const int64_t CK = g.C * g.k_size(), OS = g.out_size();
  const bool pw = g.k_size() == 1 && g.stride[1] == 1 && g.stride[2] == 1 && g.pad[1] == 0 && g.pad[2] == 0;
  static std::vector<float> col;  // reused, like glassbox's workspace
  if (!pw) {
    if (col.size() < (size_t)(CK * OS)) col.resize((size_t)(CK * OS));
    gb::cpu::vol2col<float>(g, x, 0, g.out[0] * g.out[1], col.data());
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g.O, (int)OS, (int)CK, 1.f, w, (int)CK,
              pw ? x : col.data(), (int)OS, 0.f, y, (int)OS);
}
#endif

void run(benchmark::State& st, const ConvShape& sh, bool openblas) {
  gb::cpu::ConvAlgoGuard algo(gb::cpu::ConvAlgo::Im2col);
  const gb::cpu::ConvGeom g = geom(sh);
  auto x = random_vec((size_t)(g.C * g.in_size()), 1);
  auto w = random_vec((size_t)(g.O * g.C * g.k_size()), 2);
  std::vector<float> y((size_t)(g.O * g.out_size()));
  gb::cpu::set_num_threads(kThreads);
#ifdef GB_HAVE_OPENBLAS
  openblas_set_num_threads(kThreads);
#endif
  auto t0 = std::chrono::steady_clock::now();
  for (auto _ : st) {
    if (openblas) {
#ifdef GB_HAVE_OPENBLAS
      baseline_forward(g, x.data(), w.data(), y.data());
#endif
    } else {
      gb::cpu::conv_forward<float>(g, x.data(), w.data(), nullptr, y.data());
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double per_call =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / (double)st.iterations();
  st.counters["GFLOP/s"] = benchmark::Counter(g.flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (openblas) {
    g_baseline_seconds[sh.name] = per_call;
  } else {
    auto it = g_baseline_seconds.find(sh.name);
    if (it != g_baseline_seconds.end()) st.counters["vs_openblas"] = it->second / per_call;
  }
}

// Backward (ours only, no baseline): gx and gw for one image, i.e. vol2col + gemm for gw and
// gemm + col2vol for gx. FLOPs = 2x the forward's.
void run_backward(benchmark::State& st, const ConvShape& sh) {
  gb::cpu::ConvAlgoGuard algo(gb::cpu::ConvAlgo::Im2col);
  const gb::cpu::ConvGeom g = geom(sh);
  auto x = random_vec((size_t)(g.C * g.in_size()), 1);
  auto w = random_vec((size_t)(g.O * g.C * g.k_size()), 2);
  auto gy = random_vec((size_t)(g.O * g.out_size()), 3);
  std::vector<float> gx(x.size()), gw(w.size());
  gb::cpu::set_num_threads(kThreads);
  for (auto _ : st) {
    gb::cpu::conv_backward<float>(g, x.data(), w.data(), gy.data(), gx.data(), gw.data(), nullptr);
    benchmark::DoNotOptimize(gx.data());
    benchmark::DoNotOptimize(gw.data());
    benchmark::ClobberMemory();
  }
  st.counters["GFLOP/s"] = benchmark::Counter(2 * g.flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

#ifdef GB_HAVE_OPENBLAS
// Paired: one call of ours, one of the baseline, alternating in the same loop; each side keeps its
// best call, so both see the same machine load (the fairer figure on a shared machine).
void run_paired(benchmark::State& st, const ConvShape& sh) {
  gb::cpu::ConvAlgoGuard algo(gb::cpu::ConvAlgo::Im2col);
  const gb::cpu::ConvGeom g = geom(sh);
  auto x = random_vec((size_t)(g.C * g.in_size()), 1);
  auto w = random_vec((size_t)(g.O * g.C * g.k_size()), 2);
  std::vector<float> y((size_t)(g.O * g.out_size()));
  gb::cpu::set_num_threads(kThreads);
  openblas_set_num_threads(kThreads);
  double best_ours = 1e30, best_blas = 1e30;
  using clock = std::chrono::steady_clock;
  for (auto _ : st) {
    auto t0 = clock::now();
    gb::cpu::conv_forward<float>(g, x.data(), w.data(), nullptr, y.data());
    benchmark::DoNotOptimize(y.data());
    auto t1 = clock::now();
    baseline_forward(g, x.data(), w.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    auto t2 = clock::now();
    best_ours = std::min(best_ours, std::chrono::duration<double>(t1 - t0).count());
    best_blas = std::min(best_blas, std::chrono::duration<double>(t2 - t1).count());
  }
  st.counters["ours_best_GF/s"] = g.flops() * 1e-9 / best_ours;
  st.counters["blas_best_GF/s"] = g.flops() * 1e-9 / best_blas;
  st.counters["vs_openblas"] = best_blas / best_ours;
}
#endif

// ---------------------------------------------------------------- direct vs vol2col + gemm
struct AlgoShape {
  const char* name;
  int64_t N, C, O, H, W, K, stride, pad;
  bool bias;
};
// "tiny" (models/configs.cpp: R50-style, 128x128, width 16) at batch 4, as `glassbox audit --model
// tiny --batch 4 --trace` lists them; then R50-ViT-B_16 shapes at batch 1 (large channel counts).
const AlgoShape kAlgoShapes[] = {
    {"tiny_dec3_conv1_16to8_128", 4, 16, 8, 128, 128, 3, 1, 1, false},
    {"tiny_dec3_conv2_8to8_128", 4, 8, 8, 128, 128, 3, 1, 1, false},
    {"tiny_head_8to3_128_bias", 4, 8, 3, 128, 128, 3, 1, 1, true},
    {"tiny_dec2_conv1_48to16_64", 4, 48, 16, 64, 64, 3, 1, 1, false},
    {"tiny_dec2_conv2_16to16_64", 4, 16, 16, 64, 64, 3, 1, 1, false},
    {"tiny_dec1_conv1_128to32_32", 4, 128, 32, 32, 32, 3, 1, 1, false},
    {"tiny_dec1_conv2_32to32_32", 4, 32, 32, 32, 32, 3, 1, 1, false},
    {"tiny_dec0_conv1_192to64_16", 4, 192, 64, 16, 16, 3, 1, 1, false},
    {"tiny_dec0_conv2_64to64_16", 4, 64, 64, 16, 16, 3, 1, 1, false},
    {"tiny_conv_more_96to64_8", 4, 96, 64, 8, 8, 3, 1, 1, false},
    {"tiny_root_7x7s2_3to16_128", 4, 3, 16, 128, 128, 7, 2, 3, false},
    {"tiny_b1_conv2_16to16_31", 4, 16, 16, 31, 31, 3, 1, 1, false},
    {"tiny_b2_conv2_32to32_31s2", 4, 32, 32, 31, 31, 3, 2, 1, false},
    {"tiny_b3_conv2_64to64_8", 4, 64, 64, 8, 8, 3, 1, 1, false},
    {"tiny_b1_1x1_16to16_31", 4, 16, 16, 31, 31, 1, 1, 0, false},
    {"tiny_b1_1x1_16to64_31", 4, 16, 64, 31, 31, 1, 1, 0, false},
    {"tiny_b2_1x1_64to32_31", 4, 64, 32, 31, 31, 1, 1, 0, false},
    {"r50_root_7x7s2_3to64_224", 1, 3, 64, 224, 224, 7, 2, 3, false},
    {"r50_stage1_64to64_56", 1, 64, 64, 56, 56, 3, 1, 1, false},
    {"r50_dec4_conv2_16to16_224", 1, 16, 16, 224, 224, 3, 1, 1, false},
    {"r50_stage3_256to256_14", 1, 256, 256, 14, 14, 3, 1, 1, false},
    {"r50_dec3_conv1_192to64_112", 1, 192, 64, 112, 112, 3, 1, 1, false},
    {"r50_dec2_conv1_512to128_56", 1, 512, 128, 56, 56, 3, 1, 1, false},
    {"r50_dec1_conv1_1024to256_28", 1, 1024, 256, 28, 28, 3, 1, 1, false},
    {"r50_conv_more_768to512_14", 1, 768, 512, 14, 14, 3, 1, 1, false},
};
const char* const kPassName[] = {"fwd", "gx", "gw"};

gb::cpu::ConvGeom algo_geom(const AlgoShape& s) { return geom2d(s.N, s.C, s.O, s.H, s.W, s.K, s.stride, s.pad); }

// One pass (0 fwd, 1 gx, 2 gw) of one shape with algorithm a.
struct AlgoBuffers {
  std::vector<float> x, w, b, y, gy, gx, gw, gb;
};
void algo_call(const gb::cpu::ConvGeom& g, int pass, bool bias, AlgoBuffers& m, gb::cpu::ConvAlgo a) {
  gb::cpu::set_conv_algo(a);
  if (pass == 0)
    gb::cpu::conv_forward<float>(g, m.x.data(), m.w.data(), bias ? m.b.data() : nullptr, m.y.data());
  else if (pass == 1)
    gb::cpu::conv_backward<float>(g, nullptr, m.w.data(), m.gy.data(), m.gx.data(), nullptr, nullptr);
  else
    gb::cpu::conv_backward<float>(g, m.x.data(), nullptr, m.gy.data(), nullptr, m.gw.data(), bias ? m.gb.data() : nullptr);
  gb::cpu::set_conv_algo(gb::cpu::ConvAlgo::Auto);
}

void run_algo(benchmark::State& st, const AlgoShape& sh, int pass) {
  const gb::cpu::ConvGeom g = algo_geom(sh);
  AlgoBuffers m;
  m.x = random_vec((size_t)(g.N * g.C * g.in_size()), 1);
  m.w = random_vec((size_t)(g.O * g.C * g.k_size()), 2);
  m.b = random_vec((size_t)g.O, 4);
  m.gy = random_vec((size_t)(g.N * g.O * g.out_size()), 3);
  m.y.resize(m.gy.size());
  m.gx.assign(m.x.size(), 0.f);
  m.gw.assign(m.w.size(), 0.f);
  m.gb.assign(m.b.size(), 0.f);
  gb::cpu::set_num_threads(kThreads);
  double best_i2c = 1e30, best_dir = 1e30;
  using clock = std::chrono::steady_clock;
  for (auto _ : st) {
    auto t0 = clock::now();
    algo_call(g, pass, sh.bias, m, gb::cpu::ConvAlgo::Im2col);
    benchmark::ClobberMemory();
    auto t1 = clock::now();
    algo_call(g, pass, sh.bias, m, gb::cpu::ConvAlgo::Direct);
    benchmark::ClobberMemory();
    auto t2 = clock::now();
    best_i2c = std::min(best_i2c, std::chrono::duration<double>(t1 - t0).count());
    best_dir = std::min(best_dir, std::chrono::duration<double>(t2 - t1).count());
  }
  st.counters["i2c_GF/s"] = g.flops() * 1e-9 / best_i2c;
  st.counters["direct_GF/s"] = g.flops() * 1e-9 / best_dir;
  st.counters["i2c_ms"] = best_i2c * 1e3;
  st.counters["direct_ms"] = best_dir * 1e3;
  st.counters["speedup"] = best_i2c / best_dir;
  st.counters["auto_direct"] = gb::cpu::conv_use_direct(g, pass == 0   ? gb::cpu::ConvPass::Forward
                                                          : pass == 1 ? gb::cpu::ConvPass::GradInput
                                                                      : gb::cpu::ConvPass::GradWeight);
}

bool algo_supported(const AlgoShape& sh, int pass) {
  return gb::cpu::conv_direct_supported(algo_geom(sh), pass == 0   ? gb::cpu::ConvPass::Forward
                                                       : pass == 1 ? gb::cpu::ConvPass::GradInput
                                                                   : gb::cpu::ConvPass::GradWeight);
}

// Collects median GFLOP/s per benchmark to print the side-by-side table after the console output.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        for (const auto& kv : r.counters) counters[r.run_name.function_name + ":" + kv.first] = kv.second.value;
      }
  }
  std::map<std::string, double> counters;  // "benchmark:counter" -> median
  double get(const std::string& bench, const char* counter) const {
    auto it = counters.find(bench + ":" + counter);
    return it == counters.end() ? -1 : it->second;
  }
};

}  // namespace

int main(int argc, char** argv) {
  gb::bench::force_openblas_core(argv);
  // As bench_gemm: GLASSBOX_GEMM_PATH=avx2 runs our GEMM and the direct conv kernels on AVX2 (the
  // SGEMM path switch picks both).
  if (const char* p = std::getenv("GLASSBOX_GEMM_PATH")) {
    if (!std::strcmp(p, "avx2")) gb::cpu::set_gemm_path(gb::cpu::GemmPath::AVX2);
    if (!std::strcmp(p, "avx512")) gb::cpu::set_gemm_path(gb::cpu::GemmPath::AVX512);
  }
  for (const auto& sh : kShapes) {
    // Baseline first so the glassbox run of the same shape can report the ratio.
    for (int ob = 1; ob >= 0; --ob) {
#ifndef GB_HAVE_OPENBLAS
      if (ob) continue;
#endif
      std::string name = std::string(ob ? "openblas/" : "glassbox/") + sh.name;
      gb::bench::timed(
          benchmark::RegisterBenchmark(name.c_str(), [sh, ob](benchmark::State& st) { run(st, sh, ob != 0); }), 0.3, 0.7);
    }
  }
  for (const auto& sh : kShapes)
    gb::bench::timed(benchmark::RegisterBenchmark((std::string("backward/") + sh.name).c_str(),
                                 [sh](benchmark::State& st) { run_backward(st, sh); }), 0.3, 0.7);
#ifdef GB_HAVE_OPENBLAS
  for (const auto& sh : kShapes)
    gb::bench::timed(benchmark::RegisterBenchmark((std::string("paired/") + sh.name).c_str(),
                                 [sh](benchmark::State& st) { run_paired(st, sh); }), 0.3, 1.5);
#endif
  for (int pass = 0; pass < 3; ++pass)
    for (const auto& sh : kAlgoShapes)
      if (algo_supported(sh, pass))
        gb::bench::timed(benchmark::RegisterBenchmark((std::string("algo/") + kPassName[pass] + "/" + sh.name).c_str(),
                                                      [sh, pass](benchmark::State& st) { run_algo(st, sh, pass); }),
                         0.2, 0.4);
  benchmark::Initialize(&argc, argv);
  RatioReporter rep;
  double load0[3] = {0, 0, 0}, load1[3] = {0, 0, 0};
  getloadavg(load0, 3);
  benchmark::RunSpecifiedBenchmarks(&rep);
  getloadavg(load1, 3);
  std::printf("\nconv2d forward f32, N=1, %d threads, no bias (median of 3)\n", kThreads);
#ifdef GB_HAVE_OPENBLAS
  std::printf("baseline: vol2col + cblas_sgemm, OpenBLAS %s, core %s\n", openblas_get_config(), openblas_get_corename());
#endif
  std::printf("%-28s %8s | %9s %9s %6s | %9s %9s %6s\n", "shape", "GFLOP", "ours", "OpenBLAS", "ratio",
              "ours", "OpenBLAS", "ratio");
  std::printf("%-28s %8s | %26s | %26s\n", "", "", "GFLOP/s, median of 3", "paired best, median of 3");
  for (const auto& sh : kShapes) {
    const std::string n = sh.name;
    const double o = rep.get("glassbox/" + n, "GFLOP/s"), b = rep.get("openblas/" + n, "GFLOP/s");
    const double po = rep.get("paired/" + n, "ours_best_GF/s"), pb = rep.get("paired/" + n, "blas_best_GF/s");
    if (o < 0) continue;
    std::printf("%-28s %8.3f | %9.1f %9.1f %6.2f | %9.1f %9.1f %6.2f\n", sh.name, geom(sh).flops() * 1e-9, o, b,
                b > 0 ? o / b : 0.0, po, pb, pb > 0 ? po / pb : 0.0);
  }
  std::printf("\nconv2d backward (gx + gw) f32, N=1, %d threads, ours only (median of 3)\n", kThreads);
  for (const auto& sh : kShapes) {
    const double bw = rep.get(std::string("backward/") + sh.name, "GFLOP/s");
    if (bw >= 0) std::printf("%-28s %8.3f GFLOP %9.1f GFLOP/s\n", sh.name, 2 * geom(sh).flops() * 1e-9, bw);
  }
  bool any_algo = false;
  for (const auto& sh : kAlgoShapes)
    for (int pass = 0; pass < 3; ++pass)
      any_algo |= rep.get(std::string("algo/") + kPassName[pass] + "/" + sh.name, "speedup") > 0;
  if (any_algo) {
    std::printf("\ndirect vs vol2col + gemm, f32, %d threads, %s kernels, paired best call, median of 3; load "
                "average %.2f (1 min) before, %.2f after\n",
                kThreads, gb::cpu::gemm_path_name(gb::cpu::gemm_path_resolved()), load0[0], load1[0]);
    std::printf("%-28s %5s %8s | %9s %9s | %8s %8s | %7s %5s\n", "shape", "pass", "GFLOP", "i2c GF/s",
                "dir GF/s", "i2c ms", "dir ms", "speedup", "auto");
    for (const auto& sh : kAlgoShapes)
      for (int pass = 0; pass < 3; ++pass) {
        const std::string b = std::string("algo/") + kPassName[pass] + "/" + sh.name;
        const double sp = rep.get(b, "speedup");
        if (sp < 0) continue;
        std::printf("%-28s %5s %8.4f | %9.1f %9.1f | %8.3f %8.3f | %7.2f %5s\n", sh.name, kPassName[pass],
                    algo_geom(sh).flops() * 1e-9, rep.get(b, "i2c_GF/s"), rep.get(b, "direct_GF/s"),
                    rep.get(b, "i2c_ms"), rep.get(b, "direct_ms"), sp, rep.get(b, "auto_direct") > 0.5 ? "dir" : "i2c");
      }
  }
  benchmark::Shutdown();
  return 0;
}

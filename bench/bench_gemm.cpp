// SGEMM throughput: glassbox's gemm<float> vs OpenBLAS cblas_sgemm, same shapes, same thread count,
// same process. C[M,N] = A[M,K] B[K,N], row-major, alpha 1, beta 0.
//   ./bench_gemm                       all shapes, 2 threads, table of ratios at the end
//   GLASSBOX_GEMM_PATH=avx2 ./bench_gemm   force the AVX2 kernel (default: best the CPU has)
// OpenBLAS 0.3.21 (Debian 12) does not recognise recent Xeons under KVM and falls back to its
// "Prescott" (SSE3) kernels, which would make a meaningless baseline. When OPENBLAS_CORETYPE is not
// set and the CPU has AVX-512, the bench re-executes itself with OPENBLAS_CORETYPE=SkylakeX (OpenBLAS
// reads it at load time); set OPENBLAS_CORETYPE yourself to choose otherwise. The core OpenBLAS
// uses is printed with the results.
// Each benchmark warms up for 0.5 s, then runs >= 1 s per repetition, 3 repetitions; the summary
// uses the median real time, and the paired runs (ours and OpenBLAS alternating call by call) the
// best single call of each.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "tensor/cpu/gemm.h"
#include "tensor/cpu/gemm_kernels.h"
#include "bench/bench_common.h"
#include "bench/bench_common.h"
#include "bench/openblas_core.h"
#include "tensor/cpu/parallel.h"


namespace {

constexpr int kThreads = 2;

struct Shape3 {
  const char* name;
  int64_t M, N, K;
};
const Shape3 kShapes[] = {
    {"512^3", 512, 512, 512},
    {"1024^3", 1024, 1024, 1024},
    {"2048^3", 2048, 2048, 2048},
    {"vit_qkv_196x768x768", 196, 768, 768},
    {"vit_mlp1_196x3072x768", 196, 3072, 768},
    {"vit_mlp2_196x768x3072", 196, 768, 3072},
};

std::vector<float> random_vec(size_t n, uint64_t seed) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& x : v) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x = (float)((double)(s >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
  }
  return v;
}

void run(benchmark::State& st, const Shape3& sh, bool openblas) {
  const int64_t M = sh.M, N = sh.N, K = sh.K;
  auto A = random_vec((size_t)(M * K), 1), B = random_vec((size_t)(K * N), 2);
  std::vector<float> C((size_t)(M * N));
  gb::cpu::set_num_threads(kThreads);
#ifdef GB_HAVE_OPENBLAS
  openblas_set_num_threads(kThreads);
#endif
  for (auto _ : st) {
    if (openblas) {
#ifdef GB_HAVE_OPENBLAS
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.f, A.data(), (int)K,
                  B.data(), (int)N, 0.f, C.data(), (int)N);
#endif
    } else {
      gb::cpu::gemm<float>(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
    }
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * (double)M * (double)N * (double)K * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

// Paired: each iteration runs ours then OpenBLAS on the same operands and times each call, so both
// see the same machine load; reports the best (minimum) time of each over all iterations, which is
// the most load-robust figure on a shared machine.
void run_paired(benchmark::State& st, const Shape3& sh) {
#ifdef GB_HAVE_OPENBLAS
  const int64_t M = sh.M, N = sh.N, K = sh.K;
  auto A = random_vec((size_t)(M * K), 1), B = random_vec((size_t)(K * N), 2);
  std::vector<float> C((size_t)(M * N));
  gb::cpu::set_num_threads(kThreads);
  openblas_set_num_threads(kThreads);
  double best_ours = 1e30, best_blas = 1e30;
  using clk = std::chrono::steady_clock;
  for (auto _ : st) {
    auto t0 = clk::now();
    gb::cpu::gemm<float>(false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
    benchmark::DoNotOptimize(C.data());
    auto t1 = clk::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.f, A.data(), (int)K, B.data(),
                (int)N, 0.f, C.data(), (int)N);
    benchmark::DoNotOptimize(C.data());
    auto t2 = clk::now();
    best_ours = std::min(best_ours, std::chrono::duration<double>(t1 - t0).count());
    best_blas = std::min(best_blas, std::chrono::duration<double>(t2 - t1).count());
  }
  const double gf = 2.0 * (double)M * (double)N * (double)K * 1e-9;
  st.counters["ours_best_GFLOPs"] = gf / best_ours;
  st.counters["openblas_best_GFLOPs"] = gf / best_blas;
  st.counters["ratio_best"] = best_blas / best_ours;
#else
  (void)sh;
  st.SkipWithError("built without OpenBLAS");
  for (auto _ : st) {
  }
#endif
}

// Collects median real times to print ours / OpenBLAS per shape after the normal console output.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "max") {
        for (const char* k : {"ours_best_GFLOPs", "openblas_best_GFLOPs"}) {
          auto it = r.counters.find(k);
          if (it != r.counters.end()) best[r.run_name.function_name + k] = it->second.value;
        }
      }
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        auto it = r.counters.find("GFLOP/s");
        if (it != r.counters.end()) gflops[r.run_name.function_name] = it->second.value;
      }
    }
  }
  std::map<std::string, double> gflops, best;
};

}  // namespace

int main(int argc, char** argv) {
  gb::bench::force_openblas_core(argv);
  if (const char* p = std::getenv("GLASSBOX_GEMM_PATH")) {
    if (!std::strcmp(p, "avx2")) gb::cpu::set_sgemm_path(gb::cpu::SgemmPath::AVX2);
    if (!std::strcmp(p, "avx512")) gb::cpu::set_sgemm_path(gb::cpu::SgemmPath::AVX512);
  }
  for (const auto& sh : kShapes) {
    for (int ob = 0; ob < 2; ++ob) {
#ifndef GB_HAVE_OPENBLAS
      if (ob) continue;
#endif
      std::string name = std::string(ob ? "openblas/" : "glassbox/") + sh.name;
      gb::bench::timed(
          benchmark::RegisterBenchmark(name.c_str(), [sh, ob](benchmark::State& st) { run(st, sh, ob != 0); }), 0.5, 1.0);
    }
  }
#ifdef GB_HAVE_OPENBLAS
  for (const auto& sh : kShapes) {
    gb::bench::timed(benchmark::RegisterBenchmark((std::string("paired/") + sh.name).c_str(),
                                 [sh](benchmark::State& st) { run_paired(st, sh); }), 0.5, 1.0)
        ->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
  }
#endif
  benchmark::Initialize(&argc, argv);
  RatioReporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  std::printf("\nSGEMM f32, %d threads, path %s (median of 3)\n", kThreads,
              gb::cpu::sgemm_path_name(gb::cpu::sgemm_path_resolved()));
#ifdef GB_HAVE_OPENBLAS
  std::printf("OpenBLAS: %s, core %s\n", openblas_get_config(), openblas_get_corename());
#endif
  std::printf("%-24s | %9s %9s %6s | %9s %9s %6s\n", "shape (MxNxK)", "ours", "OpenBLAS", "ratio", "ours",
              "OpenBLAS", "ratio");
  std::printf("%-24s | %-26s | %-26s\n", "", "median GFLOP/s", "paired best-of GFLOP/s");
  auto get = [](const std::map<std::string, double>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;
  };
  for (const auto& sh : kShapes) {
    const double o = get(rep.gflops, std::string("glassbox/") + sh.name);
    const double b = get(rep.gflops, std::string("openblas/") + sh.name);
    const double po = get(rep.best, std::string("paired/") + sh.name + "ours_best_GFLOPs");
    const double pb = get(rep.best, std::string("paired/") + sh.name + "openblas_best_GFLOPs");
    if (o == 0 && po == 0) continue;
    std::printf("%-24s | %9.1f %9.1f %6.2f | %9.1f %9.1f %6.2f\n", sh.name, o, b, b > 0 ? o / b : 0.0, po, pb,
                pb > 0 ? po / pb : 0.0);
  }
  benchmark::Shutdown();
  return 0;
}

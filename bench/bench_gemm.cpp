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
// uses the median real time.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "tensor/cpu/gemm.h"
#include "tensor/cpu/gemm_kernels.h"
#include "tensor/cpu/parallel.h"

#ifdef GB_HAVE_OPENBLAS
#include <cblas.h>
extern "C" char* openblas_get_corename(void);
#endif

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

// Collects median real times to print ours / OpenBLAS per shape after the normal console output.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        auto it = r.counters.find("GFLOP/s");
        if (it != r.counters.end()) gflops[r.run_name.function_name] = it->second.value;
      }
  }
  std::map<std::string, double> gflops;
};

}  // namespace

int main(int argc, char** argv) {
#ifdef GB_HAVE_OPENBLAS
  if (!std::getenv("OPENBLAS_CORETYPE") && gb::cpu::cpu_has_avx512()) {
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    execv("/proc/self/exe", argv);  // only returns on failure: then run with the detected core
  }
#endif
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
      benchmark::RegisterBenchmark(name.c_str(), [sh, ob](benchmark::State& st) { run(st, sh, ob != 0); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MinWarmUpTime(0.5)
          ->MinTime(1.0)
          ->Repetitions(3)
          ->ReportAggregatesOnly(true);
    }
  }
  benchmark::Initialize(&argc, argv);
  RatioReporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  std::printf("\nSGEMM f32, %d threads, path %s (median of 3)\n", kThreads,
              gb::cpu::sgemm_path_name(gb::cpu::sgemm_path_resolved()));
#ifdef GB_HAVE_OPENBLAS
  std::printf("OpenBLAS: %s, core %s\n", openblas_get_config(), openblas_get_corename());
#endif
  std::printf("%-26s %12s %12s %8s\n", "shape (MxNxK)", "ours GF/s", "OpenBLAS", "ratio");
  for (const auto& sh : kShapes) {
    auto o = rep.gflops.find(std::string("glassbox/") + sh.name);
    auto b = rep.gflops.find(std::string("openblas/") + sh.name);
    if (o == rep.gflops.end()) continue;
    if (b == rep.gflops.end()) {
      std::printf("%-26s %12.1f %12s %8s\n", sh.name, o->second, "-", "-");
    } else {
      std::printf("%-26s %12.1f %12.1f %8.2f\n", sh.name, o->second, b->second, o->second / b->second);
    }
  }
  benchmark::Shutdown();
  return 0;
}

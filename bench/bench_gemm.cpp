// GEMM throughput: glassbox's gemm<float> vs OpenBLAS cblas_sgemm, and gemm<double> vs gemm_ref<double>
// (the triple loop f64 used to take) and cblas_dgemm, same shapes, same thread count, same process.
// SGEMM: C[M,N] = A[M,K] B[K,N], row-major, alpha 1, beta 0. DGEMM: the same, plus the transposed
// operands of the conv backward passes (dW = dY col^T, dcol = W^T dY); each f64 shape is also run in
// f32 to give the f64 / f32 time ratio (issue 11: a whole-model f64 step within 4x of f32), alone
// (median) and paired with the f64 call (best-of, the figure to trust on a loaded machine).
//   ./bench_gemm                       all shapes, 2 threads, tables of ratios at the end
//   ./bench_gemm --benchmark_filter=f64   the DGEMM part only (f32 for the SGEMM part)
//   GLASSBOX_GEMM_PATH=avx2 ./bench_gemm   force the AVX2 kernels (default: best the CPU has)
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
#include <type_traits>
#include <vector>

#include <unistd.h>

#include "tensor/cpu/gemm.h"
#include "tensor/cpu/gemm_kernels.h"
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

// DGEMM shapes: squares, and vol2col GEMMs of a 3x3 conv (64 -> 64 channels on 56 x 56: forward
// [O, OS] = W [O, CK] col [CK, OS], and the two backward products), a 16-channel 3x3 conv on
// 128 x 128 and a 3x3x3 one (32 channels, 16^3 output), plus a ViT projection.
struct DShape {
  const char* name;
  int64_t M, N, K;
  bool ta, tb;
};
const DShape kDShapes[] = {
    {"256^3", 256, 256, 256, false, false},
    {"512^3", 512, 512, 512, false, false},
    {"1024^3", 1024, 1024, 1024, false, false},
    {"conv2d_fwd_64x3136x576", 64, 3136, 576, false, false},
    {"conv2d_dW_64x576x3136_tB", 64, 576, 3136, false, true},
    {"conv2d_dcol_576x3136x64_tA", 576, 3136, 64, true, false},
    {"conv2d_fwd_16x16384x144", 16, 16384, 144, false, false},
    {"conv3d_fwd_32x4096x864", 32, 4096, 864, false, false},
    {"vit_qkv_196x768x768", 196, 768, 768, false, false},
};

template <class T = float>
std::vector<T> random_vec(size_t n, uint64_t seed) {
  std::vector<T> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& x : v) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x = (T)((double)(s >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
  }
  return v;
}

enum class Impl { Ours, Ref, OpenBLAS };

// One DGEMM-table cell: gemm<T> (ours), gemm_ref<T> or cblas_?gemm on the shape's stored operands
// (A [M,K] or [K,M], B [K,N] or [N,K], unpadded).
template <class T>
void run_d(benchmark::State& st, const DShape& sh, Impl impl) {
  const int64_t M = sh.M, N = sh.N, K = sh.K;
  const int64_t lda = sh.ta ? M : K, ldb = sh.tb ? K : N;
  auto A = random_vec<T>((size_t)(M * K), 1), B = random_vec<T>((size_t)(K * N), 2);
  std::vector<T> C((size_t)(M * N));
  gb::cpu::set_num_threads(kThreads);
#ifdef GB_HAVE_OPENBLAS
  openblas_set_num_threads(kThreads);
#endif
  for (auto _ : st) {
    if (impl == Impl::OpenBLAS) {
#ifdef GB_HAVE_OPENBLAS
      const auto ta = sh.ta ? CblasTrans : CblasNoTrans, tb = sh.tb ? CblasTrans : CblasNoTrans;
      if constexpr (std::is_same_v<T, double>)
        cblas_dgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0, A.data(), (int)lda, B.data(), (int)ldb,
                    0.0, C.data(), (int)N);
      else
        cblas_sgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.f, A.data(), (int)lda, B.data(), (int)ldb,
                    0.f, C.data(), (int)N);
#endif
    } else if (impl == Impl::Ref) {
      gb::cpu::gemm_ref<T>(sh.ta, sh.tb, M, N, K, T(1), A.data(), lda, B.data(), ldb, T(0), C.data(), N);
    } else {
      gb::cpu::gemm<T>(sh.ta, sh.tb, M, N, K, T(1), A.data(), lda, B.data(), ldb, T(0), C.data(), N);
    }
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * (double)M * (double)N * (double)K * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

// Paired DGEMM: each iteration runs our f64, our f32 and (where present) OpenBLAS's f64 GEMM on the
// same shape and times each call; the best of each is the load-robust figure, and its f64 / f32
// ratio the one to trust on a shared machine.
void run_d_paired(benchmark::State& st, const DShape& sh) {
  const int64_t M = sh.M, N = sh.N, K = sh.K;
  const int64_t lda = sh.ta ? M : K, ldb = sh.tb ? K : N;
  auto A = random_vec<double>((size_t)(M * K), 1), B = random_vec<double>((size_t)(K * N), 2);
  auto Af = random_vec<float>((size_t)(M * K), 1), Bf = random_vec<float>((size_t)(K * N), 2);
  std::vector<double> C((size_t)(M * N));
  std::vector<float> Cf((size_t)(M * N));
  gb::cpu::set_num_threads(kThreads);
#ifdef GB_HAVE_OPENBLAS
  openblas_set_num_threads(kThreads);
#endif
  double best64 = 1e30, best32 = 1e30, best_blas = 1e30;
  using clk = std::chrono::steady_clock;
  for (auto _ : st) {
    auto t0 = clk::now();
    gb::cpu::gemm<double>(sh.ta, sh.tb, M, N, K, 1.0, A.data(), lda, B.data(), ldb, 0.0, C.data(), N);
    benchmark::DoNotOptimize(C.data());
    auto t1 = clk::now();
    gb::cpu::gemm<float>(sh.ta, sh.tb, M, N, K, 1.f, Af.data(), lda, Bf.data(), ldb, 0.f, Cf.data(), N);
    benchmark::DoNotOptimize(Cf.data());
    auto t2 = clk::now();
    best64 = std::min(best64, std::chrono::duration<double>(t1 - t0).count());
    best32 = std::min(best32, std::chrono::duration<double>(t2 - t1).count());
#ifdef GB_HAVE_OPENBLAS
    cblas_dgemm(CblasRowMajor, sh.ta ? CblasTrans : CblasNoTrans, sh.tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, 1.0, A.data(), (int)lda, B.data(), (int)ldb, 0.0, C.data(), (int)N);
    benchmark::DoNotOptimize(C.data());
    best_blas = std::min(best_blas, std::chrono::duration<double>(clk::now() - t2).count());
#endif
  }
  const double gf = 2.0 * (double)M * (double)N * (double)K * 1e-9;
  st.counters["ours_best_GFLOPs"] = gf / best64;
  st.counters["ours_f32_best_GFLOPs"] = gf / best32;
#ifdef GB_HAVE_OPENBLAS
  st.counters["openblas_best_GFLOPs"] = gf / best_blas;
#endif
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
        for (const char* k : {"ours_best_GFLOPs", "openblas_best_GFLOPs", "ours_f32_best_GFLOPs"}) {
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
    if (!std::strcmp(p, "avx2")) gb::cpu::set_gemm_path(gb::cpu::GemmPath::AVX2);
    if (!std::strcmp(p, "avx512")) gb::cpu::set_gemm_path(gb::cpu::GemmPath::AVX512);
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
  // DGEMM: ours, the triple loop (a shorter run: it is 10-100x slower, one call can take seconds),
  // OpenBLAS, and our SGEMM on the same shape for the f64 / f32 ratio.
  for (const auto& sh : kDShapes) {
    const std::string n = sh.name;
    gb::bench::timed(benchmark::RegisterBenchmark(("f64/glassbox/" + n).c_str(),
                                                  [sh](benchmark::State& st) { run_d<double>(st, sh, Impl::Ours); }),
                     0.5, 1.0);
    gb::bench::timed(benchmark::RegisterBenchmark(("f64/reference/" + n).c_str(),
                                                  [sh](benchmark::State& st) { run_d<double>(st, sh, Impl::Ref); }),
                     0.0, 0.2);
#ifdef GB_HAVE_OPENBLAS
    gb::bench::timed(
        benchmark::RegisterBenchmark(("f64/openblas/" + n).c_str(),
                                     [sh](benchmark::State& st) { run_d<double>(st, sh, Impl::OpenBLAS); }),
        0.5, 1.0);
#endif
    gb::bench::timed(benchmark::RegisterBenchmark(("f64/glassbox_f32/" + n).c_str(),
                                                  [sh](benchmark::State& st) { run_d<float>(st, sh, Impl::Ours); }),
                     0.5, 1.0);
  }
  for (const auto& sh : kDShapes) {
    gb::bench::timed(benchmark::RegisterBenchmark((std::string("f64/paired/") + sh.name).c_str(),
                                                  [sh](benchmark::State& st) { run_d_paired(st, sh); }),
                     0.5, 1.0)
        ->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
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
              gb::cpu::gemm_path_name(gb::cpu::gemm_path_resolved()));
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
  // DGEMM tables; "f64/f32" is the time ratio of our DGEMM to our SGEMM on the same shape.
  std::printf("\nDGEMM f64, %d threads, path %s (median of 3; reference: the triple loop)\n", kThreads,
              gb::cpu::gemm_path_name(gb::cpu::gemm_path_resolved()));
  std::printf("%-28s | %9s %9s %9s | %8s %8s | %9s %7s\n", "shape (MxNxK)", "ours", "reference", "OpenBLAS",
              "ours/ref", "ours/OB", "ours f32", "f64/f32");
  for (const auto& sh : kDShapes) {
    const std::string n = sh.name;
    const double o = get(rep.gflops, "f64/glassbox/" + n), r = get(rep.gflops, "f64/reference/" + n);
    const double b = get(rep.gflops, "f64/openblas/" + n), f = get(rep.gflops, "f64/glassbox_f32/" + n);
    if (o == 0) continue;
    std::printf("%-28s | %9.1f %9.2f %9.1f | %8.1f %8.2f | %9.1f %7.2f\n", sh.name, o, r, b, r > 0 ? o / r : 0.0,
                b > 0 ? o / b : 0.0, f, f > 0 ? f / o : 0.0);
  }
  std::printf("\nDGEMM f64, paired best-of GFLOP/s (ours f64, ours f32, OpenBLAS f64 alternating call by call)\n");
  std::printf("%-28s | %9s %9s %8s | %9s %7s\n", "shape (MxNxK)", "ours", "OpenBLAS", "ours/OB", "ours f32",
              "f64/f32");
  for (const auto& sh : kDShapes) {
    const std::string n = std::string("f64/paired/") + sh.name;
    const double o = get(rep.best, n + "ours_best_GFLOPs"), b = get(rep.best, n + "openblas_best_GFLOPs");
    const double f = get(rep.best, n + "ours_f32_best_GFLOPs");
    if (o == 0) continue;
    std::printf("%-28s | %9.1f %9.1f %8.2f | %9.1f %7.2f\n", sh.name, o, b, b > 0 ? o / b : 0.0, f,
                f > 0 ? f / o : 0.0);
  }
  benchmark::Shutdown();
  return 0;
}

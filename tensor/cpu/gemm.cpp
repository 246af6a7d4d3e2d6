// Dispatch between the reference GEMM (the spec) and the optimised kernels (gemm_avx512.cpp /
// gemm_avx2.cpp, chosen at run time), for f32 and f64 alike: one GemmPath setting picks the family,
// the element type picks the SGEMM or DGEMM entry point of that family.
#include "tensor/cpu/gemm.h"

#include <atomic>
#include <type_traits>

#include "tensor/cpu/gemm_kernels.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/error.h"

namespace gb::cpu {
namespace {
std::atomic<GemmPath> g_forced{GemmPath::Auto};
}

bool cpu_has_avx2_fma() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}
bool cpu_has_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                         cpu_has_avx2_fma();
  return ok;
}

void gemm_alloc_failed(unsigned long bytes) {
  fail("gemm: out of memory allocating a ", bytes, "-byte packing buffer");
}

const char* gemm_path_name(GemmPath p) {
  switch (p) {
    case GemmPath::Auto: return "auto";
    case GemmPath::Reference: return "reference";
    case GemmPath::AVX2: return "avx2";
    case GemmPath::AVX512: return "avx512";
  }
  return "?";
}

void set_gemm_path(GemmPath p) {
  GB_CHECK(p != GemmPath::AVX512 || cpu_has_avx512(), "gemm: cannot force the AVX-512 path, the CPU lacks AVX-512");
  GB_CHECK(p != GemmPath::AVX2 || cpu_has_avx2_fma(), "gemm: cannot force the AVX2 path, the CPU lacks AVX2/FMA");
  g_forced.store(p);
}
GemmPath gemm_path() { return g_forced.load(); }

GemmPath gemm_path_resolved() {
  if (use_reference_kernels()) return GemmPath::Reference;
  const GemmPath p = g_forced.load();
  if (p != GemmPath::Auto) return p;
  if (cpu_has_avx512()) return GemmPath::AVX512;
  if (cpu_has_avx2_fma()) return GemmPath::AVX2;
  return GemmPath::Reference;
}

template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  switch (gemm_path_resolved()) {
    case GemmPath::AVX512:
      if constexpr (std::is_same_v<T, float>)
        sgemm_avx512(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      else
        dgemm_avx512(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    case GemmPath::AVX2:
      if constexpr (std::is_same_v<T, float>)
        sgemm_avx2(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      else
        dgemm_avx2(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    default: break;
  }
  gemm_ref<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                          int64_t, float, float*, int64_t);

template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

}  // namespace gb::cpu

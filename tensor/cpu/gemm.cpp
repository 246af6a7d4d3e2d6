// Dispatch between the reference GEMM (the spec) and the optimised f32 kernels
// (gemm_avx512.cpp / gemm_avx2.cpp, chosen at run time). f64 always takes the reference.
#include "tensor/cpu/gemm.h"

#include <atomic>
#include <type_traits>

#include "tensor/cpu/gemm_kernels.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/error.h"

namespace gb::cpu {
namespace {
std::atomic<SgemmPath> g_forced{SgemmPath::Auto};
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

void sgemm_alloc_failed(unsigned long bytes) {
  fail("gemm: out of memory allocating a ", bytes, "-byte packing buffer");
}

const char* sgemm_path_name(SgemmPath p) {
  switch (p) {
    case SgemmPath::Auto: return "auto";
    case SgemmPath::Reference: return "reference";
    case SgemmPath::AVX2: return "avx2";
    case SgemmPath::AVX512: return "avx512";
  }
  return "?";
}

void set_sgemm_path(SgemmPath p) {
  GB_CHECK(p != SgemmPath::AVX512 || cpu_has_avx512(), "gemm: cannot force the AVX-512 path, the CPU lacks AVX-512");
  GB_CHECK(p != SgemmPath::AVX2 || cpu_has_avx2_fma(), "gemm: cannot force the AVX2 path, the CPU lacks AVX2/FMA");
  g_forced.store(p);
}
SgemmPath sgemm_path() { return g_forced.load(); }

SgemmPath sgemm_path_resolved() {
  if (use_reference_kernels()) return SgemmPath::Reference;
  const SgemmPath p = g_forced.load();
  if (p != SgemmPath::Auto) return p;
  if (cpu_has_avx512()) return SgemmPath::AVX512;
  if (cpu_has_avx2_fma()) return SgemmPath::AVX2;
  return SgemmPath::Reference;
}

template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    switch (sgemm_path_resolved()) {
      case SgemmPath::AVX512: sgemm_avx512(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); return;
      case SgemmPath::AVX2: sgemm_avx2(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); return;
      default: break;
    }
  }
  gemm_ref<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                          int64_t, float, float*, int64_t);

template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

}  // namespace gb::cpu

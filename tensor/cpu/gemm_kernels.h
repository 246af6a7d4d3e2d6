// Optimised GEMM kernels behind gb::cpu::gemm<float> and gemm<double> (see gemm.h for the contract).
// Each ISA file (gemm_avx512.cpp, gemm_avx2.cpp) is compiled with its own instruction-set flags and
// exports one entry point per precision; gemm.cpp picks one at run time with __builtin_cpu_supports.
// Tests and benchmarks can force a path to check both on a machine that has AVX-512.
#pragma once
#include <cstdint>

namespace gb::cpu {

// Same signature and semantics as gemm<float> / gemm<double>. Only call when the CPU supports the ISA.
void sgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void sgemm_avx2(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void dgemm_avx512(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                  int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc);
void dgemm_avx2(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

// Throws gb::Error for a failed packing-buffer allocation (defined in gemm.cpp, compiled without ISA
// flags, so the ISA files need no error-formatting templates of their own).
[[noreturn]] void gemm_alloc_failed(unsigned long bytes);

// Which kernel family gemm<T> runs; one setting for both precisions (an AVX2 forcing runs the AVX2
// SGEMM and the AVX2 DGEMM), so a test or bench that forces a path gets it for f32 and f64 alike.
enum class GemmPath { Auto, Reference, AVX2, AVX512 };

bool cpu_has_avx2_fma();
bool cpu_has_avx512();
// Forces the path gemm<float> and gemm<double> take (Auto = best the CPU supports). Forcing a path
// the CPU lacks throws gb::Error. The reference-kernel switch (kernel_mode.h) still wins over this.
void set_gemm_path(GemmPath p);
GemmPath gemm_path();           // the forced value (Auto by default)
GemmPath gemm_path_resolved();  // what gemm<T> runs now
const char* gemm_path_name(GemmPath p);

}  // namespace gb::cpu

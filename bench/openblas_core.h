// OpenBLAS 0.3.21 does not recognise the development machine's Xeon under KVM and falls back to its
// SSE3 "Prescott" kernels (about 4x slower): a meaningless baseline. OpenBLAS reads
// OPENBLAS_CORETYPE when it loads, so when the variable is unset and the CPU has AVX-512 the bench
// re-executes itself with OPENBLAS_CORETYPE=SkylakeX. Set the variable yourself to choose otherwise.
#pragma once
#include <cstdlib>

#include <unistd.h>

#ifdef GB_HAVE_OPENBLAS
#include <cblas.h>
extern "C" char* openblas_get_corename(void);  // not declared by Debian's cblas.h
#endif

namespace gb::bench {

inline void force_openblas_core(char** argv) {
#ifdef GB_HAVE_OPENBLAS
  if (!std::getenv("OPENBLAS_CORETYPE") && __builtin_cpu_supports("avx512f")) {
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    execv("/proc/self/exe", argv);  // only returns on failure: then run with the detected core
  }
#else
  (void)argv;
#endif
}

}  // namespace gb::bench

// `glassbox info`: build and backend facts (threads, SIMD, CUDA device or why not).
#include <cstdio>

#include "app/command.h"
#include "autograd/backends.h"
#include "tensor/cpu/parallel.h"

static gb::app::Register reg("info", "show the build, CPU threads and the CUDA backend status", [](CLI::App&) {
  return [] {
    gb::BackendInfo b = gb::init_backends();
    std::printf("glassbox\n  cpu threads: %d\n  avx2+fma: %s\n  avx512f: %s\n", gb::cpu::num_threads(),
                __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "yes" : "no",
                __builtin_cpu_supports("avx512f") ? "yes" : "no");
    if (b.cuda_available)
      std::printf("  cuda: %s\n", b.cuda_device.c_str());
    else
      std::printf("  cuda: not used (%s); running on the CPU\n", b.why_not.c_str());
    return 0;
  };
});

// Test hooks of the backend seam (tensor/backend.h), used by the op harness, never by the program.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "tensor/backend.h"

namespace gb {

// Runs every CPU kernel call through `b` instead of the built-in CPU backend (nullptr restores it).
// The op harness runs the CUDA kernels' code on the CPU this way (tests/harness/cuda_emu.h).
void override_cpu_backend(Backend* b);

// unsupported_ops against one backend's own support table (a backend that is not registered for a
// device, e.g. an emulated one).
std::vector<std::string> unsupported_ops(const std::set<KernelUse>& uses, const Backend& b);

}  // namespace gb

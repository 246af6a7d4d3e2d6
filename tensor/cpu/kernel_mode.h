// Switch between the plain reference kernels (the spec) and the optimised CPU kernels. The op harness
// runs every op both ways and compares; ops without an optimised kernel ignore the switch.
#pragma once

namespace gb::cpu {

bool use_reference_kernels();
void set_reference_kernels(bool on);

struct ReferenceKernelsGuard {
  explicit ReferenceKernelsGuard(bool on = true);
  ~ReferenceKernelsGuard();
  bool prev;
};

}  // namespace gb::cpu

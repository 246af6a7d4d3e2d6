#include "tensor/cpu/kernel_mode.h"

namespace gb::cpu {

static thread_local bool t_reference = false;
bool use_reference_kernels() { return t_reference; }
void set_reference_kernels(bool on) { t_reference = on; }
ReferenceKernelsGuard::ReferenceKernelsGuard(bool on) : prev(t_reference) { t_reference = on; }
ReferenceKernelsGuard::~ReferenceKernelsGuard() { t_reference = prev; }

}  // namespace gb::cpu

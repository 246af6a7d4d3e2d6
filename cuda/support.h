// Which kernels the CUDA backend runs, for which dtypes: one table, plain C++, used by CudaBackend and
// by its CPU emulation (tests/harness/cuda_emu.h), so the two can never disagree. Every kernel of
// tensor/backend.h is ported (plain one-item-per-thread kernels, cuda/kernel_common.h); arithmetic in
// f32 and f64, and the memory kernels also move i32 (labels, argmax
// indices) and u8 (8-bit images), converting between any two of these in copy.
#pragma once
#include "tensor/backend.h"

namespace gb::cuda {

inline bool supports_kernel(Kernel k, DType dt) {
  const bool flt = dt == DType::F32 || dt == DType::F64;
  if (k == Kernel::fill || k == Kernel::copy) return flt || dt == DType::I32 || dt == DType::U8;
  return flt && (int)k >= 0 && k < Kernel::count_;
}

}  // namespace gb::cuda

// CPU backend: max pooling and linear resampling (tensor/cpu/pool.h, tensor/cpu/upsample.h).
#include "tensor/cpu/backend.h"
#include "tensor/cpu/pool.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/cpu/upsample.h"
#include "tensor/dispatch.h"

namespace gb::cpu {

void CpuBackend::max_pool_forward(const PoolGeom& g, const Tensor& x, Tensor& y, Tensor& idx) {
  GB_DISPATCH_FLOAT(y.dtype(), "max_pool_forward",
                    { cpu::max_pool_forward<T>(g, x.data<T>(), y.data<T>(), idx.data<int32_t>()); });
}

void CpuBackend::max_pool_backward(const PoolGeom& g, const Tensor& gy, const Tensor& idx, Tensor& gx) {
  GB_DISPATCH_FLOAT(gx.dtype(), "max_pool_backward",
                    { cpu::max_pool_backward<T>(g, gy.data<T>(), idx.data<int32_t>(), gx.data<T>()); });
}

void CpuBackend::upsample_forward(const UpsampleGeom& g, const Tensor& x, Tensor& y) {
  GB_DISPATCH_FLOAT(y.dtype(), "upsample_forward", {
    if (use_reference_kernels())
      cpu::upsample_linear_forward_ref<T>(g, x.data<T>(), y.data<T>());
    else
      cpu::upsample_linear_forward<T>(g, x.data<T>(), y.data<T>());
  });
}

void CpuBackend::upsample_backward(const UpsampleGeom& g, const Tensor& gy, Tensor& gx) {
  GB_DISPATCH_FLOAT(gx.dtype(), "upsample_backward", {
    if (use_reference_kernels())
      cpu::upsample_linear_backward_ref<T>(g, gy.data<T>(), gx.data<T>());
    else
      cpu::upsample_linear_backward<T>(g, gy.data<T>(), gx.data<T>());
  });
}

}  // namespace gb::cpu

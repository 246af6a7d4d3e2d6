// CPU backend: convolution (plain loops, or the optimised path, chosen here by the reference-kernel
// switch; the optimised path picks vol2col + GEMM or the direct kernels per pass, tensor/cpu/conv.h)
// and weight standardisation (the reference, or tensor/cpu/weight_std.h's lane-summed rows).
#include "tensor/cpu/backend.h"
#include "tensor/cpu/conv.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/cpu/weight_std.h"
#include "tensor/dispatch.h"

namespace gb::cpu {

void CpuBackend::conv_forward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  GB_DISPATCH_FLOAT(y.dtype(), "conv_forward", {
    if (use_reference_kernels())
      conv_forward_ref<T>(g, x.data<T>(), w.data<T>(), data_or_null<T>(bias), y.data<T>());
    else
      cpu::conv_forward<T>(g, x.data<T>(), w.data<T>(), data_or_null<T>(bias), y.data<T>());
  });
}

void CpuBackend::conv_backward(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor& gy, Tensor& gx,
                               Tensor& gw, Tensor& gbias) {
  GB_DISPATCH_FLOAT(gy.dtype(), "conv_backward", {
    if (use_reference_kernels())
      conv_backward_ref<T>(g, data_or_null<T>(x), data_or_null<T>(w), gy.data<T>(), data_or_null<T>(gx), data_or_null<T>(gw), data_or_null<T>(gbias));
    else
      cpu::conv_backward<T>(g, data_or_null<T>(x), data_or_null<T>(w), gy.data<T>(), data_or_null<T>(gx), data_or_null<T>(gw), data_or_null<T>(gbias));
  });
}

void CpuBackend::weight_std_forward(const Tensor& w, double eps, Tensor& y) {
  const int64_t O = w.size(0), K = O ? w.numel() / O : 0;
  GB_DISPATCH_FLOAT(y.dtype(), "weight_std_forward",
                    {
                      if (use_reference_kernels())
                        cpu::weight_standardize_forward<T>(O, K, w.data<T>(), eps, y.data<T>());
                      else
                        cpu::weight_standardize_forward_fast<T>(O, K, w.data<T>(), eps, y.data<T>());
                    });
}

void CpuBackend::weight_std_backward(const Tensor& w, double eps, const Tensor& gy, Tensor& gw) {
  const int64_t O = w.size(0), K = O ? w.numel() / O : 0;
  GB_DISPATCH_FLOAT(gw.dtype(), "weight_std_backward",
                    {
                      if (use_reference_kernels())
                        cpu::weight_standardize_backward<T>(O, K, w.data<T>(), eps, gy.data<T>(), gw.data<T>());
                      else
                        cpu::weight_standardize_backward_fast<T>(O, K, w.data<T>(), eps, gy.data<T>(), gw.data<T>());
                    });
}

}  // namespace gb::cpu

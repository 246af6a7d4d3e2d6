// The CUDA backend's kernels on the CPU (tests/harness/cuda_emu.h): each method instantiates the impl
// of cuda/<family>_math.h with the serial host launcher, exactly as cuda/<family>.cu does with the
// GPU one. One file per family (cuda_emu_<family>.cpp), as on the GPU side.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "cuda/memory_math.h"
#include "cuda/elementwise_math.h"
#include "cuda/reduce_math.h"
#include "tests/harness/cuda_emu.h"

namespace gb::cuda {

CudaEmuBackend& cuda_emu_backend() {
  static CudaEmuBackend b(Device::CPU, "cuda-emu");
  return b;
}

namespace {
// Host memory standing in for device memory (64-byte aligned, as a device allocation would be).
struct HostAsDeviceAllocator final : Allocator {
  void* allocate(size_t n) override { return std::aligned_alloc(64, std::max<size_t>(64, (n + 63) / 64 * 64)); }
  void deallocate(void* p) override { std::free(p); }
  void copy_to_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void copy_from_host(void* dst, const void* src, size_t n) override { std::memcpy(dst, src, n); }
  void copy_device(void* dst, const void* src, size_t n) override { std::memmove(dst, src, n); }
};
}  // namespace

FakeCudaDevice::FakeCudaDevice()
    : prev_alloc_(allocator_for(Device::CUDA)), prev_backend_(registered_backend(Device::CUDA)) {
  static HostAsDeviceAllocator alloc;
  static CudaEmuBackend be(Device::CUDA, "cuda");
  register_allocator(Device::CUDA, &alloc);
  register_backend(Device::CUDA, &be);
}
FakeCudaDevice::~FakeCudaDevice() {
  register_allocator(Device::CUDA, prev_alloc_);
  register_backend(Device::CUDA, prev_backend_);
}

// memory
void CudaEmuBackend::fill(Tensor& y, double v) {
  check_devices("fill", device(), y, v);
  fill_impl(HostLaunch{}, y, v);
}
void CudaEmuBackend::copy(Tensor& y, const Tensor& x) {
  check_devices("copy", device(), y, x);
  copy_impl(HostLaunch{}, y, x);
}
void CudaEmuBackend::accumulate(Tensor& y, const Tensor& x) {
  check_devices("accumulate", device(), y, x);
  accumulate_impl(HostLaunch{}, y, x);
}

// elementwise
void CudaEmuBackend::unary(UnaryOp op, double s, const Tensor& x, Tensor& y) {
  check_devices("unary", device(), op, s, x, y);
  unary_impl(HostLaunch{}, op, s, x, y);
}
void CudaEmuBackend::unary_backward(UnaryOp op, double s, const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx) {
  check_devices("unary_backward", device(), op, s, x, y, gy, gx);
  unary_backward_impl(HostLaunch{}, op, s, x, y, gy, gx);
}
void CudaEmuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  check_devices("binary", device(), op, a, b, y);
  binary_impl(HostLaunch{}, op, a, b, y);
}
void CudaEmuBackend::bias_rows(const Tensor& bias, Tensor& y) {
  check_devices("bias_rows", device(), bias, y);
  bias_rows_impl(HostLaunch{}, bias, y);
}

// reduce
void CudaEmuBackend::sum_rows(const Tensor& x, Tensor& y) {
  check_devices("sum_rows", device(), x, y);
  sum_rows_impl(HostLaunch{}, x, y);
}
void CudaEmuBackend::max_rows(const Tensor& x, Tensor& vals, Tensor& idx) {
  check_devices("max_rows", device(), x, vals, idx);
  max_rows_impl(HostLaunch{}, x, vals, idx);
}
void CudaEmuBackend::max_backward(const Tensor& gy, const Tensor& idx, Tensor& gx, int64_t outer, int64_t n, int64_t inner) {
  check_devices("max_backward", device(), gy, idx, gx, outer, n, inner);
  max_backward_impl(HostLaunch{}, gy, idx, gx, outer, n, inner);
}

}  // namespace gb::cuda

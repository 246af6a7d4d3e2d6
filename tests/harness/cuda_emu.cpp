// The CUDA backend's kernels on the CPU (tests/harness/cuda_emu.h): each method instantiates the impl
// of cuda/<family>_math.h with the serial host launcher, exactly as cuda/<family>.cu does with the
// GPU one. One file per family (cuda_emu_<family>.cpp), as on the GPU side.
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "cuda/memory_math.h"
#include "cuda/elementwise_math.h"
#include "cuda/reduce_math.h"
#include "tensor/caching_allocator.h"
#include "tests/harness/cuda_emu.h"

namespace gb::cuda {

CudaEmuBackend& cuda_emu_backend() {
  static CudaEmuBackend b(Device::CPU, "cuda-emu");
  return b;
}

namespace {
// The stand-in device's memory: one arena of address space, reserved once, kept inaccessible
// (PROT_NONE) except while an emulated kernel runs or the allocator copies. So host code that reads
// or writes device memory directly — which on a GPU is an illegal access — faults here at the line
// that did it, as it would on the GPU (and no later). Blocks come from a CachingAllocator over a bump
// pointer, so the arena grows only with the peak working set.
class GuardedArena {
 public:
  static constexpr size_t kReserve = size_t(16) << 30;  // address space only (MAP_NORESERVE)
  GuardedArena() : cache_([this](size_t n) { return bump(n); }, [](void*) {}) {
    void* p = mmap(nullptr, kReserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    GB_CHECK(p != MAP_FAILED, "FakeCudaDevice: could not reserve ", kReserve, " bytes of address space");
    base_ = static_cast<char*>(p);
  }
  void* allocate(size_t n) { return cache_.allocate(n); }
  void deallocate(void* p) { cache_.deallocate(p); }
  // Opens the arena for reading and writing; nested opens close with the last one.
  void open() {
    std::lock_guard<std::mutex> lk(mu_);
    if (opens_++ == 0) set(PROT_READ | PROT_WRITE);
  }
  void close() {
    std::lock_guard<std::mutex> lk(mu_);
    if (--opens_ == 0) set(PROT_NONE);
  }

 private:
  void* bump(size_t n) {
    std::lock_guard<std::mutex> lk(mu_);
    if (top_ + n > kReserve) return nullptr;
    void* p = base_ + top_;
    top_ += (n + 4095) / 4096 * 4096;
    if (opens_ > 0) set(PROT_READ | PROT_WRITE);  // the new pages join an open arena
    return p;
  }
  void set(int prot) {
    if (top_ > 0) GB_CHECK(mprotect(base_, top_, prot) == 0, "FakeCudaDevice: mprotect failed");
  }
  std::mutex mu_;
  char* base_ = nullptr;
  size_t top_ = 0;
  int opens_ = 0;
  CachingAllocator cache_;
};

GuardedArena* g_arena = nullptr;  // the live stand-in device's memory (nullptr: none)

struct GuardedDeviceAllocator final : Allocator {
  void* allocate(size_t n) override { return g_arena->allocate(n); }
  void deallocate(void* p) override { g_arena->deallocate(p); }
  void copy_to_host(void* dst, const void* src, size_t n) override { copy(dst, src, n); }
  void copy_from_host(void* dst, const void* src, size_t n) override { copy(dst, src, n); }
  void copy_device(void* dst, const void* src, size_t n) override { copy(dst, src, n); }
  static void copy(void* dst, const void* src, size_t n) {
    g_arena->open();
    std::memmove(dst, src, n);
    g_arena->close();
  }
};
}  // namespace

void emulated_device_access(bool open) {
  if (!g_arena) return;
  if (open)
    g_arena->open();
  else
    g_arena->close();
}

FakeCudaDevice::FakeCudaDevice()
    : prev_alloc_(allocator_for(Device::CUDA)), prev_backend_(registered_backend(Device::CUDA)) {
  // One arena for the process: blocks freed after a FakeCudaDevice ends (tensors that outlived it)
  // still go back to it.
  static GuardedArena arena;
  static GuardedDeviceAllocator alloc;
  static CudaEmuBackend be(Device::CUDA, "cuda");
  g_arena = &arena;
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

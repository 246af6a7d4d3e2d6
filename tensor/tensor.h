// Tensor: a strided view (shape, strides, offset in elements) onto shared Storage, plus the autograd
// metadata slot. Copying a Tensor copies the handle (like std::shared_ptr): both refer to one tensor.
//
// Members here are *raw*: they never record autograd history. The differentiable ops (add, matmul,
// reshape, ...) are free functions in autograd/ops.h. Raw views (view_*) share storage and are what
// the differentiable view ops use underneath.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/shape.h"

namespace gb {

// Owns one allocation. CPU memory is 64-byte aligned (one cache line; an AVX-512 vector).
// Other devices register an allocator (cuda/ does for Device::CUDA) so tensor/ needs no CUDA headers.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::CPU;
  std::function<void(void*)> deleter;
  ~Storage();
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device dev);
};

struct Allocator {
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p) = 0;
  // Copies between host and this device (or within the device); sizes in bytes.
  virtual void copy_to_host(void* dst, const void* src, size_t n) = 0;
  virtual void copy_from_host(void* dst, const void* src, size_t n) = 0;
  virtual void copy_device(void* dst, const void* src, size_t n) = 0;
};
void register_allocator(Device dev, Allocator* a);
Allocator* allocator_for(Device dev);  // nullptr when that device was not built/registered

// Overflow sentinels (after ggml's test-backend-ops): while on, every new allocation, on any device,
// is framed by 64 guard bytes before the data and guard bytes from the data's last byte to the next
// 64-byte boundary plus 64 more. When such a buffer is freed its guards are checked; a kernel that
// wrote before or past its buffer leaves a report. The op harness turns this on around every run.
void set_overflow_guards(bool on);
bool overflow_guards();
std::vector<std::string> take_overflow_reports();  // the reports so far (and clears them)

// Storage allocations since the process started, on every device (benchmarks report allocations per
// training step from the difference of two readings; relaxed atomics, so the cost is one add each).
struct AllocStats {
  int64_t count = 0;  // Storage::allocate calls
  int64_t bytes = 0;  // bytes requested
};
AllocStats storage_alloc_stats();

class Tensor;
struct Node;  // autograd/node.h

// Autograd state of one tensor. Shared (not owned exclusively) so that graph edges can point at it
// without keeping the tensor's data alive.
struct AutogradMeta;

class Tensor {
 public:
  Tensor() = default;  // undefined tensor (no storage); used for "no bias", "no gradient"

  // ---- creation (all contiguous) ----
  static Tensor empty(const Shape& s, DType t = DType::F32, Device d = Device::CPU);
  static Tensor zeros(const Shape& s, DType t = DType::F32, Device d = Device::CPU);
  static Tensor ones(const Shape& s, DType t = DType::F32, Device d = Device::CPU);
  static Tensor full(const Shape& s, double v, DType t = DType::F32, Device d = Device::CPU);
  static Tensor from_vector(const std::vector<float>& v, const Shape& s);
  static Tensor from_vector(const std::vector<double>& v, const Shape& s);
  static Tensor from_vector(const std::vector<int32_t>& v, const Shape& s);
  static Tensor scalar(double v, DType t = DType::F32);
  static Tensor arange(int64_t n, DType t = DType::F32);

  // ---- description ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t offset() const;
  int64_t dim() const { return (int64_t)shape().size(); }
  int64_t size(int64_t d) const;
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const;
  std::string desc() const;  // "f32[2,3,7,7] cpu"

  // ---- element access (CPU; pointer to element 0 of this view, i.e. storage + offset) ----
  template <class T> T* data();
  template <class T> const T* data() const;
  void* raw_data() const;
  double item() const;                  // single-element tensors
  double at(const std::vector<int64_t>& idx) const;  // slow, for tests and debugging
  std::vector<double> to_vector() const;  // row-major values of the view, converted to double
  template <class T> std::vector<T> to_vector_as() const;

  // ---- raw (non-differentiable) transforms ----
  Tensor contiguous() const;  // self when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy
  Tensor to(DType t) const;   // converted copy (self when same dtype)
  Tensor to(Device d) const;
  void copy_from(const Tensor& src);  // elementwise copy into this view; same shape, any dtype
  void fill(double v);
  Tensor view_reshape(const Shape& s) const;  // requires contiguity compatible; else copies
  Tensor view_permute(const std::vector<int64_t>& dims) const;
  Tensor view_slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor view_expand(const Shape& s) const;  // broadcast: size-1 dims get stride 0
  Tensor view_as_strided(const Shape& s, const Shape& strides, int64_t offset) const;

  // ---- autograd (engine in autograd/engine.cpp) ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool r = true);  // only on leaves
  bool is_leaf() const;
  Tensor grad() const;           // accumulated gradient (undefined until a backward reaches it)
  void zero_grad();              // drops the gradient
  void set_grad(const Tensor& g);
  // Reverse-mode pass from this tensor. `seed` defaults to ones for a single-element tensor.
  // Gradients *accumulate* into .grad() of leaves (and of retained intermediates). The graph's saved
  // buffers are freed afterwards unless retain_graph.
  void backward(const Tensor& seed = Tensor(), bool retain_graph = false) const;
  void retain_grad();  // keep .grad() on an intermediate after backward
  // Called with this tensor's complete gradient during backward (observe only). Returns an id.
  int register_hook(std::function<void(const Tensor& grad)> fn);
  const std::shared_ptr<Node>& grad_fn() const;
  const std::shared_ptr<AutogradMeta>& meta() const;      // may be null
  const std::shared_ptr<AutogradMeta>& ensure_meta();     // creates on first use
  Tensor detach() const;  // same data, no history

  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  struct Impl;
  explicit Tensor(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

struct AutogradMeta {
  bool requires_grad = false;
  bool retain_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  std::vector<std::function<void(const Tensor&)>> hooks;
  std::string name;  // optional, for messages and traces
};

struct Tensor::Impl {
  std::shared_ptr<Storage> storage;
  Shape shape, strides;
  int64_t offset = 0;
  DType dtype = DType::F32;
  std::shared_ptr<AutogradMeta> meta;
};

template <class T> T* Tensor::data() {
  GB_CHECK(defined(), "Tensor::data: undefined tensor");
  GB_CHECK(dtype_of<T>::value == dtype(), "Tensor::data: asked for ", dtype_name(dtype_of<T>::value),
           " but tensor is ", desc());
  return static_cast<T*>(impl_->storage->data) + impl_->offset;
}
template <class T> const T* Tensor::data() const { return const_cast<Tensor*>(this)->data<T>(); }

// Shape/dtype checks shared by ops: "<op>: expected f32 or f64, got i32[3]".
void check_float(const Tensor& t, const char* op, const char* what = "input");
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_cpu(const Tensor& t, const char* op);

}  // namespace gb

#include "tensor/tensor.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "tensor/cpu/host_cache.h"
#include "tensor/cpu/strided.h"
#include "tensor/dispatch.h"
#include "tensor/kernels.h"

namespace gb {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I32: return 4;
    case DType::U8: return 1;
    case DType::BF16: return 2;
    case DType::F16: return 2;
  }
  return 0;
}
const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::I32: return "i32";
    case DType::U8: return "u8";
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
  }
  return "?";
}
const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

// ---------------------------------------------------------------- storage and allocators
static Allocator* g_allocators[2] = {nullptr, nullptr};
void register_allocator(Device dev, Allocator* a) { g_allocators[(int)dev] = a; }
Allocator* allocator_for(Device dev) { return g_allocators[(int)dev]; }

Storage::~Storage() {
  if (data && deleter) deleter(data);
}

// ---------------------------------------------------------------- overflow sentinels
namespace {
constexpr size_t kGuard = 64;
constexpr unsigned char kGuardByte = 0xA7;
std::atomic<bool> g_guards{false};
std::mutex g_guard_mu;
std::vector<std::string> g_guard_reports;

// Checks the guard bytes of a framed buffer: base .. base+kGuard (head) and data+nbytes .. base+total
// (tail), as read back from the device into `host` (total bytes).
void check_guards(const unsigned char* host, size_t total, size_t nbytes, Device dev) {
  for (size_t i = 0; i < kGuard; ++i)
    if (host[i] != kGuardByte) {
      std::lock_guard<std::mutex> lk(g_guard_mu);
      g_guard_reports.push_back(std::string("a kernel wrote ") + std::to_string(kGuard - i) +
                                " bytes before the start of a " + std::to_string(nbytes) + "-byte " +
                                device_name(dev) + " buffer");
      return;
    }
  for (size_t i = kGuard + nbytes; i < total; ++i)
    if (host[i] != kGuardByte) {
      std::lock_guard<std::mutex> lk(g_guard_mu);
      g_guard_reports.push_back(std::string("a kernel wrote past the end of a ") + std::to_string(nbytes) + "-byte " +
                                device_name(dev) + " buffer (byte " + std::to_string(i - kGuard) + ")");
      return;
    }
}
}  // namespace

void set_overflow_guards(bool on) { g_guards = on; }
bool overflow_guards() { return g_guards; }
std::vector<std::string> take_overflow_reports() {
  std::lock_guard<std::mutex> lk(g_guard_mu);
  std::vector<std::string> r;
  r.swap(g_guard_reports);
  return r;
}

namespace {
std::atomic<int64_t> g_alloc_count{0}, g_alloc_bytes{0};
}
AllocStats storage_alloc_stats() {
  return {g_alloc_count.load(std::memory_order_relaxed), g_alloc_bytes.load(std::memory_order_relaxed)};
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device dev) {
  g_alloc_count.fetch_add(1, std::memory_order_relaxed);
  g_alloc_bytes.fetch_add((int64_t)nbytes, std::memory_order_relaxed);
  auto s = std::make_shared<Storage>();
  s->nbytes = nbytes;
  s->device = dev;
  size_t n = std::max<size_t>(64, (nbytes + 63) / 64 * 64);
  Allocator* a = nullptr;
  if (dev != Device::CPU) {
    a = allocator_for(dev);
    GB_CHECK(a, "Storage: no allocator for device ", device_name(dev),
             " (built without CUDA, or no CUDA device present)");
  }
  if (g_guards) {
    // [head guard kGuard][data nbytes][tail guard up to n + kGuard]; data stays 64-byte aligned.
    const size_t total = kGuard + n + kGuard;
    std::vector<unsigned char> pattern(total, kGuardByte);
    unsigned char* base = nullptr;
    if (dev == Device::CPU) {
      base = static_cast<unsigned char*>(std::aligned_alloc(64, total));
      GB_CHECK(base, "Storage: out of host memory allocating ", nbytes, " bytes");
      std::memcpy(base, pattern.data(), total);
    } else {
      base = static_cast<unsigned char*>(a->allocate(total));
      a->copy_from_host(base, pattern.data(), total);
    }
    s->data = base + kGuard;
    s->deleter = [a, total, nbytes, dev](void* p) {
      unsigned char* b = static_cast<unsigned char*>(p) - kGuard;
      if (dev == Device::CPU) {
        check_guards(b, total, nbytes, dev);
        std::free(b);
      } else {
        std::vector<unsigned char> host(total);
        a->copy_to_host(host.data(), b, total);
        check_guards(host.data(), total, nbytes, dev);
        a->deallocate(b);
      }
    };
    return s;
  }
  if (dev == Device::CPU) {
    s->data = cpu::host_alloc(n);  // large buffers come from the caching allocator (host_cache.h)
    GB_CHECK(s->data, "Storage: out of host memory allocating ", nbytes, " bytes");
    s->deleter = [n](void* p) { cpu::host_free(p, n); };
  } else {
    s->data = a->allocate(n);
    s->deleter = [a](void* p) { a->deallocate(p); };
  }
  return s;
}

// ---------------------------------------------------------------- creation
static Tensor make(const Shape& s, DType t, Device d) {
  check_shape(s, "Tensor");
  auto impl = std::make_shared<Tensor::Impl>();
  impl->storage = Storage::allocate(gb::numel(s) * dtype_size(t), d);
  impl->shape = s;
  impl->strides = contiguous_strides(s);
  impl->dtype = t;
  return Tensor(impl);
}

Tensor Tensor::empty(const Shape& s, DType t, Device d) { return make(s, t, d); }
Tensor Tensor::zeros(const Shape& s, DType t, Device d) {
  // Through the backend's fill, which is threaded: the backward engine zeroes every gradient buffer
  // (530 MB per R50 input-gradient step at batch 1), and one thread's memset spent 46-62 ms on it.
  Tensor x = make(s, t, d);
  x.fill(0.0);
  return x;
}
Tensor Tensor::ones(const Shape& s, DType t, Device d) { return full(s, 1.0, t, d); }
Tensor Tensor::full(const Shape& s, double v, DType t, Device d) {
  Tensor x = make(s, t, d);
  x.fill(v);
  return x;
}
template <class V> static Tensor from_vec(const std::vector<V>& v, const Shape& s) {
  GB_CHECK((int64_t)v.size() == numel(s), "Tensor::from_vector: ", v.size(), " values for shape ", str(s));
  Tensor x = make(s, dtype_of<V>::value, Device::CPU);
  if (!v.empty()) std::memcpy(x.raw_data(), v.data(), v.size() * sizeof(V));
  return x;
}
Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& s) { return from_vec(v, s); }
Tensor Tensor::from_vector(const std::vector<double>& v, const Shape& s) { return from_vec(v, s); }
Tensor Tensor::from_vector(const std::vector<int32_t>& v, const Shape& s) { return from_vec(v, s); }
Tensor Tensor::scalar(double v, DType t) { return full({}, v, t); }
Tensor Tensor::arange(int64_t n, DType t) {
  Tensor x = make({n}, t, Device::CPU);
  GB_DISPATCH_ALL(t, "arange", {
    T* p = x.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = (T)i;
  });
  return x;
}

// ---------------------------------------------------------------- description
const Shape& Tensor::shape() const {
  GB_CHECK(defined(), "Tensor: use of an undefined tensor");
  return impl_->shape;
}
// Every accessor checks for an undefined tensor: a clear error instead of a null dereference.
#define GB_DEFINED(what) GB_CHECK(impl_ != nullptr, "Tensor::", what, ": use of an undefined tensor")
const Shape& Tensor::strides() const {
  GB_DEFINED("strides");
  return impl_->strides;
}
int64_t Tensor::offset() const {
  GB_DEFINED("offset");
  return impl_->offset;
}
int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "Tensor::size")]; }
int64_t Tensor::numel() const { return gb::numel(shape()); }
DType Tensor::dtype() const {
  GB_DEFINED("dtype");
  return impl_->dtype;
}
Device Tensor::device() const {
  GB_DEFINED("device");
  return impl_->storage->device;
}
const std::shared_ptr<Storage>& Tensor::storage() const {
  GB_DEFINED("storage");
  return impl_->storage;
}
bool Tensor::is_contiguous() const {
  GB_DEFINED("is_contiguous");
  int64_t expect = 1;
  for (int i = (int)dim() - 1; i >= 0; --i) {
    if (impl_->shape[i] == 1) continue;
    if (impl_->strides[i] != expect) return false;
    expect *= impl_->shape[i];
  }
  return true;
}
std::string Tensor::desc() const {
  if (!defined()) return "undefined";
  std::ostringstream os;
  os << dtype_name(dtype()) << str(shape()) << ' ' << device_name(device());
  return os.str();
}
void* Tensor::raw_data() const {
  GB_DEFINED("raw_data");
  return static_cast<char*>(impl_->storage->data) + impl_->offset * dtype_size(impl_->dtype);
}

void check_float(const Tensor& t, const char* op, const char* what) {
  GB_CHECK(t.defined(), op, ": ", what, " is undefined");
  GB_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64, op, ": ", what, " must be f32 or f64, got ",
           t.desc());
}
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  GB_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch ", a.desc(), " vs ", b.desc());
}
void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  GB_CHECK(a.device() == b.device(), op, ": device mismatch ", a.desc(), " vs ", b.desc());
}
void check_cpu(const Tensor& t, const char* op) {
  GB_CHECK(t.device() == Device::CPU, op, ": tensor must be on the CPU here, got ", t.desc());
}

// ---------------------------------------------------------------- element access
double Tensor::at(const std::vector<int64_t>& idx) const {
  GB_CHECK((int64_t)idx.size() == dim(), "Tensor::at: ", idx.size(), " indices for ", desc());
  Tensor h = device() == Device::CPU ? *this : to(Device::CPU);
  int64_t off = 0;
  for (size_t i = 0; i < idx.size(); ++i) {
    GB_CHECK(idx[i] >= 0 && idx[i] < h.shape()[i], "Tensor::at: index out of range for ", desc());
    off += idx[i] * h.strides()[i];
  }
  double r = 0;
  GB_DISPATCH_ALL(dtype(), "Tensor::at", { r = (double)h.data<T>()[off]; });
  return r;
}
double Tensor::item() const {
  GB_CHECK(numel() == 1, "Tensor::item: tensor has ", numel(), " elements (", desc(), ")");
  return at(std::vector<int64_t>(dim(), 0));
}
template <class V> std::vector<V> Tensor::to_vector_as() const {
  Tensor c = (device() == Device::CPU ? *this : to(Device::CPU)).contiguous();
  std::vector<V> out(c.numel());
  GB_DISPATCH_ALL(dtype(), "Tensor::to_vector", {
    const T* p = c.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = (V)p[i];
  });
  return out;
}
template std::vector<double> Tensor::to_vector_as<double>() const;
template std::vector<float> Tensor::to_vector_as<float>() const;
template std::vector<int32_t> Tensor::to_vector_as<int32_t>() const;
template std::vector<uint8_t> Tensor::to_vector_as<uint8_t>() const;
std::vector<double> Tensor::to_vector() const { return to_vector_as<double>(); }

// ---------------------------------------------------------------- copies
// Same-device copies and fills are kernels of the device's backend (tensor/kernels.h); only the
// transfers between devices go through the allocators.
void Tensor::copy_from(const Tensor& src) {
  GB_CHECK(src.shape() == shape(), "Tensor::copy_from: shape ", str(src.shape()), " into ", str(shape()));
  if (device() != src.device()) {
    // Cross-device copies go through contiguous buffers of equal dtype.
    GB_CHECK(src.dtype() == dtype(), "Tensor::copy_from: cross-device copy needs equal dtypes (", src.desc(),
             " -> ", desc(), ")");
    GB_CHECK(is_contiguous() && src.is_contiguous(),
             "Tensor::copy_from: cross-device copy needs contiguous tensors");
    size_t n = numel() * dtype_size(dtype());
    if (device() == Device::CPU)
      allocator_for(src.device())->copy_to_host(raw_data(), src.raw_data(), n);
    else
      allocator_for(device())->copy_from_host(raw_data(), src.raw_data(), n);
    return;
  }
  if (numel() == 0) return;
  kern::copy(*this, src);
}

void Tensor::fill(double v) {
  if (numel() == 0) return;
  kern::fill(*this, v);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}
Tensor Tensor::clone() const {
  Tensor out = make(shape(), dtype(), device());
  out.copy_from(*this);
  return out;
}
Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  check_cpu(*this, "Tensor::to(dtype)");
  Tensor out = make(shape(), t, Device::CPU);
  out.copy_from(*this);
  return out;
}
Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor c = contiguous();
  if (device() != Device::CPU && d != Device::CPU) c = c.to(Device::CPU);
  Tensor out = make(shape(), dtype(), d);
  out.copy_from(c);
  return out;
}

// ---------------------------------------------------------------- raw views
static Tensor view_of(const Tensor& t, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<Tensor::Impl>();
  impl->storage = t.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = t.dtype();
  return Tensor(impl);
}

Tensor Tensor::view_as_strided(const Shape& s, const Shape& st, int64_t off) const {
  check_shape(s, "view_as_strided");
  GB_CHECK(s.size() == st.size(), "view_as_strided: shape ", str(s), " vs strides ", str(st));
  return view_of(*this, s, st, off);
}

Tensor Tensor::view_reshape(const Shape& s_in) const {
  Shape s = s_in;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      GB_CHECK(infer < 0, "reshape: more than one -1 in ", str(s_in));
      infer = (int64_t)i;
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    GB_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape ", desc(), " to ", str(s_in));
    s[infer] = numel() / known;
  }
  check_shape(s, "reshape");
  GB_CHECK(gb::numel(s) == numel(), "reshape: cannot reshape ", desc(), " (", numel(), " elements) to ",
           str(s_in));
  if (is_contiguous()) return view_of(*this, s, contiguous_strides(s), offset());
  return clone().view_reshape(s);
}

Tensor Tensor::view_permute(const std::vector<int64_t>& dims) const {
  GB_CHECK((int64_t)dims.size() == dim(), "permute: ", dims.size(), " dims given for ", desc());
  Shape s(dims.size()), st(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    GB_CHECK(!seen[d], "permute: dimension ", d, " repeated");
    seen[d] = true;
    s[i] = shape()[d];
    st[i] = strides()[d];
  }
  return view_of(*this, s, st, offset());
}

Tensor Tensor::view_slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = wrap_dim(d, dim(), "slice");
  int64_t n = shape()[d];
  GB_CHECK(step >= 1, "slice: step must be >= 1, got ", step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = shape(), st = strides();
  s[d] = (end - start + step - 1) / step;
  st[d] *= step;
  return view_of(*this, s, st, offset() + start * strides()[d]);
}

Tensor Tensor::view_expand(const Shape& s) const {
  GB_CHECK((int64_t)s.size() >= dim(), "expand: cannot expand ", desc(), " to ", str(s));
  Shape st(s.size(), 0);
  size_t lead = s.size() - dim();
  for (size_t i = 0; i < s.size(); ++i) {
    if (i < lead) continue;
    int64_t have = shape()[i - lead];
    GB_CHECK(have == s[i] || have == 1, "expand: cannot expand ", desc(), " to ", str(s));
    st[i] = have == 1 && s[i] != 1 ? 0 : strides()[i - lead];
  }
  return view_of(*this, s, st, offset());
}

}  // namespace gb

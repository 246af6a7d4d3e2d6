// The backend seam (tensor/backend.h) on a machine without a GPU: a stand-in device backend, whose
// "device memory" is host memory and which runs only the kernels the CUDA stub ports, shows that
// the harness reports unported ops as "not supported" (not failed), runs the ported ones against
// the CPU reference, and that overflow sentinels catch a kernel writing past its output.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "models/model.h"
#include "tensor/backend.h"
#include "tensor/kernels.h"
#include "tests/harness/harness.h"

using namespace gb;
using namespace gb::harness;

namespace {

// Host memory posing as a second device.
struct HostAsDevice final : Allocator {
  void* allocate(size_t n) override { return std::aligned_alloc(64, (n + 63) / 64 * 64); }
  void deallocate(void* p) override { std::free(p); }
  void copy_to_host(void* d, const void* s, size_t n) override { std::memcpy(d, s, n); }
  void copy_from_host(void* d, const void* s, size_t n) override { std::memcpy(d, s, n); }
  void copy_device(void* d, const void* s, size_t n) override { std::memcpy(d, s, n); }
};

// Runs the kernels the CUDA stub ports (cuda/backend.h) by delegating to the CPU backend; the rest
// are "not supported" (the base class throws).
class StubBackend final : public gb::Backend {
 public:
  const char* name() const override { return "stub"; }
  Device device() const override { return Device::CUDA; }
  bool supports(Kernel k, DType dt) const override {
    const bool flt = dt == DType::F32 || dt == DType::F64;
    switch (k) {
      case Kernel::fill: case Kernel::copy: return true;
      case Kernel::accumulate: case Kernel::unary: case Kernel::unary_backward: case Kernel::sum_rows:
      case Kernel::layer_norm_forward: case Kernel::layer_norm_backward: return flt;
      default: return false;
    }
  }
  gb::Backend& cpu() { return gb::backend(Device::CPU); }
  void fill(Tensor& y, double v) override { cpu().fill(y, v); }
  void copy(Tensor& y, const Tensor& x) override { cpu().copy(y, x); }
  void accumulate(Tensor& y, const Tensor& x) override { cpu().accumulate(y, x); }
  void unary(UnaryOp op, double s, const Tensor& x, Tensor& y) override {
    cpu().unary(op, s, x, y);
    if (overflow_by_one) y.data<float>()[y.numel()] = 1.0f;  // a buggy kernel: one element too far
  }
  void unary_backward(UnaryOp op, double s, const Tensor& x, const Tensor& y, const Tensor& gy, Tensor& gx) override {
    cpu().unary_backward(op, s, x, y, gy, gx);
  }
  void sum_rows(const Tensor& x, Tensor& y) override { cpu().sum_rows(x, y); }
  void layer_norm_forward(const Tensor& x, const Tensor& g, const Tensor& b, double eps, Tensor& y, Tensor& m,
                          Tensor& r) override {
    cpu().layer_norm_forward(x, g, b, eps, y, m, r);
  }
  void layer_norm_backward(const Tensor& gy, const Tensor& x, const Tensor& g, const Tensor& m, const Tensor& r,
                           Tensor& gx, Tensor& gg, Tensor& gb) override {
    cpu().layer_norm_backward(gy, x, g, m, r, gx, gg, gb);
  }
  bool overflow_by_one = false;
};

// Installs the stand-in as Device::CUDA and as an extra harness backend, restoring both afterwards.
class SeamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prev_alloc_ = allocator_for(Device::CUDA);
    prev_backend_ = registered_backend(Device::CUDA);
    register_allocator(Device::CUDA, &alloc_);
    register_backend(Device::CUDA, &stub_);
    backends().push_back({"stub", [] { return true; }, [](const std::function<void()>& f) { f(); }, Device::CUDA});
  }
  void TearDown() override {
    backends().pop_back();
    register_backend(Device::CUDA, prev_backend_);
    register_allocator(Device::CUDA, prev_alloc_);
  }
  const OpCase& find(const std::string& name) {
    for (auto& c : registry())
      if (c.name().rfind(name, 0) == 0) return c;
    throw std::runtime_error("no harness case " + name);
  }
  BackendCheck stub_result(const OpCase& c) {
    auto all = check_backends_each(c, 1234);
    return all.back();
  }
  HostAsDevice alloc_;
  StubBackend stub_;
  Allocator* prev_alloc_ = nullptr;
  gb::Backend* prev_backend_ = nullptr;
};

}  // namespace

TEST_F(SeamTest, PortedOpsPassAndTheRestAreNotSupported) {
  int passes = 0, unsupported = 0, fails = 0;
  for (auto& c : registry()) {
    const BackendCheck b = stub_result(c);
    if (b.status == BackendCheck::Status::passes) ++passes;
    if (b.status == BackendCheck::Status::not_supported) ++unsupported;
    if (b.status == BackendCheck::Status::fails) {
      ++fails;
      ADD_FAILURE() << c.name() << ": " << b.detail;
    }
  }
  EXPECT_EQ(fails, 0);
  EXPECT_GT(passes, 5);        // relu, exp, sum, mean, layer_norm, ...
  EXPECT_GT(unsupported, 100);  // convolutions, matmul, pooling, losses, ...
  EXPECT_EQ(stub_result(find("relu")).status, BackendCheck::Status::passes);
  EXPECT_EQ(stub_result(find("layer_norm")).status, BackendCheck::Status::passes);
  EXPECT_EQ(stub_result(find("sum")).status, BackendCheck::Status::passes);
  const BackendCheck conv = stub_result(find("conv2d"));
  EXPECT_EQ(conv.status, BackendCheck::Status::not_supported);
  EXPECT_NE(conv.detail.find("conv2d (conv_forward f32, conv_backward f32)"), std::string::npos) << conv.detail;
}

TEST_F(SeamTest, SentinelsCatchAKernelWritingPastItsOutput) {
  stub_.overflow_by_one = true;
  const BackendCheck b = stub_result(find("relu"));
  stub_.overflow_by_one = false;
  EXPECT_EQ(b.status, BackendCheck::Status::fails);
  EXPECT_NE(b.detail.find("past the end of a"), std::string::npos) << b.detail;
  EXPECT_EQ(stub_result(find("relu")).status, BackendCheck::Status::passes);  // and clean again
}

TEST_F(SeamTest, AnUnsupportedKernelIsAClearErrorNotACrash) {
  Tensor x = Tensor::ones({1, 1, 4, 4}).to(Device::CUDA), w = Tensor::ones({1, 1, 3, 3}).to(Device::CUDA);
  try {
    conv2d(x, w, Tensor());
    FAIL() << "conv2d ran on a backend without the kernel";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stub backend: kernel 'conv_forward' is not supported for f32 (needed by op "
                                         "'conv2d')"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(SeamTest, UnsupportedOpsOfAModelAreListed) {
  const models::ModelConfig cfg = models::named_config("tiny");
  auto model = models::make_model(cfg);
  std::set<KernelUse> uses;
  {
    KernelUseRecorder rec;
    Tensor x = Tensor::zeros({1, cfg.in_channels, cfg.size[0], cfg.size[1]});
    Tensor y = model->forward(x);
    sum(y).backward();
    uses = rec.uses();
  }
  auto missing = unsupported_ops(uses, Device::CUDA);
  ASSERT_FALSE(missing.empty());
  std::string all;
  for (auto& m : missing) all += m + "\n";
  EXPECT_NE(all.find("conv2d ("), std::string::npos) << all;
  EXPECT_EQ(all.find("relu ("), std::string::npos) << all;  // ported: relu is not listed
  EXPECT_TRUE(unsupported_ops(uses, Device::CPU).empty());
}

TEST(OverflowGuards, CatchWritesBeforeAndAfterABuffer) {
  take_overflow_reports();
  set_overflow_guards(true);
  {
    Tensor t = Tensor::zeros({3});
    t.data<float>()[3] = 1;  // one past the end
  }
  {
    Tensor t = Tensor::zeros({16});
    t.data<float>()[-1] = 1;  // one before the start
  }
  { Tensor t = Tensor::zeros({5}); t.data<float>()[4] = 2; }  // in bounds: no report
  set_overflow_guards(false);
  auto r = take_overflow_reports();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NE(r[0].find("past the end of a 12-byte cpu buffer"), std::string::npos) << r[0];
  EXPECT_NE(r[1].find("before the start of a 64-byte cpu buffer"), std::string::npos) << r[1];
}

TEST(StridedOffset, MatchesTheTensorsOwnStrides) {
  // The host/device index arithmetic the CUDA copy and accumulate kernels use.
  Tensor a = Tensor::arange(2 * 3 * 4).view_reshape({2, 3, 4}).view_permute({2, 0, 1}).view_slice(2, 1, 3);
  const int64_t n = a.numel();
  auto v = a.to_vector();
  const float* base = a.data<float>();
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(base[strided_offset(i, (int)a.dim(), a.shape().data(), a.strides().data())], (float)v[(size_t)i]) << i;
}

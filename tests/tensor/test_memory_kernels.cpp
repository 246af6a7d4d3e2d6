// The CPU memory kernels (fill, copy, accumulate) and the strided elementwise path at sizes large
// enough to be split across threads (tensor/cpu/strided.h parallel_runs): values against index
// formulas, and bitwise equality for 1, 2 and 3 threads. The op harness covers these kernels only at
// toy sizes, where they run on one thread.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/cpu/parallel.h"
#include "tensor/kernels.h"

using namespace gb;

namespace {

struct ThreadsGuard {
  int prev = gb::cpu::num_threads();
  ~ThreadsGuard() { gb::cpu::set_num_threads(prev); }
};

// x[n, c, h, w] = n * 1e6 + c * 1e4 + h * 100 + w, as f32 (exact below 2^24).
Tensor indexed(const Shape& s) {
  Tensor t = Tensor::empty(s, DType::F32);
  float* p = t.data<float>();
  int64_t i = 0;
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t h = 0; h < s[2]; ++h)
        for (int64_t w = 0; w < s[3]; ++w) p[i++] = (float)(n * 1000000 + c * 10000 + h * 100 + w);
  return t;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.contiguous().data<float>(), b.contiguous().data<float>(), (size_t)a.numel() * 4) == 0;
}

// Runs f at 1, 2 and 3 threads; every result must be bitwise the 1-thread one.
void expect_thread_invariant(const std::function<Tensor()>& f, const char* what) {
  ThreadsGuard g;
  gb::cpu::set_num_threads(1);
  const Tensor ref = f();
  for (int t : {2, 3}) {
    gb::cpu::set_num_threads(t);
    EXPECT_TRUE(same_bits(ref, f())) << what << " differs at " << t << " threads";
  }
}

const Shape kShape = {3, 40, 33, 35};  // 138,600 elements: several threads' worth

}  // namespace

TEST(MemoryKernels, PermutedCopyMatchesIndexFormula) {
  ThreadsGuard g;
  gb::cpu::set_num_threads(2);
  const Tensor x = indexed(kShape);
  const Tensor p = x.view_permute({0, 2, 3, 1});  // [3, 33, 35, 40], strided
  const Tensor y = p.contiguous();
  ASSERT_EQ(y.shape(), (Shape{3, 33, 35, 40}));
  const float* yp = y.data<float>();
  int64_t i = 0, bad = 0;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t h = 0; h < 33; ++h)
      for (int64_t w = 0; w < 35; ++w)
        for (int64_t c = 0; c < 40; ++c, ++i)
          bad += yp[i] != (float)(n * 1000000 + c * 10000 + h * 100 + w);
  EXPECT_EQ(bad, 0);
  expect_thread_invariant([&] { return p.contiguous(); }, "permuted copy");
}

TEST(MemoryKernels, FillOfASliceTouchesOnlyTheSlice) {
  ThreadsGuard g;
  for (int t : {1, 2, 3}) {
    gb::cpu::set_num_threads(t);
    Tensor x = indexed(kShape);
    Tensor s = x.view_slice(1, 5, 30);  // channels 5..29 of every image: strided
    s.fill(-2.5);
    const float* p = x.data<float>();
    int64_t i = 0, bad = 0;
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t c = 0; c < 40; ++c)
        for (int64_t h = 0; h < 33; ++h)
          for (int64_t w = 0; w < 35; ++w, ++i) {
            const float want = (c >= 5 && c < 30) ? -2.5f : (float)(n * 1000000 + c * 10000 + h * 100 + w);
            bad += p[i] != want;
          }
    EXPECT_EQ(bad, 0) << t << " threads";
  }
}

TEST(MemoryKernels, ZeroFillIsPositiveZeroAndNegativeZeroIsKept) {
  Tensor a = Tensor::full(kShape, 3.0, DType::F32);
  a.fill(0.0);
  Tensor b = Tensor::full(kShape, 3.0, DType::F32);
  b.fill(-0.0);
  int64_t bad = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    bad += std::signbit(a.data<float>()[i]) || a.data<float>()[i] != 0.f;
    bad += !std::signbit(b.data<float>()[i]);
  }
  EXPECT_EQ(bad, 0);
}

TEST(MemoryKernels, AccumulateIntoAStridedViewAndBroadcastAdd) {
  const Tensor x = indexed(kShape);
  const Tensor bias = Tensor::arange(40, DType::F32).view_reshape({1, 40, 1, 1});
  // y = x + bias (broadcast: the strided binary path), then into a transposed view of z: z^T += y.
  auto run = [&] {
    Tensor y;
    {
      NoGradGuard ng;
      y = add(x, bias);
    }
    Tensor z = Tensor::ones({3, 40, 35, 33}, DType::F32);
    Tensor zt = z.view_permute({0, 1, 3, 2});  // [3, 40, 33, 35] view of z
    kern::accumulate(zt, y);
    return z;
  };
  ThreadsGuard g;
  gb::cpu::set_num_threads(2);
  const Tensor z = run();
  const float* p = z.data<float>();
  int64_t bad = 0;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t c = 0; c < 40; ++c)
      for (int64_t w = 0; w < 35; ++w)
        for (int64_t h = 0; h < 33; ++h)
          bad += p[((n * 40 + c) * 35 + w) * 33 + h] != 1.f + (float)(n * 1000000 + c * 10000 + h * 100 + w) + (float)c;
  EXPECT_EQ(bad, 0);
  expect_thread_invariant(run, "broadcast add + strided accumulate");
}

TEST(MemoryKernels, DtypeConvertingCopy) {
  const Tensor x = indexed(kShape);
  ThreadsGuard g;
  gb::cpu::set_num_threads(2);
  const Tensor d = x.to(DType::F64);
  const Tensor back = d.to(DType::F32);
  EXPECT_TRUE(same_bits(x, back));
  EXPECT_EQ(d.data<double>()[d.numel() - 1], (double)x.data<float>()[x.numel() - 1]);
}

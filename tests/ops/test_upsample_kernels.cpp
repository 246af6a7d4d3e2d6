// The separable resampling kernels against the element-by-element reference (tensor/cpu/upsample.h):
// forward bitwise equal, backward equal to rounding, both bitwise equal for 1, 2 and 3 threads, at
// decoder-like sizes (the harness checks toy sizes and gradients).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/cpu/parallel.h"
#include "tensor/cpu/upsample.h"
#include "tensor/philox.h"
#include "tensor/tensor.h"

using namespace gb;

namespace {

struct Case {
  int64_t planes, D, H, W, OD, OH, OW;
  bool align;
};

UpsampleGeom geom(const Case& c) {
  UpsampleGeom g;
  g.planes = c.planes;
  g.in = {c.D, c.H, c.W};
  g.out = {c.OD, c.OH, c.OW};
  g.align_corners = c.align;
  return g;
}

std::vector<float> noise(int64_t n, uint64_t seed) {
  Tensor t = Tensor::empty({n}, DType::F32);
  Generator g(seed);
  g.uniform_(t, -1, 1);
  return std::vector<float>(t.data<float>(), t.data<float>() + n);
}

const Case kCases[] = {
    {12, 1, 16, 16, 1, 32, 32, true},    // TransUNet decoder x2, align_corners
    {5, 1, 9, 13, 1, 20, 27, false},     // odd sizes, half-pixel
    {3, 1, 20, 17, 1, 7, 5, false},      // downsampling
    {4, 3, 5, 6, 6, 10, 12, false},      // trilinear
    {2, 4, 4, 4, 2, 9, 3, true},         // trilinear, mixed up/down
};

}  // namespace

TEST(UpsampleKernels, ForwardIsBitwiseTheReferenceAtAnyThreadCount) {
  const int prev = gb::cpu::num_threads();
  for (const Case& c : kCases) {
    const UpsampleGeom g = geom(c);
    const std::vector<float> x = noise(c.planes * c.D * c.H * c.W, 3);
    std::vector<float> ref((size_t)(c.planes * c.OD * c.OH * c.OW));
    gb::cpu::upsample_linear_forward_ref<float>(g, x.data(), ref.data());
    for (int t : {1, 2, 3}) {
      gb::cpu::set_num_threads(t);
      std::vector<float> y(ref.size(), NAN);
      gb::cpu::upsample_linear_forward<float>(g, x.data(), y.data());
      EXPECT_EQ(std::memcmp(y.data(), ref.data(), y.size() * sizeof(float)), 0)
          << "case " << c.H << "x" << c.W << " -> " << c.OH << "x" << c.OW << " at " << t << " threads";
    }
  }
  gb::cpu::set_num_threads(prev);
}

TEST(UpsampleKernels, BackwardMatchesTheReferenceAndIsThreadInvariant) {
  const int prev = gb::cpu::num_threads();
  for (const Case& c : kCases) {
    const UpsampleGeom g = geom(c);
    const int64_t in_n = c.planes * c.D * c.H * c.W;
    const std::vector<float> gy = noise(c.planes * c.OD * c.OH * c.OW, 5);
    const std::vector<float> start = noise(in_n, 9);  // gx accumulates: start from non-zero
    std::vector<double> gy64(gy.begin(), gy.end()), ref(start.begin(), start.end());
    gb::cpu::upsample_linear_backward_ref<double>(g, gy64.data(), ref.data());
    std::vector<float> first;
    for (int t : {1, 2, 3}) {
      gb::cpu::set_num_threads(t);
      std::vector<float> gx = start;
      gb::cpu::upsample_linear_backward<float>(g, gy.data(), gx.data());
      double worst = 0;
      for (int64_t i = 0; i < in_n; ++i) worst = std::max(worst, std::abs((double)gx[(size_t)i] - ref[(size_t)i]));
      EXPECT_LT(worst, 1e-5) << "case " << c.H << "x" << c.W << " -> " << c.OH << "x" << c.OW;
      if (first.empty())
        first = gx;
      else
        EXPECT_EQ(std::memcmp(gx.data(), first.data(), gx.size() * sizeof(float)), 0) << t << " threads";
    }
  }
  gb::cpu::set_num_threads(prev);
}

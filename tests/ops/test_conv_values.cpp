// Hand-computed values for conv2d/conv3d, weight_standardize, max_pool and linear upsampling (the
// harness checks gradients and backend agreement; these check the forward maths itself, including
// torch's coordinate conventions), errors for bad shapes, thread-count independence, and the
// direct kernels on every instruction set against the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/cpu/conv.h"
#include "tensor/cpu/conv_direct.h"
#include "tensor/cpu/conv_winograd.h"
#include "tensor/cpu/gemm_kernels.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/cpu/parallel.h"

using namespace gb;

namespace {

// x[i, j] = 4 i + j on a 4x4 image: [1, 1, 4, 4].
Tensor ramp4x4(DType dt = DType::F64) {
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[i] = i;
  return Tensor::from_vector(v, {1, 1, 4, 4}).to(dt);
}

void expect_values(const Tensor& t, const Shape& shape, const std::vector<double>& want, double tol = 1e-12) {
  ASSERT_EQ(t.shape(), shape) << t.desc();
  auto got = t.to_vector();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// Runs `body` once with the reference kernels and once with the optimised ones.
void both_modes(const std::function<void()>& body) {
  for (bool ref : {true, false}) {
    SCOPED_TRACE(ref ? "reference kernels" : "optimised kernels");
    cpu::ReferenceKernelsGuard g(ref);
    body();
  }
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no gb::Error thrown";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "message '" << m << "' lacks '" << p << "'";
  }
}

Conv2dOpts opts2(int64_t stride, int64_t pad) {
  Conv2dOpts o;
  o.stride = {stride, stride};
  o.padding = {pad, pad};
  return o;
}

}  // namespace

// ---------------------------------------------------------------- conv2d
TEST(ConvValues, Ones3x3On4x4WithBiasAndGradients) {
  both_modes([] {
    for (DType dt : {DType::F32, DType::F64}) {
      Tensor x = ramp4x4(dt).set_requires_grad(true);
      Tensor w = Tensor::ones({1, 1, 3, 3}, dt).set_requires_grad(true);
      Tensor b = Tensor::full({1}, 1.0, dt).set_requires_grad(true);
      Tensor y = conv2d(x, w, b);
      // Window sums: 0+1+2+4+5+6+8+9+10 = 45, shifted right +9, down +36; plus bias 1.
      expect_values(y, {1, 1, 2, 2}, {46, 55, 82, 91});
      y.backward(Tensor::ones(y.shape(), dt));
      // gx = how many windows cover each pixel.
      expect_values(x.grad(), {1, 1, 4, 4}, {1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1});
      // gw[a, b] = x(a,b) + x(a,b+1) + x(a+1,b) + x(a+1,b+1) = 16 a + 4 b + 10.
      expect_values(w.grad(), {1, 1, 3, 3}, {10, 14, 18, 26, 30, 34, 42, 46, 50});
      expect_values(b.grad(), {1}, {4});
    }
  });
}

TEST(ConvValues, SobelStride2Pad1) {
  both_modes([] {
    // Horizontal Sobel [[1,0,-1],[2,0,-2],[1,0,-1]]; zero padding; windows centred at (0,0), (0,2),
    // (2,0), (2,2). E.g. centre (0,0): 2*x(0,-1) - 2*x(0,1) + x(1,-1) - x(1,1) = -2 - 5 = -7.
    Tensor w = Tensor::from_vector(std::vector<double>{1, 0, -1, 2, 0, -2, 1, 0, -1}, {1, 1, 3, 3});
    Tensor y = conv2d(ramp4x4(), w, Tensor(), opts2(2, 1));
    expect_values(y, {1, 1, 2, 2}, {-7, -6, -36, -8});
    // Same kernel stride 1 no padding: the interior derivative is -8 everywhere.
    expect_values(conv2d(ramp4x4(), w, Tensor()), {1, 1, 2, 2}, {-8, -8, -8, -8});
  });
}

TEST(ConvValues, GroupsDilationAndOutputSizes) {
  both_modes([] {
    // Two channels (ramp and 10 * ramp), groups 2, centre-tap kernels scaled 1 and 2: channel-wise.
    Tensor r = ramp4x4();
    Tensor x = concat({r, mul_scalar(r, 10)}, 1);  // [1,2,4,4]
    Tensor w = Tensor::zeros({2, 1, 3, 3}, DType::F64);
    w.data<double>()[4] = 1;
    w.data<double>()[9 + 4] = 2;
    Conv2dOpts o = opts2(1, 1);
    o.groups = 2;
    Tensor y = conv2d(x, w, Tensor(), o);
    ASSERT_EQ(y.shape(), (Shape{1, 2, 4, 4}));
    EXPECT_DOUBLE_EQ(y.at({0, 0, 2, 3}), 11);
    EXPECT_DOUBLE_EQ(y.at({0, 1, 2, 3}), 220);
    // Dilation 2 with a 2x2 ones kernel reads x(i,j) + x(i,j+2) + x(i+2,j) + x(i+2,j+2) = 4 x(i,j) + 20.
    Conv2dOpts d;
    d.dilation = {2, 2};
    expect_values(conv2d(ramp4x4(), Tensor::ones({1, 1, 2, 2}, DType::F64), Tensor(), d), {1, 1, 2, 2},
                  {20, 24, 36, 40});
    // ResNet root geometry: 7x7 stride 2 pad 3 halves 224 -> 112.
    NoGradGuard ng;
    Tensor img = Tensor::zeros({1, 3, 224, 224});
    Tensor wr = Tensor::zeros({4, 3, 7, 7});
    EXPECT_EQ(conv2d(img, wr, Tensor(), opts2(2, 3)).shape(), (Shape{1, 4, 112, 112}));
  });
}

TEST(ConvValues, Conv3dOnesKernel) {
  both_modes([] {
    std::vector<double> v(8);
    for (int i = 0; i < 8; ++i) v[i] = i;
    Tensor x = Tensor::from_vector(v, {1, 1, 2, 2, 2});
    Tensor w = Tensor::ones({1, 1, 2, 2, 2}, DType::F64);
    expect_values(conv3d(x, w, Tensor::full({1}, 0.5, DType::F64)), {1, 1, 1, 1, 1}, {28.5});
    // Padding 1: the corner output (0,0,0) sees only x(0,0,0) = 0; the far corner sees only x(1,1,1) = 7.
    Conv3dOpts o;
    o.padding = {1, 1, 1};
    Tensor y = conv3d(x, w, Tensor(), o);
    ASSERT_EQ(y.shape(), (Shape{1, 1, 3, 3, 3}));
    EXPECT_DOUBLE_EQ(y.at({0, 0, 0, 0, 0}), 0);
    EXPECT_DOUBLE_EQ(y.at({0, 0, 2, 2, 2}), 7);
    EXPECT_DOUBLE_EQ(y.at({0, 0, 1, 1, 1}), 28);
  });
}

// ---------------------------------------------------------------- weight standardisation
TEST(ConvValues, WeightStandardize) {
  // Row [1,2,3,4]: mean 2.5, biased var 1.25. Row [5,5,5,7]: mean 5.5, var 0.75.
  Tensor w = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 5, 5, 7}, {2, 1, 2, 2});
  const double s1 = std::sqrt(1.25), s2 = std::sqrt(0.75);
  expect_values(weight_standardize(w, 0.0), {2, 1, 2, 2},
                {-1.5 / s1, -0.5 / s1, 0.5 / s1, 1.5 / s1, -0.5 / s2, -0.5 / s2, -0.5 / s2, 1.5 / s2});
  const double e1 = std::sqrt(1.25 + 1e-5);
  EXPECT_NEAR(weight_standardize(w).at({0, 0, 0, 0}), -1.5 / e1, 1e-15);
  // Invariant to a positive scale and shift of each row (up to eps).
  Tensor w2 = add_scalar(mul_scalar(w, 3.0), -2.0);
  auto a = weight_standardize(w, 0.0).to_vector(), b = weight_standardize(w2, 0.0).to_vector();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12);
}

// ---------------------------------------------------------------- max pooling
TEST(PoolValues, MaxPool2dValuesPaddingAndTies) {
  // Increasing ramp: 2x2/2 picks each window's bottom-right.
  Tensor x = ramp4x4().set_requires_grad(true);
  Tensor y = max_pool2d(x, {2, 2}, {2, 2});
  expect_values(y, {1, 1, 2, 2}, {5, 7, 13, 15});
  y.backward(Tensor::ones(y.shape(), DType::F64));
  expect_values(x.grad(), {1, 1, 4, 4}, {0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1});
  // Negative ramp with 3x3/2 pad 1: padding is -inf, so windows pick real (negative) values, not 0.
  Tensor n = mul_scalar(ramp4x4(), -1.0);
  expect_values(max_pool2d(n, {3, 3}, {2, 2}, {1, 1}), {1, 1, 2, 2}, {0, -1, -4, -5});
  // Ties: all-equal input sends each window's gradient to its first element.
  Tensor z = Tensor::zeros({1, 1, 4, 4}, DType::F64).set_requires_grad(true);
  Tensor yz = max_pool2d(z, {2, 2}, {2, 2});
  yz.backward(Tensor::ones(yz.shape(), DType::F64));
  expect_values(z.grad(), {1, 1, 4, 4}, {1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0});
  // TransUNet's root pool: 3x3/2 pad 0 takes 112 -> 55.
  NoGradGuard ng;
  EXPECT_EQ(max_pool2d(Tensor::zeros({1, 2, 112, 112}), {3, 3}, {2, 2}).shape(), (Shape{1, 2, 55, 55}));
}

TEST(PoolValues, MaxPool3d) {
  std::vector<double> v(27);
  for (int i = 0; i < 27; ++i) v[i] = (i * 7) % 27;  // a permutation of 0..26; 26 sits at i = 23
  Tensor x = Tensor::from_vector(v, {1, 1, 3, 3, 3});
  expect_values(max_pool3d(x, {3, 3, 3}, {1, 1, 1}), {1, 1, 1, 1, 1}, {26});
  // 2x2x2/1: the window at (0,0,0) covers i in {0,1,3,4,9,10,12,13} -> values {0,7,21,1,9,16,3,10}.
  EXPECT_DOUBLE_EQ(max_pool3d(x, {2, 2, 2}, {1, 1, 1}).at({0, 0, 0, 0, 0}), 21);
}

// ---------------------------------------------------------------- upsampling
TEST(UpsampleValues, Bilinear2x2To4x4BothCornerModes) {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {1, 1, 2, 2});
  // align_corners=True: src = dst * (2-1)/(4-1) = 0, 1/3, 2/3, 1.
  const double t = 1.0 / 3.0;
  expect_values(upsample_bilinear2d(x, 4, 4, true), {1, 1, 4, 4},
                {1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t, 2 + t, 2 + 2 * t, 3, 3 + t, 3, 3 + t,
                 3 + 2 * t, 4});
  // align_corners=False: src = (dst + 0.5) * 2/4 - 0.5 = -0.25 -> 0, 0.25, 0.75, 1.25 -> clamped at 1.
  expect_values(upsample_bilinear2d(x, 4, 4, false), {1, 1, 4, 4},
                {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  // Gradient of the sum: by symmetry each input gets 16 / 4.
  Tensor xg = x.detach().set_requires_grad(true);
  Tensor y = upsample_bilinear2d(xg, 4, 4, false);
  y.backward(Tensor::ones(y.shape(), DType::F64));
  expect_values(xg.grad(), {1, 1, 2, 2}, {4, 4, 4, 4});
}

TEST(UpsampleValues, NonIntegerRatios) {
  Tensor x = Tensor::from_vector(std::vector<double>{0, 10, 20}, {1, 1, 1, 3});
  // 3 -> 5 half-pixel: scale 0.6, src = -0.2 -> 0, 0.4, 1.0, 1.6, 2.2 -> clamped at 2.
  expect_values(upsample_bilinear2d(x, 1, 5, false), {1, 1, 1, 5}, {0, 4, 10, 16, 20});
  // 3 -> 5 align_corners: src = 0, 0.5, 1, 1.5, 2.
  expect_values(upsample_bilinear2d(x, 1, 5, true), {1, 1, 1, 5}, {0, 5, 10, 15, 20});
  // 7 -> 3 half-pixel: scale 7/3, src = 2/3, 3, 16/3 on x = 0..6.
  Tensor r = Tensor::arange(7, DType::F64).view_reshape({1, 1, 1, 7});
  expect_values(upsample_bilinear2d(r, 1, 3, false), {1, 1, 1, 3}, {2.0 / 3.0, 3, 16.0 / 3.0});
  expect_values(upsample_bilinear2d(r, 1, 3, true), {1, 1, 1, 3}, {0, 3, 6});
  // Gradient of 3 -> 5 half-pixel: x0 gets 1 + 0.6, x1 gets 0.4 + 1 + 0.4, x2 gets 0.6 + 1.
  Tensor xg = x.detach().set_requires_grad(true);
  Tensor y = upsample_bilinear2d(xg, 1, 5, false);
  y.backward(Tensor::ones(y.shape(), DType::F64));
  expect_values(xg.grad(), {1, 1, 1, 3}, {1.6, 1.8, 1.6});
}

TEST(UpsampleValues, TrilinearMatchesBilinearPerSlice) {
  // A depth-constant volume upsampled in H, W only equals bilinear per slice; depth 2 -> 3
  // (align_corners) on slices a, b gives a, (a + b) / 2, b.
  Tensor s = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {1, 1, 1, 2, 2});
  Tensor v = concat({s, mul_scalar(s, 3.0)}, 2);  // [1,1,2,2,2]
  Tensor y = upsample_trilinear3d(v, 3, 4, 4, true);
  Tensor b = upsample_bilinear2d(s.view_reshape({1, 1, 2, 2}), 4, 4, true);
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t w = 0; w < 4; ++w) {
      EXPECT_NEAR(y.at({0, 0, 0, h, w}), b.at({0, 0, h, w}), 1e-12);
      EXPECT_NEAR(y.at({0, 0, 1, h, w}), 2 * b.at({0, 0, h, w}), 1e-12);
      EXPECT_NEAR(y.at({0, 0, 2, h, w}), 3 * b.at({0, 0, h, w}), 1e-12);
    }
}

// ---------------------------------------------------------------- errors
TEST(ConvErrors, BadShapesNameOpAndShapes) {
  Tensor x = Tensor::zeros({2, 3, 7, 7});
  expect_error([&] { conv2d(x, Tensor::zeros({8, 4, 3, 3}), Tensor()); },
               {"conv2d:", "3 channels", "expects 4", "[2,3,7,7]", "[8,4,3,3]"});
  expect_error([&] { conv2d(Tensor::zeros({1, 1, 2, 2}), Tensor::zeros({1, 1, 5, 5}), Tensor(), opts2(1, 1)); },
               {"conv2d:", "larger than the padded input", "[1,1,2,2]", "[1,1,5,5]"});
  Conv2dOpts g2;
  g2.groups = 2;
  expect_error([&] { conv2d(x, Tensor::zeros({4, 1, 3, 3}), Tensor(), g2); },
               {"conv2d:", "groups 2 does not divide the 3 input channels", "[2,3,7,7]"});
  expect_error([&] { conv2d(Tensor::zeros({2, 4, 7, 7}), Tensor::zeros({3, 2, 3, 3}), Tensor(), g2); },
               {"conv2d:", "does not divide the 3 output channels"});
  expect_error([&] { conv2d(x, Tensor::zeros({8, 3, 3, 3}), Tensor::zeros({7})); }, {"conv2d:", "bias must be [8]"});
  expect_error([&] { conv2d(Tensor::zeros({3, 7, 7}), Tensor::zeros({8, 3, 3, 3}), Tensor()); },
               {"conv2d:", "4 dims", "[3,7,7]"});
  expect_error([&] { conv2d(x, Tensor::zeros({8, 3, 3, 3}, DType::F64), Tensor()); }, {"conv2d"});
  Conv2dOpts s0;
  s0.stride = {0, 1};
  expect_error([&] { conv2d(x, Tensor::zeros({8, 3, 3, 3}), Tensor(), s0); }, {"conv2d:", "stride >= 1"});
  expect_error([&] { conv3d(Tensor::zeros({1, 2, 3, 3, 3}), Tensor::zeros({1, 3, 1, 1, 1}), Tensor()); },
               {"conv3d:", "2 channels", "[1,2,3,3,3]", "[1,3,1,1,1]"});
  expect_error([&] { weight_standardize(Tensor::zeros({0, 3})); }, {"weight_standardize:", "[0,3]"});
}

TEST(PoolErrors, BadArguments) {
  Tensor x = Tensor::zeros({1, 1, 5, 5});
  expect_error([&] { max_pool2d(x, {3, 3}, {2, 2}, {2, 2}); }, {"max_pool2d:", "at most half the kernel", "[1,1,5,5]"});
  expect_error([&] { max_pool2d(x, {7, 7}, {1, 1}); }, {"max_pool2d:", "larger than the padded input"});
  expect_error([&] { max_pool2d(x, {3, 3}, {0, 1}); }, {"max_pool2d:", "stride >= 1"});
  expect_error([&] { max_pool3d(x, {2, 2, 2}, {2, 2, 2}); }, {"max_pool3d:", "5 dims", "[1,1,5,5]"});
  expect_error([&] { upsample_bilinear2d(x, 0, 4, false); }, {"upsample_bilinear2d:", "output size 0"});
  expect_error([&] { upsample_trilinear3d(x, 2, 2, 2, true); }, {"upsample_trilinear3d:", "5 dims"});
}

// ---------------------------------------------------------------- determinism
// Optimised conv (forward, grad x, grad w, grad bias), pool and upsampling give bitwise identical
// results for 1, 2 and 3 threads.
TEST(ConvDeterminism, BitwiseAcrossThreadCounts) {
  const int saved = cpu::num_threads();
  auto run = [](int threads) {
    cpu::set_num_threads(threads);
    cpu::ReferenceKernelsGuard opt(false);
    Tensor x = Tensor::arange(2 * 6 * 13 * 17).view_reshape({2, 6, 13, 17});
    x = mul_scalar(add_scalar(x, -1000.0), 1e-3).detach().set_requires_grad(true);
    Tensor w = mul_scalar(Tensor::arange(8 * 3 * 3 * 3).view_reshape({8, 3, 3, 3}), 0.01).detach().set_requires_grad(true);
    Tensor b = Tensor::full({8}, 0.25).set_requires_grad(true);
    Conv2dOpts o = opts2(2, 1);
    o.groups = 2;
    Tensor y = conv2d(x, w, b, o);
    Tensor p = max_pool2d(y, {3, 3}, {2, 2}, {1, 1});
    Tensor u = upsample_bilinear2d(p, 11, 9, false);
    Tensor loss = sum(mul(u, u));
    loss.backward();
    std::vector<std::vector<float>> out = {y.to_vector_as<float>(), u.to_vector_as<float>(),
                                           x.grad().to_vector_as<float>(), w.grad().to_vector_as<float>(),
                                           b.grad().to_vector_as<float>()};
    return out;
  };
  auto one = run(1);
  for (int t : {2, 3}) {
    auto other = run(t);
    for (size_t k = 0; k < one.size(); ++k) {
      ASSERT_EQ(one[k].size(), other[k].size());
      EXPECT_EQ(0, std::memcmp(one[k].data(), other[k].data(), one[k].size() * sizeof(float)))
          << "buffer " << k << " differs with " << t << " threads";
    }
  }
  cpu::set_num_threads(saved);
}

// ---------------------------------------------------------------- tiling
// With a tiny col budget the optimised path runs one output row per tile (the branch large volumes
// take); forward and all gradients must still match the reference loops.
TEST(ConvTiling, MultiTileMatchesReference) {
  struct Case {
    Shape x, w;
    Conv3dOpts o;
  };
  Conv3dOpts strided;
  strided.stride = {1, 2, 2};
  strided.padding = {1, 1, 1};
  Conv3dOpts grouped;
  grouped.padding = {1, 2, 2};
  grouped.dilation = {1, 2, 2};
  grouped.groups = 2;
  const std::vector<Case> cases = {{{2, 2, 3, 7, 9}, {3, 2, 3, 3, 3}, strided}, {{1, 4, 2, 6, 5}, {4, 2, 1, 3, 3}, grouped}};
  const int64_t saved = cpu::conv_tile_elems();
  for (const auto& c : cases) {
    std::vector<std::vector<double>> res[2];
    for (int ref = 0; ref < 2; ++ref) {
      cpu::ReferenceKernelsGuard mode(ref == 1);
      cpu::set_conv_tile_elems(ref ? saved : 1);
      Tensor x = add_scalar(mul_scalar(Tensor::arange(numel(c.x), DType::F64), 0.37), -3.0);
      x = x.view_reshape(c.x).detach().set_requires_grad(true);
      Tensor w = mul_scalar(Tensor::arange(numel(c.w), DType::F64), -0.05).view_reshape(c.w).detach().set_requires_grad(true);
      Tensor b = Tensor::full({c.w[0]}, 0.5, DType::F64).set_requires_grad(true);
      Tensor y = conv3d(x, w, b, c.o);
      Tensor r = mul_scalar(Tensor::arange(y.numel(), DType::F64), 0.01).view_reshape(y.shape());
      y.backward(r);
      res[ref] = {y.to_vector(), x.grad().to_vector(), w.grad().to_vector(), b.grad().to_vector()};
    }
    for (size_t k = 0; k < 4; ++k) {
      ASSERT_EQ(res[0][k].size(), res[1][k].size());
      for (size_t i = 0; i < res[0][k].size(); ++i)
        ASSERT_NEAR(res[0][k][i], res[1][k][i], 1e-9 * (1 + std::fabs(res[1][k][i]))) << "buffer " << k << " at " << i;
    }
  }
  cpu::set_conv_tile_elems(saved);
}

// ---------------------------------------------------------------- direct kernels
// The direct path (tensor/cpu/conv_direct.h) on raw buffers, forced on (ConvAlgo::Direct), for
// every instruction set this CPU has (the SGEMM path switch also picks the direct kernels:
// AVX-512, AVX2, and Reference = the portable kernels), f32 and f64, against the reference loops
// computed in f64. Gradients go into pre-filled buffers (the += contract).
namespace {

struct DirectCase {
  const char* name;
  int64_t N, C, O, H, W, KH, KW, sh, sw, ph, pw, dh, dw;
  bool bias;
};
const DirectCase kDirectCases[] = {
    {"3x3 pad 1 [2,8,13,37] -> 3, bias", 2, 8, 3, 13, 37, 3, 3, 1, 1, 1, 1, 1, 1, true},
    {"3x3 pad 1 [1,16,9,20] -> 8", 1, 16, 8, 9, 20, 3, 3, 1, 1, 1, 1, 1, 1, false},
    {"3x3 pad 0 [3,5,6,19] -> 10, bias", 3, 5, 10, 6, 19, 3, 3, 1, 1, 0, 0, 1, 1, true},
    {"3x3 pad 1 [1,3,4,41] -> 17 (uneven blocks)", 1, 3, 17, 4, 41, 3, 3, 1, 1, 1, 1, 1, 1, true},
    {"3x3 pad 2 [1,4,5,17] -> 2", 1, 4, 2, 5, 17, 3, 3, 1, 1, 2, 2, 1, 1, false},
    {"3x3 pad 1 [4,16,24,64] -> 8 (row blocks)", 4, 16, 8, 24, 64, 3, 3, 1, 1, 1, 1, 1, 1, false},
    {"7x7 stride 2 pad 3 [2,3,22,40] -> 16 (root)", 2, 3, 16, 22, 40, 7, 7, 2, 2, 3, 3, 1, 1, false},
    {"3x3 stride (1,2) pad 1 [1,4,6,33] -> 5", 1, 4, 5, 6, 33, 3, 3, 1, 2, 1, 1, 1, 1, true},
    {"3x3 stride (2,1) pad 1 [1,4,9,18] -> 5", 1, 4, 5, 9, 18, 3, 3, 2, 1, 1, 1, 1, 1, false},
    {"3x3 dilation (2,3) pad (2,3) [1,3,7,26] -> 4", 1, 3, 4, 7, 26, 3, 3, 1, 1, 2, 3, 2, 3, true},
    {"5x5 pad 2 [2,2,6,30] -> 9", 2, 2, 9, 6, 30, 5, 5, 1, 1, 2, 2, 1, 1, false},
    {"1x1 [2,6,3,23] -> 4, bias", 2, 6, 4, 3, 23, 1, 1, 1, 1, 0, 0, 1, 1, true},
    {"3x3 pad 1 [1,2,3,3] -> 1 (narrower than a vector)", 1, 2, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, true},
};

cpu::ConvGeom direct_geom(const DirectCase& c) {
  cpu::ConvGeom g;
  g.N = c.N;
  g.C = c.C;
  g.O = c.O;
  g.in = {1, c.H, c.W};
  g.k = {1, c.KH, c.KW};
  g.stride = {1, c.sh, c.sw};
  g.pad = {0, c.ph, c.pw};
  g.dil = {1, c.dh, c.dw};
  for (int d = 0; d < 3; ++d) g.out[d] = cpu::conv_out_size(g.in[d], g.k[d], g.stride[d], g.pad[d], g.dil[d]);
  return g;
}

std::vector<double> uniform_values(size_t n, uint64_t seed) {
  std::vector<double> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
  for (auto& x : v) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x = (double)(s >> 11) / (double)(1ull << 53) * 2.0 - 1.0;
  }
  return v;
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// Forward and all gradients of one case in T: the reference loops, or the optimised kernels (the
// algorithm conv_algo says).
template <class T>
std::vector<std::vector<double>> run_conv(const cpu::ConvGeom& g, bool bias, bool reference = false) {
  const size_t nx = (size_t)(g.N * g.C * g.in_size()), nw = (size_t)(g.O * g.C * g.k_size());
  const size_t ny = (size_t)(g.N * g.O * g.out_size());
  auto x = cast<T>(uniform_values(nx, 1)), w = cast<T>(uniform_values(nw, 2)), b = cast<T>(uniform_values((size_t)g.O, 3));
  auto gy = cast<T>(uniform_values(ny, 4));
  auto gx = cast<T>(uniform_values(nx, 5)), gw = cast<T>(uniform_values(nw, 6)), gb = cast<T>(uniform_values((size_t)g.O, 7));
  std::vector<T> y(ny, T(0));
  if (reference) {
    cpu::conv_forward_ref<T>(g, x.data(), w.data(), bias ? b.data() : nullptr, y.data());
    cpu::conv_backward_ref<T>(g, x.data(), w.data(), gy.data(), gx.data(), gw.data(), bias ? gb.data() : nullptr);
  } else {
    cpu::conv_forward<T>(g, x.data(), w.data(), bias ? b.data() : nullptr, y.data());
    cpu::conv_backward<T>(g, x.data(), w.data(), gy.data(), gx.data(), gw.data(), bias ? gb.data() : nullptr);
  }
  return {std::vector<double>(y.begin(), y.end()), std::vector<double>(gx.begin(), gx.end()),
          std::vector<double>(gw.begin(), gw.end()), std::vector<double>(gb.begin(), gb.end())};
}

void expect_close(const std::vector<std::vector<double>>& got, const std::vector<std::vector<double>>& want,
                  double rtol, const std::string& what) {
  const char* names[] = {"y", "gx", "gw", "gbias"};
  for (size_t k = 0; k < want.size(); ++k) {
    ASSERT_EQ(got[k].size(), want[k].size());
    double scale = 1;
    for (double v : want[k]) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < want[k].size(); ++i)
      ASSERT_NEAR(got[k][i], want[k][i], rtol * scale) << what << ": " << names[k] << " at " << i;
  }
}

}  // namespace

TEST(ConvDirect, MatchesReferenceOnEveryInstructionSet) {
  std::vector<cpu::GemmPath> paths = {cpu::GemmPath::Reference};
  if (cpu::cpu_has_avx2_fma()) paths.push_back(cpu::GemmPath::AVX2);
  if (cpu::cpu_has_avx512()) paths.push_back(cpu::GemmPath::AVX512);
  const cpu::GemmPath saved = cpu::gemm_path();
  for (const auto& c : kDirectCases) {
    const cpu::ConvGeom g = direct_geom(c);
    const auto want = run_conv<double>(g, c.bias, /*reference=*/true);
    for (cpu::GemmPath path : paths) {
      cpu::set_gemm_path(path);
      cpu::ConvAlgoGuard direct(cpu::ConvAlgo::Direct);
      cpu::reset_conv_direct_counts();
      const std::string what = std::string(c.name) + " on " + cpu::gemm_path_name(path);
      expect_close(run_conv<float>(g, c.bias), want, 2e-5, what + " f32");
      expect_close(run_conv<double>(g, c.bias), want, 1e-12, what + " f64");
      const cpu::ConvDirectCounts n = cpu::conv_direct_counts();
      EXPECT_EQ(n.forward, 2) << what;
      EXPECT_EQ(n.grad_weight, 2) << what;
      EXPECT_EQ(n.grad_input, c.sh == 1 && c.sw == 1 ? 2 : 0) << what;  // a strided gx stays on vol2col
    }
  }
  cpu::set_gemm_path(saved);
}

// The direct kernels give bitwise identical outputs and gradients for 1, 2 and 3 threads (their
// tasks split images, row blocks and channels; no sum is split).
TEST(ConvDirect, BitwiseAcrossThreadCounts) {
  const int saved = cpu::num_threads();
  const DirectCase cases[] = {kDirectCases[0], kDirectCases[5], kDirectCases[6]};
  for (const auto& c : cases) {
    const cpu::ConvGeom g = direct_geom(c);
    cpu::ConvAlgoGuard direct(cpu::ConvAlgo::Direct);
    cpu::set_num_threads(1);
    const auto one = run_conv<float>(g, c.bias);
    for (int t : {2, 3}) {
      cpu::set_num_threads(t);
      const auto other = run_conv<float>(g, c.bias);
      for (size_t k = 0; k < one.size(); ++k)
        EXPECT_TRUE(one[k] == other[k]) << c.name << ": buffer " << k << " differs with " << t << " threads";
    }
  }
  cpu::set_num_threads(saved);
}

// The shape rule (conv_use_direct) sends the harness's "direct" cases and the small TransUNet
// decoder / head convs to the direct kernels, and large channel counts to vol2col + gemm; the
// autograd ops really call the direct kernels for the harness shapes.
TEST(ConvDirect, ShapeRuleAndHarnessCasesTakeDirectPath) {
  auto geom2d = [](int64_t N, int64_t C, int64_t O, int64_t H, int64_t W, int64_t K, int64_t s, int64_t p) {
    return direct_geom(DirectCase{"", N, C, O, H, W, K, K, s, s, p, p, 1, 1, false});
  };
  using P = cpu::ConvPass;
  for (const auto& g : {geom2d(4, 16, 8, 128, 128, 3, 1, 1), geom2d(4, 8, 3, 128, 128, 3, 1, 1),
                        geom2d(4, 48, 16, 64, 64, 3, 1, 1), geom2d(4, 16, 16, 64, 64, 3, 1, 1)})
    for (P p : {P::Forward, P::GradInput, P::GradWeight}) EXPECT_TRUE(cpu::conv_use_direct(g, p)) << g.C << "->" << g.O;
  const auto root = geom2d(4, 3, 16, 128, 128, 7, 2, 3);
  EXPECT_TRUE(cpu::conv_use_direct(root, P::Forward));
  EXPECT_TRUE(cpu::conv_use_direct(root, P::GradWeight));
  EXPECT_FALSE(cpu::conv_use_direct(root, P::GradInput));  // strided: not supported
  const auto big = geom2d(1, 1024, 256, 28, 28, 3, 1, 1);
  for (P p : {P::Forward, P::GradInput, P::GradWeight}) EXPECT_FALSE(cpu::conv_use_direct(big, p));
  {
    cpu::ConvAlgoGuard im2col(cpu::ConvAlgo::Im2col);
    EXPECT_FALSE(cpu::conv_use_direct(geom2d(4, 16, 8, 128, 128, 3, 1, 1), P::Forward));
  }
  // Through autograd, as the harness runs them (tests/harness/ops_conv.cpp "direct ..." cases).
  struct Op {
    Shape x, w;
    Conv2dOpts o;
    bool bias;
  };
  auto opts = [](int64_t s, int64_t p, int64_t d = 1) {
    Conv2dOpts o;
    o.stride = {s, s};
    o.padding = {p, p};
    o.dilation = {d, d};
    return o;
  };
  Conv2dOpts pad10;
  pad10.padding = {1, 0};
  const Op ops[] = {{{2, 8, 13, 37}, {3, 8, 3, 3}, opts(1, 1), true},   {{1, 16, 9, 20}, {8, 16, 3, 3}, opts(1, 1), false},
                    {{3, 5, 6, 19}, {10, 5, 3, 3}, opts(1, 0), true},   {{1, 3, 4, 41}, {17, 3, 3, 3}, opts(1, 1), true},
                    {{1, 4, 5, 17}, {2, 4, 3, 3}, opts(1, 2), false},   {{2, 3, 11, 37}, {5, 3, 7, 7}, opts(2, 3), false},
                    {{1, 3, 7, 18}, {4, 3, 3, 3}, opts(1, 2, 2), true}, {{2, 6, 3, 23}, {4, 6, 1, 1}, opts(1, 0), true},
                    {{1, 2, 5, 20}, {3, 2, 3, 2}, pad10, true}};
  for (DType dt : {DType::F32, DType::F64})
    for (const auto& op : ops) {
      cpu::reset_conv_direct_counts();
      Tensor x = Tensor::ones(op.x, dt).set_requires_grad(true);
      Tensor w = Tensor::ones(op.w, dt).set_requires_grad(true);
      Tensor b = op.bias ? Tensor::ones({op.w[0]}, dt).set_requires_grad(true) : Tensor();
      Tensor y = conv2d(x, w, b, op.o);
      y.backward(Tensor::ones(y.shape(), dt));
      const cpu::ConvDirectCounts n = cpu::conv_direct_counts();
      const std::string what = str(op.x) + " * " + str(op.w) + " " + dtype_name(dt);
      EXPECT_EQ(n.forward, 1) << what;
      EXPECT_EQ(n.grad_weight, 1) << what;
      EXPECT_EQ(n.grad_input, op.o.stride[0] == 1 ? 1 : 0) << what;  // a strided gx is not supported
    }
}

// ---------------------------------------------------------------- Winograd F(2x2, 3x3)
// Forced on (ConvAlgo::Winograd) at shapes the op harness's small cases do not reach: channel counts
// past one 16-kernel run of the weight transform (with a partial run, in both the forward and the
// adjoint layout), C != O, odd maps (partial tiles), every padding it takes, and a scratch budget so
// small that every tile row is its own chunk. Against the reference loops in f64; the weight gradient
// stays on vol2col and is checked too.
TEST(ConvWinograd, MatchesReferenceAcrossChannelRunsPaddingsAndChunks) {
  const DirectCase cases[] = {
      {"3x3 pad 1 [1,37,9,11] -> 21, bias", 1, 37, 21, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {"3x3 pad 0 [2,20,8,7] -> 33", 2, 20, 33, 8, 7, 3, 3, 1, 1, 0, 0, 1, 1, false},
      {"3x3 pad 2 [1,17,5,6] -> 16", 1, 17, 16, 5, 6, 3, 3, 1, 1, 2, 2, 1, 1, false},
      {"3x3 pad (1,0) [1,16,7,10] -> 18", 1, 16, 18, 7, 10, 3, 3, 1, 1, 1, 0, 1, 1, true},
  };
  const int64_t saved = cpu::conv_tile_elems();
  for (const auto& c : cases) {
    const cpu::ConvGeom g = direct_geom(c);
    ASSERT_TRUE(cpu::conv_winograd_supported(g, cpu::ConvPass::Forward)) << c.name;
    const auto want = run_conv<double>(g, c.bias, /*reference=*/true);
    cpu::ConvAlgoGuard wino(cpu::ConvAlgo::Winograd);
    for (int64_t budget : {saved, int64_t(1)}) {
      cpu::set_conv_tile_elems(budget);
      const std::string what = std::string(c.name) + (budget == 1 ? ", one tile row per chunk" : "");
      expect_close(run_conv<float>(g, c.bias), want, 2e-5, what + " f32");
      expect_close(run_conv<double>(g, c.bias), want, 1e-12, what + " f64");
    }
  }
  cpu::set_conv_tile_elems(saved);
}

// Winograd gives the same bits for 1, 2 and 3 threads, and for an image alone or inside a batch
// (the rule and the transforms look at one image at a time).
TEST(ConvWinograd, BitwiseAcrossThreadCountsAndBatch) {
  const int saved = cpu::num_threads();
  const DirectCase batch{"", 3, 24, 20, 10, 13, 3, 3, 1, 1, 1, 1, 1, 1, false};
  DirectCase single = batch;
  single.N = 1;
  cpu::ConvAlgoGuard wino(cpu::ConvAlgo::Winograd);
  cpu::set_num_threads(1);
  const auto one = run_conv<float>(direct_geom(batch), false);
  for (int t : {2, 3}) {
    cpu::set_num_threads(t);
    const auto other = run_conv<float>(direct_geom(batch), false);
    for (size_t k = 0; k < 2; ++k)  // y and gx (gw is vol2col's, checked elsewhere)
      EXPECT_EQ(one[k], other[k]) << "buffer " << k << " differs with " << t << " threads";
  }
  // run_conv fills x from one seed, so the single image is the batch's first one.
  const auto alone = run_conv<float>(direct_geom(single), false);
  const size_t ny = alone[0].size();
  EXPECT_TRUE(std::equal(alone[0].begin(), alone[0].end(), one[0].begin())) << "first image's y differs from the batch's";
  EXPECT_EQ(ny * 3, one[0].size());
  cpu::set_num_threads(saved);
}

// The shape rule: R50-ViT-B_16's decoder and 28 x 28-or-larger stages take Winograd for the forward
// and the input gradient; thin channel counts, 14 x 14 maps, strides, the weight gradient and the
// Im2col / Direct settings do not; the verdict never depends on the batch.
TEST(ConvWinograd, ShapeRuleTakesWideLargeMapsOnly) {
  auto geom = [](int64_t N, int64_t C, int64_t O, int64_t H, int64_t s) {
    return direct_geom(DirectCase{"", N, C, O, H, H, 3, 3, s, s, 1, 1, 1, 1, false});
  };
  using P = cpu::ConvPass;
  for (int64_t N : {1, 4}) {
    for (const auto& g : {geom(N, 1024, 256, 28, 1), geom(N, 512, 128, 56, 1), geom(N, 192, 64, 112, 1),
                          geom(N, 64, 64, 55, 1), geom(N, 128, 128, 28, 1)})
      for (P p : {P::Forward, P::GradInput}) {
        EXPECT_TRUE(cpu::conv_use_winograd(g, p)) << N << "x" << g.C << "->" << g.O << " on " << g.in[1];
        EXPECT_FALSE(cpu::conv_use_winograd(g, P::GradWeight));
      }
    for (const auto& g : {geom(N, 256, 256, 14, 1), geom(N, 768, 512, 14, 1), geom(N, 64, 16, 224, 1),
                          geom(N, 16, 64, 224, 1), geom(N, 128, 128, 56, 2)})
      for (P p : {P::Forward, P::GradInput})
        EXPECT_FALSE(cpu::conv_use_winograd(g, p)) << N << "x" << g.C << "->" << g.O << " on " << g.in[1];
  }
  for (cpu::ConvAlgo a : {cpu::ConvAlgo::Im2col, cpu::ConvAlgo::Direct}) {
    cpu::ConvAlgoGuard forced(a);
    EXPECT_FALSE(cpu::conv_use_winograd(geom(1, 512, 128, 56, 1), P::Forward));
  }
}

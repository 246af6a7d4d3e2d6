#include <gtest/gtest.h>

#include <cmath>

#include <cmath>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/cpu/gelu_fast.h"
#include "tensor/cpu/gemm_kernels.h"

using namespace gb;

TEST(Autograd, ChainRuleAndAccumulation) {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3}).set_requires_grad();
  Tensor y = sum(mul(x, x));  // dy/dx = 2x
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 4, 6}));
  Tensor y2 = sum(mul_scalar(x, 3.0));
  y2.backward();  // accumulates: 2x + 3
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{5, 7, 9}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, InputGradientForAttribution) {
  // Integrated Gradients needs dT/dx for the model input: inputs are ordinary leaves.
  Tensor img = Tensor::full({1, 1, 2, 2}, 0.5, DType::F64).set_requires_grad();
  Tensor w = Tensor::from_vector(std::vector<double>{1, -2, 3, 4}, {1, 1, 2, 2});
  sum(mul(img, w)).backward();
  EXPECT_EQ(img.grad().to_vector(), w.to_vector());
}

TEST(Autograd, RetainGradAndHooks) {
  Tensor x = Tensor::from_vector(std::vector<double>{1, -2}, {2}).set_requires_grad();
  Tensor h = mul_scalar(x, 2.0);  // intermediate "activation"
  h.retain_grad();
  std::vector<double> seen;
  h.register_hook([&](const Tensor& g) { seen = g.to_vector(); });
  Tensor y = sum(mul(h, h));  // dy/dh = 2h
  y.backward();
  EXPECT_EQ(h.grad().to_vector(), (std::vector<double>{4, -8}));
  EXPECT_EQ(seen, (std::vector<double>{4, -8}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{8, -16}));
}

TEST(Autograd, GraphFreedAfterBackwardUnlessRetained) {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2}, {2}).set_requires_grad();
  Tensor y = sum(exp(x));
  y.backward();
  try {
    y.backward();
    FAIL() << "second backward through a freed graph must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos);
  }
  // Saved tensors are released: the exp node's closure is gone.
  EXPECT_TRUE(y.grad_fn()->released);
  Tensor z = sum(exp(x));
  z.backward(Tensor(), true);
  z.backward();
  EXPECT_NEAR(x.grad().to_vector()[0], 3 * std::exp(1.0), 1e-12);
}

TEST(Autograd, NoGradRecordsNothing) {
  Tensor x = Tensor::ones({2}).set_requires_grad();
  Tensor y;
  {
    NoGradGuard ng;
    y = mul(x, x);
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(y.backward(), Error);
}

TEST(Autograd, DiamondGraphSumsBothPaths) {
  Tensor x = Tensor::from_vector(std::vector<double>{3}, {1}).set_requires_grad();
  Tensor a = mul_scalar(x, 2.0), b = exp(x);
  Tensor y = sum(add(mul(a, b), a));  // y = 2x e^x + 2x ; dy/dx = 2e^x + 2x e^x + 2
  y.backward();
  EXPECT_NEAR(x.grad().item(), 2 * std::exp(3.0) + 6 * std::exp(3.0) + 2, 1e-9);
}

TEST(Autograd, ScopesAreRecordedOnNodes) {
  Tensor x = Tensor::ones({2}).set_requires_grad();
  Tensor y;
  {
    ScopeGuard s("decoder.conv_more");
    y = mul_scalar(x, 2.0);
  }
  EXPECT_EQ(y.grad_fn()->scope, "decoder.conv_more");
  EXPECT_EQ(y.grad_fn()->op, "mul_scalar");
}

TEST(Autograd, ErrorsNameOpAndShapes) {
  Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({4, 3});
  try {
    add(a, b);
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("add:", 0), 0u) << m;
    EXPECT_NE(m.find("[2,3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4,3]"), std::string::npos) << m;
  }
  EXPECT_THROW(add(Tensor::ones({2}), Tensor::ones({2}, DType::F64)), Error);
}

// ReLU's gradient is gy where x > 0 and 0 elsewhere, including at x = 0 (torch's choice) and for
// -0.0; it accumulates into what the gradient already holds. Long enough for the vectorised loop.
TEST(Autograd, ReluBackwardIsASelectZeroAtZero) {
  for (DType dt : {DType::F32, DType::F64}) {
    std::vector<double> xv(1000);
    for (size_t i = 0; i < xv.size(); ++i) xv[i] = i % 4 == 0 ? 0.0 : i % 4 == 1 ? -0.0 : (i % 3 == 0 ? 1.5 : -2.0);
    Tensor x = Tensor::from_vector(xv, {(int64_t)xv.size()}).to(dt);
    x.set_requires_grad(true);
    Tensor w = Tensor::arange((int64_t)xv.size(), dt);
    for (int pass = 0; pass < 2; ++pass) sum(mul(relu(x), w)).backward();  // twice: accumulates
    const auto g = x.grad().to_vector();
    for (size_t i = 0; i < xv.size(); ++i) ASSERT_EQ(g[i], xv[i] > 0 ? 2.0 * (double)i : 0.0) << i << " " << dtype_name(dt);
  }
}

// The optimised f32 GELU (tensor/cpu/gelu_fast.h) against the exact formula in double on a dense
// grid over [-20, 20]: absolute error of the value (relative above 1) and of the derivative below
// 1e-6 (f32 itself rounds GELU(4) = 4 to 5e-7), exact limits far out, for the scalar functions and
// for the vectorised loops of every instruction set this CPU has (FMA-contracted on AVX2 / AVX-512).
TEST(Autograd, FastF32GeluMatchesTheExactFormula) {
  auto exact = [](double x) { return 0.5 * x * (1 + std::erf(x * M_SQRT1_2)); };
  auto exact_grad = [](double x) {
    return 0.5 * (1 + std::erf(x * M_SQRT1_2)) + x * std::exp(-0.5 * x * x) * 0.3989422804014327;
  };
  std::vector<float> xs(400001);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = ((float)i - 200000.0f) * 1e-4f;
  double worst_v = 0, worst_g = 0;
  for (float x : xs) {
    worst_v = std::max(worst_v, std::fabs(cpu::gelu_f32(x) - exact(x)) / std::max(1.0, std::fabs(exact(x))));
    worst_g = std::max(worst_g, std::fabs(cpu::gelu_grad_f32(x) - exact_grad(x)));
  }
  EXPECT_LT(worst_v, 1e-6);
  EXPECT_LT(worst_g, 1e-6);
  EXPECT_EQ(cpu::gelu_f32(-100.0f), 0.0f);
  EXPECT_EQ(cpu::gelu_f32(100.0f), 100.0f);
  EXPECT_EQ(cpu::gelu_grad_f32(-100.0f), 0.0f);
  EXPECT_EQ(cpu::gelu_grad_f32(100.0f), 1.0f);
  EXPECT_NEAR(cpu::exp_f32(1.0f), std::exp(1.0), 3e-7);
  EXPECT_EQ(cpu::exp_f32(-200.0f), 0.0f);

  using Fwd = void (*)(const float*, float*, int64_t);
  using Bwd = void (*)(const float*, const float*, float*, int64_t);
  std::vector<std::pair<Fwd, Bwd>> isas = {{cpu::gelu_f32_forward, cpu::gelu_f32_backward_add}};
  if (cpu::cpu_has_avx2_fma()) isas.push_back({cpu::gelu_f32_forward_avx2, cpu::gelu_f32_backward_add_avx2});
  if (cpu::cpu_has_avx512()) isas.push_back({cpu::gelu_f32_forward_avx512, cpu::gelu_f32_backward_add_avx512});
  for (auto [fwd, bwd] : isas) {
    std::vector<float> y(xs.size()), gy(xs.size(), 1.0f), gx(xs.size(), 0.25f);
    fwd(xs.data(), y.data(), (int64_t)xs.size());
    bwd(xs.data(), gy.data(), gx.data(), (int64_t)xs.size());
    double wv = 0, wg = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      wv = std::max(wv, std::fabs(y[i] - exact(xs[i])) / std::max(1.0, std::fabs(exact(xs[i]))));
      wg = std::max(wg, std::fabs(gx[i] - 0.25 - exact_grad(xs[i])));  // backward adds into what gx held
    }
    EXPECT_LT(wv, 1e-6);
    EXPECT_LT(wg, 2e-6);
  }
}

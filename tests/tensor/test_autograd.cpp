#include <gtest/gtest.h>

#include <cmath>

#include "autograd/node.h"
#include "autograd/ops.h"

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

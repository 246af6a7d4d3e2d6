// Central-difference checks of a model's parameter gradients (f64), shared by the model tests.
// L = sum(r * model(x)) with a fixed random r; for a few elements of each named parameter,
// (L(p + eps) - L(p - eps)) / 2 eps must match the analytic gradient.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "layers/module.h"

namespace gbtest {

inline void gradcheck_params(gb::nn::Unary& model, const gb::Tensor& x, const std::vector<std::string>& names,
                             int per_param, double eps = 1e-6, double rtol = 1e-5, double atol = 1e-8) {
  using namespace gb;
  Tensor y0;
  {
    NoGradGuard ng;
    y0 = model.forward(x);
  }
  Tensor r = Tensor::empty(y0.shape(), DType::F64);
  Generator g(77);
  g.uniform_(r, -1, 1);
  auto loss = [&] {
    NoGradGuard ng;
    return sum(mul(model.forward(x), r)).item();
  };
  model.zero_grad();
  sum(mul(model.forward(x), r)).backward();
  for (auto& n : names) {
    Tensor p = model.find_tensor(n);
    ASSERT_TRUE(p.grad().defined()) << n << " got no gradient";
    Tensor gr = p.grad();
    const int64_t N = p.numel();
    double* d = p.data<double>();
    for (int k = 0; k < per_param; ++k) {
      const int64_t i = (k * 7919 + 13) % N;
      const double orig = d[i];
      d[i] = orig + eps;
      const double lp = loss();
      d[i] = orig - eps;
      const double lm = loss();
      d[i] = orig;
      const double num = (lp - lm) / (2 * eps);
      const double ana = gr.data<double>()[i];
      EXPECT_NEAR(ana, num, atol + rtol * std::fabs(num) + 1e-6 * std::fabs(num)) << n << "[" << i << "]";
    }
  }
}

}  // namespace gbtest

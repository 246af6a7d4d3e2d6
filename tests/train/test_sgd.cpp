#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "train/sgd.h"

using namespace gb;

// Two steps by hand against torch.optim.SGD's documented update.
TEST(Sgd, MatchesTorchUpdateRule) {
  Tensor w = Tensor::from_vector(std::vector<double>{1.0, -2.0}, {2}).set_requires_grad();
  train::Sgd opt({w}, {0.1, 0.9, 0.01});
  // step 1: grad of sum(w^2) = 2w = (2, -4); d = g + 0.01 w = (2.01, -4.02); buf = d; w -= 0.1 d
  sum(mul(w, w)).backward();
  opt.step();
  EXPECT_NEAR(w.to_vector()[0], 1.0 - 0.201, 1e-12);
  EXPECT_NEAR(w.to_vector()[1], -2.0 + 0.402, 1e-12);
  // step 2: g = 2w, d = g + 0.01w, buf = 0.9 buf + d
  opt.zero_grad();
  sum(mul(w, w)).backward();
  double w0 = 0.799, d0 = 2 * w0 + 0.01 * w0, b0 = 0.9 * 2.01 + d0;
  opt.step();
  EXPECT_NEAR(w.to_vector()[0], w0 - 0.1 * b0, 1e-12);
}

TEST(Sgd, SkipsParametersWithoutGradient) {
  Tensor a = Tensor::ones({3}).set_requires_grad(), b = Tensor::ones({3}).set_requires_grad();
  train::Sgd opt({a, b}, {});
  sum(a).backward();
  opt.step();
  EXPECT_NE(a.to_vector()[0], 1.0);
  EXPECT_EQ(b.to_vector()[0], 1.0);
}

TEST(PolyLr, TransUNetSchedule) {
  EXPECT_DOUBLE_EQ(train::poly_lr(0.01, 0, 100), 0.01);
  EXPECT_NEAR(train::poly_lr(0.01, 50, 100), 0.01 * std::pow(0.5, 0.9), 1e-15);
  EXPECT_DOUBLE_EQ(train::poly_lr(0.01, 100, 100), 0.0);
  EXPECT_THROW(train::poly_lr(0.01, 0, 0), Error);
}

// Runs every op-harness case as a GoogleTest case: gb_test_ops --gtest_filter='*conv2d*'.
#include <gtest/gtest.h>

#include <cctype>

#include "autograd/node.h"
#include "tests/harness/harness.h"

using namespace gb::harness;

class OpHarness : public ::testing::TestWithParam<size_t> {};

TEST_P(OpHarness, AllChecks) {
  const OpCase& c = registry().at(GetParam());
  SCOPED_TRACE(c.name());
  CaseReport r = run_case(c);
  EXPECT_TRUE(r.forward.ok) << r.forward.detail;
  if (r.grad.ran) {
    EXPECT_TRUE(r.grad.ok) << r.grad.detail;
  }
  if (r.accumulate.ran) {
    EXPECT_TRUE(r.accumulate.ok) << r.accumulate.detail;
  }
  EXPECT_TRUE(r.backend.ok) << r.backend.detail;
  if (c.check_grad) {
    EXPECT_TRUE(r.grad.ran) << "differentiable op without a gradient check";
  }
}

static std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string s = registry().at(info.param).name(), out;
  for (char ch : s) out += std::isalnum((unsigned char)ch) ? ch : '_';
  return out + "_" + std::to_string(info.param);
}

INSTANTIATE_TEST_SUITE_P(Registry, OpHarness, ::testing::Range<size_t>(0, registry().size()), case_name);

// The harness must be able to fail: a deliberately wrong backward is caught by the gradient check,
// and a backward that assigns instead of accumulating is caught by the accumulate check.
TEST(OpHarnessSelfTest, CatchesWrongGradient) {
  OpCase c{"bad_square", "wrong backward", {in({3, 4})}, [](const std::vector<gb::Tensor>& a) {
             gb::Tensor y = gb::mul(a[0], a[0]).detach();
             gb::Tensor x = a[0];
             gb::record("bad_square", y, {x}, [x](const gb::Tensor& gy, std::vector<gb::Tensor>& gx) {
               gb::accumulate_grad(gx[0], gb::mul(gy, x.detach()));  // missing factor 2
             });
             return y;
           }};
  EXPECT_FALSE(check_grad(c, 1).ok);
}

TEST(OpHarnessSelfTest, CatchesAssigningBackward) {
  OpCase c{"bad_copy", "assigns", {in({5})}, [](const std::vector<gb::Tensor>& a) {
             gb::Tensor y = a[0].clone();
             gb::record("bad_copy", y, {a[0]}, [](const gb::Tensor& gy, std::vector<gb::Tensor>& gx) {
               gx[0].copy_from(gy);  // '=' instead of '+='
             });
             return y;
           }};
  // One backward through two consumers of x: both contribute, so assignment loses one.
  OpCase twice{"bad_copy", "two consumers", {in({5})}, [&c](const std::vector<gb::Tensor>& a) {
                 return gb::add(c.fn(a), c.fn(a));
               }};
  EXPECT_FALSE(check_grad(twice, 1).ok);
  // With a single consumer the gradient check cannot see it; the accumulate check must.
  EXPECT_TRUE(check_grad(c, 1).ok);
  CheckResult acc = check_accumulate(c, 1);
  EXPECT_FALSE(acc.ok);
  EXPECT_NE(acc.detail.find("must add"), std::string::npos) << acc.detail;
}

// Module tree: names, order, hooks, scopes, modes, dtype conversion, state_dict loading.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/attention.h"
#include "layers/conv.h"
#include "layers/dropout.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/norm.h"
#include "layers/simple.h"

using namespace gb;
using namespace gb::nn;

namespace {

// own parameter registered after a child: torch still lists own parameters first
struct Toy : Unary {
  std::shared_ptr<Linear> fc;
  std::shared_ptr<Sequential> body;
  Tensor scale;
  explicit Toy(Generator& g) {
    fc = register_module("fc", std::make_shared<Linear>(4, 3, true, g));
    body = register_module("body", std::make_shared<Sequential>());
    body->add(std::make_shared<Linear>(3, 2, false, g));
    body->add(std::make_shared<ReLU>());
    scale = Tensor::ones({2});
    register_parameter("scale", scale);
  }
  Tensor forward(const Tensor& x) override {
    return run([&] { return mul(body->forward(fc->forward(x)), scale); });
  }
};

Tensor rand(const Shape& s, uint64_t seed, DType t = DType::F32) {
  Tensor x = Tensor::empty(s, t);
  Generator g(seed);
  g.uniform_(x, -1, 1);
  return x;
}

}  // namespace

TEST(Module, HierarchicalNamesInTorchOrder) {
  Generator g(1);
  auto root = std::make_shared<Sequential>();
  auto toy = root->add("toy", std::make_shared<Toy>(g));
  std::vector<std::string> names;
  for (auto& [n, t] : root->named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"toy.scale", "toy.fc.weight", "toy.fc.bias", "toy.body.0.weight"}));
  EXPECT_EQ(toy->body->full_name(), "toy.body");
  EXPECT_EQ(root->module("toy.body.0").type_name(), "Linear");
  EXPECT_EQ(root->num_parameters(), 2 + 12 + 3 + 6);
  try {
    root->module("toy.nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("toy.nope"), std::string::npos);
  }
}

TEST(Module, ForwardRunsInsideTheLayerScope) {
  Generator g(1);
  auto root = std::make_shared<Sequential>();
  root->add("toy", std::make_shared<Toy>(g));
  Tensor y = root->forward(rand({5, 4}, 2));
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->op, "mul");
  EXPECT_EQ(y.grad_fn()->scope, "toy");
  // the relu inside body.1
  auto& body = dynamic_cast<Toy&>(root->module("toy")).body;
  Tensor h = body->forward(rand({5, 3}, 3));
  EXPECT_EQ(h.grad_fn()->scope, "toy.body.1");
}

TEST(Module, ForwardAndBackwardHooksByName) {
  Generator g(1);
  auto root = std::make_shared<Sequential>();
  root->add("toy", std::make_shared<Toy>(g));
  Tensor act, grad;
  root->register_forward_hook("toy.fc", [&](const Tensor& y) { act = y; });
  int bid = root->register_backward_hook("toy.fc", [&](const Tensor& gy) { grad = gy.clone(); });
  Tensor x = rand({5, 4}, 2);
  Tensor y = root->forward(x);
  ASSERT_TRUE(act.defined());
  EXPECT_EQ(act.shape(), (Shape{5, 3}));
  sum(y).backward();
  ASSERT_TRUE(grad.defined());
  EXPECT_EQ(grad.shape(), (Shape{5, 3}));
  // d sum(relu(a W2^T) * s) / da, computed by hand
  auto& toy = dynamic_cast<Toy&>(root->module("toy"));
  Tensor w2 = toy.body->find_tensor("0.weight");
  auto a = act.to_vector(), w = w2.to_vector(), gv = grad.to_vector();
  for (int i = 0; i < 5; ++i)
    for (int k = 0; k < 3; ++k) {
      double expect = 0;
      for (int j = 0; j < 2; ++j) {
        double z = 0;
        for (int kk = 0; kk < 3; ++kk) z += a[i * 3 + kk] * w[j * 3 + kk];
        if (z > 0) expect += w[j * 3 + k];
      }
      EXPECT_NEAR(gv[i * 3 + k], expect, 1e-5);
    }
  root->remove_hook(bid);
  grad = Tensor();
  sum(root->forward(x)).backward();
  EXPECT_FALSE(grad.defined());
}

TEST(Module, TrainEvalDropoutAndBatchNorm) {
  auto d = std::make_shared<Dropout>(0.5);
  d->reseed(3, 0);
  Tensor x = Tensor::ones({1000});
  d->train();
  auto v = d->forward(x).to_vector();
  int zeros = 0;
  for (double e : v) {
    EXPECT_TRUE(e == 0.0 || e == 2.0);
    zeros += e == 0.0;
  }
  EXPECT_GT(zeros, 400);
  EXPECT_LT(zeros, 600);
  d->eval();
  EXPECT_EQ(d->forward(x).to_vector(), x.to_vector());

  auto bn = BatchNorm2d(3);
  Tensor in = rand({4, 3, 5, 5}, 4);
  bn->train();
  Tensor y = bn->forward(in);
  EXPECT_EQ(bn->num_batches_tracked.data<int32_t>()[0], 1);
  auto rm = bn->running_mean.to_vector();
  EXPECT_NE(rm[0], 0.0);  // 0.9 * 0 + 0.1 * batch mean
  // batch statistics: every channel of y has mean ~0
  auto yv = y.to_vector();
  double s = 0;
  for (int n = 0; n < 4; ++n)
    for (int i = 0; i < 25; ++i) s += yv[(n * 3 + 0) * 25 + i];
  EXPECT_NEAR(s / 100, 0.0, 1e-5);
  bn->eval();
  Tensor y2 = bn->forward(in);
  EXPECT_EQ(bn->num_batches_tracked.data<int32_t>()[0], 1);
  EXPECT_EQ(bn->running_mean.to_vector(), rm);
  EXPECT_NE(y2.to_vector(), y.to_vector());  // running statistics differ from the batch's
}

TEST(Module, InitialisationFollowsTorch) {
  Generator g(5);
  Linear lin(400, 300, true, g);
  double mx = 0;
  for (double v : lin.weight.to_vector()) mx = std::max(mx, std::fabs(v));
  EXPECT_LE(mx, 1.0 / std::sqrt(400.0));
  EXPECT_GT(mx, 0.95 / std::sqrt(400.0));
  Mlp mlp(64, 256, 0.1, g);
  double wmax = 0, bmax = 0;
  for (double v : mlp.fc1->weight.to_vector()) wmax = std::max(wmax, std::fabs(v));
  for (double v : mlp.fc1->bias.to_vector()) bmax = std::max(bmax, std::fabs(v));
  EXPECT_LE(wmax, std::sqrt(6.0 / (64 + 256)));
  EXPECT_GT(wmax, 0.9 * std::sqrt(6.0 / (64 + 256)));
  EXPECT_LT(bmax, 1e-5);
  EXPECT_GT(bmax, 0.0);
  Conv2d conv(8, 4, 3, 1, 1, true, g);
  for (double v : conv.weight.to_vector()) EXPECT_LE(std::fabs(v), 1.0 / std::sqrt(72.0));
  GroupNorm gn(4, 8);
  EXPECT_EQ(gn.weight.to_vector(), std::vector<double>(8, 1.0));
}

TEST(Module, ToF64AndZeroGradAndLoadStateDict) {
  Generator g(1), g2(2);
  auto a = std::make_shared<Toy>(g);
  auto b = std::make_shared<Toy>(g2);
  a->to(DType::F64);
  EXPECT_EQ(a->fc->weight.dtype(), DType::F64);
  EXPECT_TRUE(a->fc->weight.requires_grad());
  sum(a->forward(rand({2, 4}, 1, DType::F64))).backward();
  EXPECT_TRUE(a->fc->weight.grad().defined());
  a->zero_grad();
  EXPECT_FALSE(a->fc->weight.grad().defined());

  auto sd = a->state_dict();
  TensorMap m(sd.begin(), sd.end());
  b->load_state_dict(m);  // f64 -> f32 copy
  EXPECT_EQ(b->fc->weight.dtype(), DType::F32);
  EXPECT_NEAR(b->fc->weight.to_vector()[3], a->fc->weight.to_vector()[3], 1e-7);

  TensorMap bad = m;
  bad.erase("fc.bias");
  bad["extra.weight"] = Tensor::zeros({1});
  bad["scale"] = Tensor::zeros({3});
  try {
    b->load_state_dict(bad, true, "bad.safetensors");
    FAIL();
  } catch (const Error& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("bad.safetensors"), std::string::npos) << w;
    EXPECT_NE(w.find("fc.bias"), std::string::npos) << w;
    EXPECT_NE(w.find("extra.weight"), std::string::npos) << w;
    EXPECT_NE(w.find("scale"), std::string::npos) << w;
  }
  LoadReport r = b->load_state_dict(bad, false);
  EXPECT_EQ(r.missing, (std::vector<std::string>{"fc.bias"}));
  EXPECT_EQ(r.unexpected, (std::vector<std::string>{"extra.weight"}));
  EXPECT_EQ(r.mismatched.size(), 1u);
  EXPECT_EQ(r.loaded.size(), 2u);
}

TEST(Layers, MultiHeadAttentionMatchesManualComputation) {
  Generator g(3);
  MultiHeadAttention mha(8, 2, 0.0, g);
  mha.keep_probs(true);
  Tensor x = rand({1, 3, 8}, 6, DType::F32);
  Tensor y = mha.forward(x);
  ASSERT_EQ(y.shape(), (Shape{1, 3, 8}));
  EXPECT_EQ(mha.last_probs().shape(), (Shape{1, 2, 3, 3}));
  // manual: per head h, softmax(q_h k_h^T / 2) v_h, then out
  auto lin = [](const std::vector<double>& in, int rows, const Linear& l) {
    auto w = l.weight.to_vector(), b = l.bias.to_vector();
    int o = (int)l.out_features(), i = (int)l.in_features();
    std::vector<double> r(rows * o);
    for (int n = 0; n < rows; ++n)
      for (int j = 0; j < o; ++j) {
        double s = b[j];
        for (int k = 0; k < i; ++k) s += in[n * i + k] * w[j * i + k];
        r[n * o + j] = s;
      }
    return r;
  };
  auto xv = x.to_vector();
  auto q = lin(xv, 3, *mha.query), k = lin(xv, 3, *mha.key), v = lin(xv, 3, *mha.value);
  std::vector<double> ctx(24);
  for (int h = 0; h < 2; ++h)
    for (int t = 0; t < 3; ++t) {
      double sc[3], mx = -1e30, den = 0;
      for (int u = 0; u < 3; ++u) {
        double s = 0;
        for (int d = 0; d < 4; ++d) s += q[t * 8 + h * 4 + d] * k[u * 8 + h * 4 + d];
        sc[u] = s / 2.0;
        mx = std::max(mx, sc[u]);
      }
      for (double& s : sc) den += (s = std::exp(s - mx));
      for (int d = 0; d < 4; ++d) {
        double a = 0;
        for (int u = 0; u < 3; ++u) a += sc[u] / den * v[u * 8 + h * 4 + d];
        ctx[t * 8 + h * 4 + d] = a;
      }
    }
  auto expect = lin(ctx, 3, *mha.out);
  auto got = y.to_vector();
  for (int i = 0; i < 24; ++i) EXPECT_NEAR(got[i], expect[i], 1e-5);
}

TEST(Layers, StdConv2dStandardisesPerOutputChannel) {
  Generator g(8);
  StdConv2d c(2, 3, 3, 1, 1, false, g);
  Conv2d plain(2, 3, 3, 1, 1, false, g);
  // plain conv with the standardised weight equals StdConv2d
  auto w = c.weight.to_vector();
  std::vector<double> ws(w.size());
  for (int o = 0; o < 3; ++o) {
    double m = 0, v = 0;
    for (int i = 0; i < 18; ++i) m += w[o * 18 + i];
    m /= 18;
    for (int i = 0; i < 18; ++i) v += (w[o * 18 + i] - m) * (w[o * 18 + i] - m);
    v /= 18;
    for (int i = 0; i < 18; ++i) ws[o * 18 + i] = (w[o * 18 + i] - m) / std::sqrt(v + 1e-5);
  }
  plain.weight.copy_from(Tensor::from_vector(ws, {3, 2, 3, 3}));
  Tensor x = rand({1, 2, 5, 5}, 9);
  auto a = c.forward(x).to_vector(), b = plain.forward(x).to_vector();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4);
}

// ParameterCacheScope: the standardised weight is computed once per scope when no graph goes through
// it, gives the same bits as computing it per forward, still differentiates in a training step, and
// is gone when the scope ends.
TEST(Layers, StdConv2dReusesItsStandardisedWeightInsideAParameterCacheScope) {
  Generator g(8);
  StdConv2d c(2, 3, 3, 1, 1, false, g);
  Tensor x = rand({2, 2, 5, 5}, 9);
  std::vector<double> fresh;
  {
    NoGradGuard ng;
    fresh = c.forward(x).to_vector();
  }
  {
    ParameterCacheScope scope;
    {
      NoGradGuard ng;  // inference: the weight requires a gradient, but no graph is recorded
      EXPECT_EQ(c.forward(x).to_vector(), fresh);
      EXPECT_EQ(scope.size(), 1u);
      const Tensor kept = scope.find(&c);
      ASSERT_TRUE(kept.defined());
      EXPECT_EQ(c.forward(x).to_vector(), fresh);
      EXPECT_EQ(scope.find(&c).raw_data(), kept.raw_data());  // the same buffer, not a recomputation
      ParameterCacheScope inner;                              // nested: sees the outer entry
      EXPECT_EQ(c.forward(x).to_vector(), fresh);
      EXPECT_EQ(inner.size(), 0u);
    }
    // A training step inside the scope: the graph goes through the standardisation, nothing cached.
    ParameterCacheScope train_scope;
    Tensor y = c.forward(x);
    EXPECT_EQ(train_scope.size(), 0u);
    sum(y).backward();
    ASSERT_TRUE(c.weight.grad().defined());
    double gsum = 0;
    for (double v : c.weight.grad().to_vector()) gsum += std::fabs(v);
    EXPECT_GT(gsum, 0.0);
  }
  // The scope is gone: a changed weight is standardised afresh.
  Tensor w2 = rand({3, 2, 3, 3}, 10);
  c.weight.copy_from(w2);
  Conv2d plain(2, 3, 3, 1, 1, false, g);
  plain.weight.copy_from(weight_standardize(w2, 1e-5));
  NoGradGuard ng;
  EXPECT_EQ(c.forward(x).to_vector(), plain.forward(x).to_vector());
  EXPECT_NE(c.forward(x).to_vector(), fresh);
}

TEST(Layers, UpsampleAndPoolShapes) {
  Upsample up(2, true);
  EXPECT_EQ(up.forward(Tensor::zeros({1, 2, 3, 5})).shape(), (Shape{1, 2, 6, 10}));
  EXPECT_EQ(up.forward(Tensor::zeros({1, 2, 3, 5, 4})).shape(), (Shape{1, 2, 6, 10, 8}));
  MaxPool2d p(3, 2);
  EXPECT_EQ(p.forward(Tensor::zeros({1, 1, 112, 112})).shape(), (Shape{1, 1, 55, 55}));
  MaxPool3d p3(2, 2);
  EXPECT_EQ(p3.forward(Tensor::zeros({1, 1, 4, 6, 8})).shape(), (Shape{1, 1, 2, 3, 4}));
}

// Values of the normalisation, softmax and loss ops against numbers derived by hand (or by the plain
// formula written out in the test), plus their error messages and thread-count determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/cpu/gemm_kernels.h"
#include "tensor/cpu/parallel.h"
#include "tensor/cpu/softmax_fast.h"

using namespace gb;

namespace {
using DV = std::vector<double>;
Tensor f64(const DV& v, const Shape& s) { return Tensor::from_vector(v, s); }
Tensor labels(const std::vector<int32_t>& v, const Shape& s) { return Tensor::from_vector(v, s); }

template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// -log softmax(row)[t], written out.
double nll(const DV& row, int t) {
  double s = 0;
  for (double v : row) s += std::exp(v);
  return std::log(s) - row[t];
}
}  // namespace

// ---------------------------------------------------------------- cross-entropy
TEST(CrossEntropyValues, TwoClassLogitPair) {
  // logits (1, 3), target 0: loss = -log(e / (e + e^3)) = log(1 + e^2) = 2.1269280110429727
  Tensor x = f64({1, 3}, {1, 2}).set_requires_grad();
  Tensor y = cross_entropy(x, labels({0}, {1}));
  EXPECT_NEAR(y.item(), 2.1269280110429727, 1e-14);
  y.backward();
  // d/dx = softmax - onehot = (1/(1+e^2) - 1, e^2/(1+e^2))
  const double p0 = 1.0 / (1.0 + std::exp(2.0));
  EXPECT_NEAR(x.grad().at({0, 0}), p0 - 1.0, 1e-14);
  EXPECT_NEAR(x.grad().at({0, 1}), 1.0 - p0, 1e-14);
}

TEST(CrossEntropyValues, WeightedMeanIsSumOfWeightedNllOverSumOfWeights) {
  const DV l0{0.5, -1.0}, l1{2.0, 0.25}, l2{-0.5, 1.5};
  Tensor x = f64({0.5, -1.0, 2.0, 0.25, -0.5, 1.5}, {3, 2}).set_requires_grad();
  Tensor w = f64({0.3, 2.0}, {2});
  Tensor y = cross_entropy(x, labels({0, 1, 1}, {3}), w);
  const double want = (0.3 * nll(l0, 0) + 2.0 * nll(l1, 1) + 2.0 * nll(l2, 1)) / (0.3 + 2.0 + 2.0);
  EXPECT_NEAR(y.item(), want, 1e-14);
  y.backward();
  // Row 1 (target 1, weight 2): grad = 2/4.3 * (softmax - onehot)
  const double p1 = std::exp(0.25) / (std::exp(2.0) + std::exp(0.25));
  EXPECT_NEAR(x.grad().at({1, 1}), 2.0 / 4.3 * (p1 - 1.0), 1e-14);
  EXPECT_FALSE(w.grad().defined());
}

TEST(CrossEntropyValues, IgnoreIndexExcludedFromTheMean) {
  Tensor x = f64({0.5, -1.0, 2.0, 0.25, -0.5, 1.5}, {3, 2}).set_requires_grad();
  Tensor y = cross_entropy(x, labels({0, -100, 1}, {3}));
  EXPECT_NEAR(y.item(), (nll({0.5, -1.0}, 0) + nll({-0.5, 1.5}, 1)) / 2.0, 1e-14);
  y.backward();
  EXPECT_EQ(x.grad().at({1, 0}), 0.0);
  EXPECT_EQ(x.grad().at({1, 1}), 0.0);
  EXPECT_NE(x.grad().at({0, 0}), 0.0);
  // A custom ignore_index, spatial layout [N, C, S]: logits [1, 2, 3], target [1, 3].
  Tensor xs = f64({0.5, 2.0, -0.5, -1.0, 0.25, 1.5}, {1, 2, 3});
  Tensor ys = cross_entropy(xs, labels({255, 1, 0}, {1, 3}), Tensor(), 255);
  EXPECT_NEAR(ys.item(), (nll({2.0, 0.25}, 1) + nll({-0.5, 1.5}, 0)) / 2.0, 1e-14);
  // Every target ignored: 0/0 = NaN, as torch.
  EXPECT_TRUE(std::isnan(cross_entropy(x, labels({-100, -100, -100}, {3})).item()));
}

TEST(CrossEntropyValues, OutOfRangeTargetNamesOpValueAndPosition) {
  Tensor x = Tensor::zeros({2, 3, 2, 2});
  std::vector<int32_t> t(8, 1);
  t[6] = 5;  // position [1,1,0]
  std::string e = error_of([&] { cross_entropy(x, labels(t, {2, 2, 2})); });
  EXPECT_NE(e.find("cross_entropy"), std::string::npos) << e;
  EXPECT_NE(e.find("value 5"), std::string::npos) << e;
  EXPECT_NE(e.find("[1,1,0]"), std::string::npos) << e;
  t[6] = -1;
  EXPECT_NE(error_of([&] { cross_entropy(x, labels(t, {2, 2, 2})); }).find("value -1"), std::string::npos);
  // Shape mismatch and non-i32 targets are errors naming the op.
  EXPECT_NE(error_of([&] { cross_entropy(x, labels(t, {2, 4})); }).find("cross_entropy: target [2,4]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { cross_entropy(x, Tensor::zeros({2, 2, 2})); }).find("cross_entropy"), std::string::npos);
}

// ---------------------------------------------------------------- soft Dice
TEST(SoftDiceValues, PerfectPredictionIsNearZero) {
  // Labels {0, 1, 2, 1, 0, 2} over S = 6 with logits +30 on the right class and -30 elsewhere.
  const std::vector<int32_t> t{0, 1, 2, 1, 0, 2};
  DV v(3 * 6);
  for (int c = 0; c < 3; ++c)
    for (int s = 0; s < 6; ++s) v[c * 6 + s] = t[s] == c ? 30.0 : -30.0;
  Tensor y = soft_dice_loss(f64(v, {1, 3, 6}), labels(t, {1, 6}));
  EXPECT_LT(std::fabs(y.item()), 1e-12);
  // The opposite prediction is close to 1 (every dice term ~ 1 - smooth / (Y + smooth)).
  for (auto& x : v) x = -x;
  EXPECT_GT(soft_dice_loss(f64(v, {1, 3, 6}), labels(t, {1, 6})).item(), 0.99);
}

TEST(SoftDiceValues, MatchesTransUNetFormulaOnASmallCase) {
  // N = 2, C = 2, S = 2: logits[n, c, s]; the sums run over the whole batch (TransUNet's _dice_loss
  // sums over every element of inputs[:, i]).
  const DV lg{0.2, -1.0, 1.3, 0.4,   // n = 0: class 0 (s0, s1), class 1 (s0, s1)
              -0.7, 2.0, 0.1, 0.5};  // n = 1
  const std::vector<int32_t> t{1, 0, 0, 0};  // [n][s]
  Tensor x = f64(lg, {2, 2, 2}).set_requires_grad();
  Tensor w = f64({0.25, 1.5}, {2});
  const double smooth = 1e-5;
  double I[2] = {0, 0}, Z[2] = {0, 0}, Y[2] = {0, 0};
  for (int n = 0; n < 2; ++n)
    for (int s = 0; s < 2; ++s) {
      const double a = lg[n * 4 + s], b = lg[n * 4 + 2 + s];
      const double p[2] = {std::exp(a) / (std::exp(a) + std::exp(b)), std::exp(b) / (std::exp(a) + std::exp(b))};
      for (int c = 0; c < 2; ++c) {
        const double tc = t[n * 2 + s] == c ? 1.0 : 0.0;
        I[c] += p[c] * tc;
        Z[c] += p[c] * p[c];
        Y[c] += tc * tc;
      }
    }
  double plain = 0, weighted = 0;
  for (int c = 0; c < 2; ++c) {
    const double dice = 1.0 - (2 * I[c] + smooth) / (Z[c] + Y[c] + smooth);
    plain += dice;
    weighted += (c == 0 ? 0.25 : 1.5) * dice;
  }
  EXPECT_NEAR(soft_dice_loss(x, labels(t, {2, 2})).item(), plain / 2.0, 1e-14);
  Tensor yw = soft_dice_loss(x, labels(t, {2, 2}), w);
  EXPECT_NEAR(yw.item(), weighted / 2.0, 1e-14);
  // Smooth is honoured.
  EXPECT_NE(soft_dice_loss(x, labels(t, {2, 2}), Tensor(), 1.0).item(), soft_dice_loss(x, labels(t, {2, 2})).item());
  // Out-of-range labels are errors (TransUNet would silently give an all-zero one-hot row).
  std::string e = error_of([&] { soft_dice_loss(x, labels({0, 2, 0, 0}, {2, 2})); });
  EXPECT_NE(e.find("soft_dice_loss: target value 2 at position [0,1]"), std::string::npos) << e;
}

// ---------------------------------------------------------------- one-hot
TEST(OneHotValues, LayoutAndErrors) {
  Tensor h = one_hot(labels({2, 0, 1}, {1, 3}), 3, DType::F64);
  EXPECT_EQ(h.shape(), (Shape{1, 3, 3}));
  EXPECT_EQ(h.to_vector(), (DV{0, 1, 0, 0, 0, 1, 1, 0, 0}));
  EXPECT_NE(error_of([&] { one_hot(labels({3}, {1}), 3); }).find("one_hot: target value 3"), std::string::npos);
}

// ---------------------------------------------------------------- batch norm
TEST(BatchNormValues, RunningStatsAfterOneStepUseUnbiasedVariance) {
  // x [2, 2, 3]: channel 0 = {1,2,3} ∪ {4,5,6}: mean 3.5, biased var 17.5/6, unbiased 3.5;
  //              channel 1 = {0,0,0} ∪ {2,2,2}: mean 1, biased var 1, unbiased 1.2.
  Tensor x = f64({1, 2, 3, 0, 0, 0, 4, 5, 6, 2, 2, 2}, {2, 2, 3});
  Tensor rm = Tensor::zeros({2}, DType::F64), rv = Tensor::ones({2}, DType::F64);
  Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
  EXPECT_NEAR(rm.at({0}), 0.35, 1e-15);
  EXPECT_NEAR(rm.at({1}), 0.1, 1e-15);
  EXPECT_NEAR(rv.at({0}), 0.9 + 0.1 * 3.5, 1e-15);
  EXPECT_NEAR(rv.at({1}), 0.9 + 0.1 * 1.2, 1e-15);
  // The output uses the batch statistics with the biased variance.
  EXPECT_NEAR(y.at({0, 0, 0}), (1 - 3.5) / std::sqrt(17.5 / 6 + 1e-5), 1e-12);
  EXPECT_NEAR(y.at({1, 1, 2}), (2 - 1) / std::sqrt(1 + 1e-5), 1e-12);
}

TEST(BatchNormValues, EvalUsesRunningStatsAndLeavesThemAlone) {
  Tensor x = f64({1, 2, 3, 0, 0, 0, 4, 5, 6, 2, 2, 2}, {2, 2, 3}).set_requires_grad();
  Tensor rm = f64({0.5, -1.0}, {2}), rv = f64({4.0, 0.25}, {2});
  Tensor g = f64({2.0, 3.0}, {2}).set_requires_grad(), b = f64({0.1, -0.2}, {2}).set_requires_grad();
  Tensor y = batch_norm(x, g, b, rm, rv, false, 0.1, 1e-5);
  EXPECT_NEAR(y.at({1, 0, 1}), (5 - 0.5) / std::sqrt(4 + 1e-5) * 2.0 + 0.1, 1e-12);
  EXPECT_NEAR(y.at({0, 1, 0}), (0 + 1.0) / std::sqrt(0.25 + 1e-5) * 3.0 - 0.2, 1e-12);
  EXPECT_EQ(rm.to_vector(), (DV{0.5, -1.0}));
  EXPECT_EQ(rv.to_vector(), (DV{4.0, 0.25}));
  sum(y).backward();
  // Eval: dy/dx = gamma / sqrt(rv + eps), a constant per channel; running buffers get nothing.
  EXPECT_NEAR(x.grad().at({1, 1, 2}), 3.0 / std::sqrt(0.25 + 1e-5), 1e-12);
  EXPECT_NEAR(b.grad().at({0}), 6.0, 1e-12);
  EXPECT_FALSE(rm.grad().defined());
  EXPECT_FALSE(rv.grad().defined());
}

TEST(BatchNormValues, Errors) {
  Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
  std::string e = error_of([&] { batch_norm(Tensor::zeros({1, 3}), Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5); });
  EXPECT_NE(e.find("batch_norm: training needs more than one value per channel"), std::string::npos) << e;
  Tensor bad = Tensor::zeros({4});
  e = error_of([&] { batch_norm(Tensor::zeros({2, 3, 5}), Tensor(), Tensor(), bad, rv, true, 0.1, 1e-5); });
  EXPECT_NE(e.find("batch_norm: running_mean must have shape [3]"), std::string::npos) << e;
  Tensor none;
  e = error_of([&] { batch_norm(Tensor::zeros({2, 3, 5}), Tensor(), Tensor(), none, none, false, 0.1, 1e-5); });
  EXPECT_NE(e.find("batch_norm: eval mode needs"), std::string::npos) << e;
}

// ---------------------------------------------------------------- group norm / layer norm
TEST(GroupNormValues, ZeroMeanUnitVariancePerGroup) {
  Tensor x = Tensor::empty({2, 6, 5, 7}, DType::F32);
  Generator gen(7);
  gen.uniform_(x, 95.0, 105.0);  // offset far from 0: the statistics must not cancel
  Tensor y = group_norm(x, 3, Tensor(), Tensor(), 1e-6);
  auto v = y.to_vector();
  const int64_t M = 2 * 5 * 7;  // elements per (n, g)
  for (int64_t ng = 0; ng < 6; ++ng) {
    double s = 0, ss = 0;
    for (int64_t i = 0; i < M; ++i) s += v[ng * M + i];
    const double m = s / M;
    for (int64_t i = 0; i < M; ++i) ss += (v[ng * M + i] - m) * (v[ng * M + i] - m);
    EXPECT_NEAR(m, 0.0, 1e-5) << "group " << ng;
    EXPECT_NEAR(ss / M, 1.0, 1e-4) << "group " << ng;
  }
  // Affine: gamma scales and beta shifts each channel.
  Tensor g = Tensor::full({6}, 2.0), b = Tensor::full({6}, -1.0);
  Tensor ya = group_norm(x, 3, g, b, 1e-6);
  EXPECT_NEAR(ya.at({1, 4, 2, 3}), 2.0 * y.at({1, 4, 2, 3}) - 1.0, 1e-5);
  EXPECT_NE(error_of([&] { group_norm(x, 4, Tensor(), Tensor(), 1e-6); }).find("group_norm: 6 channels"),
            std::string::npos);
}

TEST(LayerNormValues, HandComputedRow) {
  // Row {1, 2, 3, 4}: mean 2.5, biased var 1.25.
  Tensor x = f64({1, 2, 3, 4}, {1, 4});
  Tensor g = f64({1, 2, 1, 1}, {4}), b = f64({0, 0, 0, 0.5}, {4});
  Tensor y = layer_norm(x, g, b, 1e-6);
  const double r = 1.0 / std::sqrt(1.25 + 1e-6);
  EXPECT_NEAR(y.at({0, 0}), -1.5 * r, 1e-14);
  EXPECT_NEAR(y.at({0, 1}), -0.5 * r * 2.0, 1e-14);
  EXPECT_NEAR(y.at({0, 3}), 1.5 * r + 0.5, 1e-14);
  EXPECT_NE(error_of([&] { layer_norm(x, f64({1, 2, 3}, {3}), Tensor(), 1e-6); }).find("layer_norm: gamma"),
            std::string::npos);
}

// ---------------------------------------------------------------- softmax
TEST(SoftmaxValues, StableWithLargeLogits) {
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), z = 1 + e1 + e2;
  for (double off : {0.0, 1000.0, -1000.0}) {
    Tensor x = Tensor::from_vector(std::vector<float>{(float)off, (float)(off + 1), (float)(off + 2)}, {1, 3});
    auto p = softmax(x, 1).to_vector();
    EXPECT_NEAR(p[0], 1 / z, 1e-6) << off;
    EXPECT_NEAR(p[2], e2 / z, 1e-6) << off;
    auto lp = log_softmax(x, -1).to_vector();
    EXPECT_NEAR(lp[0], -std::log(z), 1e-5) << off;
    EXPECT_NEAR(lp[1], 1 - std::log(z), 1e-5) << off;
  }
  // Cross-entropy on logits of 1000 is finite and correct too.
  Tensor x = Tensor::from_vector(std::vector<float>{1000.f, 1002.f}, {1, 2});
  EXPECT_NEAR(cross_entropy(x, labels({0}, {1})).item(), std::log(1 + e2), 1e-5);
}

TEST(SoftmaxValues, SumsToOneOverTheChosenDim) {
  Tensor x = Tensor::empty({3, 4, 5}, DType::F64);
  Generator gen(3);
  gen.uniform_(x, -5, 5);
  Tensor s = sum(softmax(x, 1), {1});
  for (double v : s.to_vector()) EXPECT_NEAR(v, 1.0, 1e-14);
}

// The vectorised f32 row loops (tensor/cpu/softmax_fast.h), each instruction set the CPU has, against
// the formula in double: rows shorter than a vector, exactly one, with a tail, the ViT's 196 tokens.
TEST(SoftmaxValues, VectorisedRowsMatchTheDoubleFormulaOnEveryIsa) {
  using Fwd = void (*)(const float*, float*, int64_t, int64_t, bool);
  using Bwd = void (*)(const float*, const float*, float*, int64_t, int64_t, bool);
  std::vector<std::pair<Fwd, Bwd>> isas = {{cpu::softmax_f32_rows, cpu::softmax_f32_rows_backward_add}};
  if (cpu::cpu_has_avx2_fma()) isas.push_back({cpu::softmax_f32_rows_avx2, cpu::softmax_f32_rows_backward_add_avx2});
  if (cpu::cpu_has_avx512())
    isas.push_back({cpu::softmax_f32_rows_avx512, cpu::softmax_f32_rows_backward_add_avx512});
  for (int64_t n : {1, 7, 16, 33, 196, 197}) {
    const int64_t rows = 3;
    std::vector<float> x((size_t)(rows * n)), gy(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = (float)(30.0 * std::sin(0.7 * (double)i + 0.3));  // [-30, 30]
      gy[i] = (float)std::cos(1.3 * (double)i);
    }
    for (bool log : {false, true}) {
      // The formula in double: p = exp(x - max) / sum, y = p or log p; backward into gx = 0.25.
      std::vector<double> ref(x.size()), gref(x.size());
      for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x.data() + r * n;
        double mx = xr[0], z = 0, sgy = 0, sgp = 0;
        for (int64_t k = 0; k < n; ++k) mx = std::max(mx, (double)xr[k]);
        for (int64_t k = 0; k < n; ++k) z += std::exp((double)xr[k] - mx);
        for (int64_t k = 0; k < n; ++k) {
          const double p = std::exp((double)xr[k] - mx) / z, g = gy[(size_t)(r * n + k)];
          ref[(size_t)(r * n + k)] = log ? (double)xr[k] - mx - std::log(z) : p;
          sgy += g;
          sgp += g * p;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double p = std::exp((double)xr[k] - mx) / z, g = gy[(size_t)(r * n + k)];
          gref[(size_t)(r * n + k)] = 0.25 + (log ? g - p * sgy : p * (g - sgp));
        }
      }
      for (auto [fwd, bwd] : isas) {
        std::vector<float> y(x.size()), gx(x.size(), 0.25f);
        fwd(x.data(), y.data(), rows, n, log);
        bwd(gy.data(), y.data(), gx.data(), rows, n, log);
        for (size_t i = 0; i < x.size(); ++i) {
          // f32's rounding of x - max (up to 60 here) alone moves exp by up to 60 * 2^-24 relative.
          const double tol = log ? 1e-5 * std::max(1.0, std::fabs(ref[i])) : 5e-6 * ref[i] + 1e-37;
          ASSERT_NEAR(y[i], ref[i], tol) << "n " << n << " log " << log << " at " << i;
          ASSERT_NEAR(gx[i], gref[i], 2e-5) << "n " << n << " log " << log << " at " << i;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- determinism across thread counts
TEST(SoftmaxDeterminism, AttentionRowsBitwiseIdenticalForAnyThreadCount) {
  auto run = [](int threads) {
    cpu::set_num_threads(threads);
    Generator gen(5);
    Tensor a = Tensor::empty({2, 12, 196, 196}), g = Tensor::empty({2, 12, 196, 196});
    gen.uniform_(a, -8, 8);
    gen.uniform_(g, -1, 1);
    a.set_requires_grad();
    Tensor y = softmax(a, -1);
    sum(mul(y, g)).backward();
    return std::make_pair(y.to_vector_as<float>(), a.grad().to_vector_as<float>());
  };
  const int prev = cpu::num_threads();
  auto one = run(1), many = run(3);
  cpu::set_num_threads(prev);
  ASSERT_EQ(one.first.size(), many.first.size());
  EXPECT_EQ(0, std::memcmp(one.first.data(), many.first.data(), one.first.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(one.second.data(), many.second.data(), one.second.size() * sizeof(float)));
}

TEST(NormDeterminism, BitwiseIdenticalForAnyThreadCount) {
  auto run = [](int threads) {
    cpu::set_num_threads(threads);
    Generator gen(11);
    Tensor a = Tensor::empty({2, 49, 768}), g = Tensor::empty({768}), c = Tensor::empty({1, 64, 56, 56}),
           l = Tensor::empty({2, 9, 16, 16});
    gen.uniform_(a, -2, 2);
    gen.uniform_(g, 0.5, 1.5);
    gen.uniform_(c, -2, 2);
    gen.uniform_(l, -3, 3);
    a.set_requires_grad();
    g.set_requires_grad();
    c.set_requires_grad();
    l.set_requires_grad();
    std::vector<int32_t> t(2 * 16 * 16);
    for (size_t i = 0; i < t.size(); ++i) t[i] = (int32_t)((i * 7) % 9);
    Tensor tl = Tensor::from_vector(t, {2, 16, 16});
    Tensor loss = add(add(sum(square(layer_norm(a, g, Tensor(), 1e-6))), sum(square(group_norm(c, 32, Tensor(), Tensor(), 1e-6)))),
                      add(cross_entropy(l, tl), soft_dice_loss(l, tl)));
    loss.backward();
    std::vector<std::vector<float>> out;
    out.push_back(loss.to_vector_as<float>());
    for (Tensor* p : {&a, &g, &c, &l}) out.push_back(p->grad().to_vector_as<float>());
    return out;
  };
  const int prev = cpu::num_threads();
  auto one = run(1), many = run(4);
  cpu::set_num_threads(prev);
  for (size_t i = 0; i < one.size(); ++i) {
    ASSERT_EQ(one[i].size(), many[i].size());
    EXPECT_EQ(0, std::memcmp(one[i].data(), many[i].data(), one[i].size() * sizeof(float))) << "tensor " << i;
  }
}

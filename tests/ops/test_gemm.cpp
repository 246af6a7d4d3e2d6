// gemm<float> (optimised, both ISA paths where the CPU has them) against gemm_ref, the spec:
// all transpose combinations, odd sizes around the micro-tile and block edges, padded leading
// dimensions, alpha/beta (beta = 0 must ignore NaN in C), and bitwise-identical results for 1, 2
// and 3 threads.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "autograd/ops.h"
#include "tensor/cpu/gemm.h"
#include "tensor/cpu/gemm_kernels.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/cpu/parallel.h"

using namespace gb::cpu;

namespace {

std::vector<float> rnd(size_t n, uint64_t seed) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
  for (auto& x : v) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x = (float)((double)(s >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
  }
  return v;
}

struct Problem {
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  float alpha, beta;
  std::vector<float> A, B, C0;
  Problem(bool ta_, bool tb_, int64_t M_, int64_t N_, int64_t K_, int64_t pad, float al, float be, uint64_t seed)
      : ta(ta_), tb(tb_), M(M_), N(N_), K(K_), alpha(al), beta(be) {
    // Stored shapes: A [M,K] or [K,M]; B [K,N] or [N,K]; leading dims padded by `pad`.
    lda = (ta ? M : K) + pad;
    ldb = (tb ? K : N) + pad;
    ldc = N + pad;
    A = rnd((size_t)((ta ? K : M) * lda + 1), seed);
    B = rnd((size_t)((tb ? N : K) * ldb + 1), seed + 1);
    C0 = rnd((size_t)(M * ldc + 1), seed + 2);
    if (beta == 0.f)
      for (auto& c : C0) c = std::numeric_limits<float>::quiet_NaN();
  }
  std::vector<float> run(bool ref) const {
    std::vector<float> C = C0;
    if (ref)
      gemm_ref<float>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    else
      gemm<float>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    return C;
  }
};

// Compares inside the M x N window (tolerance scaled by K: the kernels use FMA and K blocking) and
// checks the padding columns of C were left untouched.
void expect_close(const Problem& p, const std::vector<float>& got, const std::vector<float>& ref) {
  const double tol = 1e-6 * (double)(p.K + 4) * (std::abs(p.alpha) + 1);
  int bad = 0;
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.ldc; ++n) {
      const size_t i = (size_t)(m * p.ldc + n);
      if (n >= p.N) {
        if (!(std::isnan(got[i]) && std::isnan(p.C0[i])) && got[i] != p.C0[i] && bad++ < 3)
          ADD_FAILURE() << "padding C[" << m << "," << n << "] was written";
        continue;
      }
      if (!(std::abs((double)got[i] - (double)ref[i]) <= tol) && bad++ < 3)
        ADD_FAILURE() << "C[" << m << "," << n << "] = " << got[i] << ", reference " << ref[i];
    }
  EXPECT_EQ(bad, 0) << "ta=" << p.ta << " tb=" << p.tb << " M=" << p.M << " N=" << p.N << " K=" << p.K
                    << " ldc=" << p.ldc << " alpha=" << p.alpha << " beta=" << p.beta;
}

std::vector<SgemmPath> paths() {
  std::vector<SgemmPath> v;
  if (cpu_has_avx512()) v.push_back(SgemmPath::AVX512);
  if (cpu_has_avx2_fma()) v.push_back(SgemmPath::AVX2);
  return v;
}

struct PathGuard {
  explicit PathGuard(SgemmPath p) : prev(sgemm_path()) { set_sgemm_path(p); }
  ~PathGuard() { set_sgemm_path(prev); }
  SgemmPath prev;
};

struct ThreadsGuard {
  ThreadsGuard() : prev(num_threads()) {}
  ~ThreadsGuard() { set_num_threads(prev); }
  int prev;
};

}  // namespace

TEST(Gemm, OddSizesAllTransposes) {
  if (paths().empty()) GTEST_SKIP() << "no optimised SGEMM path on this CPU";
  const int64_t sizes[] = {1, 2, 3, 5, 7, 13, 14, 15, 16, 17, 29, 31, 32, 33, 47, 63, 64, 65, 67};
  uint64_t seed = 1;
  for (SgemmPath path : paths()) {
    PathGuard pg(path);
    for (int t = 0; t < 4; ++t)
      for (int64_t M : sizes)
        for (int64_t N : {1, 3, 16, 17, 33, 67})
          for (int64_t K : {1, 7, 64, 65}) {
            Problem p(t & 1, t & 2, M, N, K, 0, 1.f, 0.f, seed++);
            SCOPED_TRACE(sgemm_path_name(path));
            expect_close(p, p.run(false), p.run(true));
            if (HasFailure()) return;
          }
  }
}

TEST(Gemm, LargerThanBlocksPaddedLeadingDims) {
  if (paths().empty()) GTEST_SKIP() << "no optimised SGEMM path on this CPU";
  for (int t = 0; t < 4; ++t) {
    Problem p(t & 1, t & 2, 300, 257, 513, 5, 1.f, 0.f, 100 + t);
    Problem q(t & 1, t & 2, 181, 1100, 300, 3, 0.5f, -1.5f, 200 + t);  // N > NC, K > KC, beta != 0
    const auto pr = p.run(true), qr = q.run(true);
    for (SgemmPath path : paths()) {
      PathGuard pg(path);
      SCOPED_TRACE(sgemm_path_name(path));
      expect_close(p, p.run(false), pr);
      expect_close(q, q.run(false), qr);
    }
  }
}

TEST(Gemm, AlphaBeta) {
  if (paths().empty()) GTEST_SKIP() << "no optimised SGEMM path on this CPU";
  for (SgemmPath path : paths()) {
    PathGuard pg(path);
    SCOPED_TRACE(sgemm_path_name(path));
    const float ab[][2] = {{1, 0}, {2.5f, 0}, {1, 1}, {-0.5f, 2}, {0, 3}, {1.25f, -1}};
    uint64_t seed = 500;
    for (auto& x : ab)
      for (int64_t K : {1, 37, 300}) {
        Problem p(false, true, 45, 70, K, 2, x[0], x[1], seed++);
        expect_close(p, p.run(false), p.run(true));
      }
  }
}

TEST(Gemm, DegenerateShapes) {
  for (SgemmPath path : paths()) {
    PathGuard pg(path);
    // K = 0: C = beta * C; beta = 0 overwrites NaN with 0.
    Problem p(false, false, 5, 9, 0, 1, 1.f, 2.f, 9);
    auto got = p.run(false);
    for (int64_t m = 0; m < 5; ++m)
      for (int64_t n = 0; n < 9; ++n) EXPECT_EQ(got[m * p.ldc + n], 2.f * p.C0[m * p.ldc + n]);
    Problem z(true, false, 5, 9, 0, 0, 1.f, 0.f, 9);
    auto gz = z.run(false);
    for (int64_t i = 0; i < 5 * 9; ++i) EXPECT_EQ(gz[(size_t)i], 0.f);
    // M = 0 / N = 0: nothing is touched.
    Problem e(false, false, 0, 9, 4, 0, 1.f, 0.f, 9);
    EXPECT_NO_THROW(e.run(false));
    Problem f(false, false, 3, 0, 4, 0, 1.f, 0.f, 9);
    auto gf = f.run(false);
    for (size_t i = 0; i < gf.size(); ++i) EXPECT_TRUE(std::isnan(gf[i]));
  }
}

TEST(Gemm, BitwiseAcrossThreadCounts) {
  if (paths().empty()) GTEST_SKIP() << "no optimised SGEMM path on this CPU";
  ThreadsGuard tg;
  for (int t = 0; t < 4; ++t)
    for (auto mnk : {std::array<int64_t, 3>{300, 257, 513}, std::array<int64_t, 3>{1000, 40, 300},
                     std::array<int64_t, 3>{70, 1100, 90}}) {
      Problem p(t & 1, t & 2, mnk[0], mnk[1], mnk[2], 1, 1.f, 0.5f, 900 + t);
      const auto ref = p.run(true);
      for (SgemmPath path : paths()) {
        PathGuard pg(path);
        SCOPED_TRACE(sgemm_path_name(path));
        set_num_threads(1);
        auto c1 = p.run(false);
        set_num_threads(2);
        auto c2 = p.run(false);
        set_num_threads(3);
        auto c3 = p.run(false);
        EXPECT_EQ(0, std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float))) << "1 vs 2 threads";
        EXPECT_EQ(0, std::memcmp(c1.data(), c3.data(), c1.size() * sizeof(float))) << "1 vs 3 threads";
        expect_close(p, c2, ref);
      }
    }
}

TEST(Gemm, ReferenceSwitchAndDouble) {
  // With the reference switch on, gemm<float> is exactly gemm_ref; f64 always is.
  Problem p(true, false, 33, 65, 17, 2, 1.f, 0.f, 77);
  {
    ReferenceKernelsGuard rg(true);
    EXPECT_EQ(sgemm_path_resolved(), SgemmPath::Reference);
    auto a = p.run(false), b = p.run(true);
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  }
  std::vector<double> A(6 * 4), B(4 * 5), C1(6 * 5, 1.0), C2(6 * 5, 1.0);
  for (size_t i = 0; i < A.size(); ++i) A[i] = 0.1 * (double)i - 1;
  for (size_t i = 0; i < B.size(); ++i) B[i] = 0.3 * (double)i - 2;
  gemm<double>(false, false, 6, 5, 4, 2.0, A.data(), 4, B.data(), 5, 0.5, C1.data(), 5);
  gemm_ref<double>(false, false, 6, 5, 4, 2.0, A.data(), 4, B.data(), 5, 0.5, C2.data(), 5);
  EXPECT_EQ(C1, C2);
}

TEST(Gemm, ForcingMissingIsaThrows) {
  if (!cpu_has_avx512()) {
    EXPECT_THROW(set_sgemm_path(SgemmPath::AVX512), std::exception);
  } else {
    EXPECT_NO_THROW(set_sgemm_path(SgemmPath::AVX512));
    set_sgemm_path(SgemmPath::Auto);
  }
}

// The ops on top at sizes past the micro-tiles and K blocks (the harness cases are small): batched
// matmul with a transposed operand and linear, forward and backward. Returns every output and gradient.
std::vector<float> run_matmul_ops(int threads) {
  set_num_threads(threads);
  std::vector<float> out;
  gb::Tensor a = gb::Tensor::from_vector(rnd(4 * 3 * 37 * 29, 1), {4, 3, 37, 29}).set_requires_grad();
  gb::Tensor b = gb::Tensor::from_vector(rnd(3 * 29 * 41, 2), {3, 29, 41}).set_requires_grad();
  gb::Tensor x = gb::Tensor::from_vector(rnd(5 * 70 * 130, 3), {5, 70, 130}).set_requires_grad();
  gb::Tensor w = gb::Tensor::from_vector(rnd(90 * 130, 4), {90, 130}).set_requires_grad();
  gb::Tensor bias = gb::Tensor::from_vector(rnd(90, 5), {90}).set_requires_grad();
  gb::Tensor y = gb::matmul(a, gb::transpose(gb::contiguous(gb::transpose(b, 1, 2)), 1, 2));  // transposed view
  gb::Tensor z = gb::linear(x, w, bias);
  gb::add(gb::sum(gb::square(y)), gb::sum(gb::square(z))).backward();
  for (const gb::Tensor& t : {y, z, a.grad(), b.grad(), x.grad(), w.grad(), bias.grad()}) {
    auto v = t.to_vector_as<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// Same bits for 1 and 2 threads.
TEST(MatmulOps, BitwiseAcrossThreadCounts) {
  ThreadsGuard tg;
  const auto r1 = run_matmul_ops(1), r2 = run_matmul_ops(2);
  ASSERT_EQ(r1.size(), r2.size());
  EXPECT_EQ(0, std::memcmp(r1.data(), r2.data(), r1.size() * sizeof(float)));
}

// Optimised kernels agree with the reference kernels (relative to the largest magnitude).
TEST(MatmulOps, OptimisedMatchesReference) {
  ThreadsGuard tg;
  std::vector<float> ref;
  {
    ReferenceKernelsGuard rg(true);
    ref = run_matmul_ops(2);
  }
  const auto got = run_matmul_ops(2);
  ASSERT_EQ(ref.size(), got.size());
  double scale = 0, worst = 0;
  for (float v : ref) scale = std::max(scale, (double)std::abs(v));
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs((double)got[i] - (double)ref[i]));
  EXPECT_LE(worst, 1e-5 * scale) << "worst abs difference " << worst << " (max |ref| " << scale << ")";
}

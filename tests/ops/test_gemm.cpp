// gemm<float> and gemm<double> (optimised, both ISA paths where the CPU has them) against gemm_ref,
// the spec: all transpose combinations, odd sizes around the micro-tile and block edges, padded
// leading dimensions, alpha/beta (beta = 0 must ignore NaN in C), degenerate shapes, and
// bitwise-identical results for 1, 2 and 3 threads. Each check is a template run for both
// precisions: Gemm.* is f32, GemmF64.* is f64 (the f64 tolerance is ~1e-13 per unit of K).
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

template <class T = float>
std::vector<T> rnd(size_t n, uint64_t seed) {
  std::vector<T> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
  for (auto& x : v) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x = (T)((double)(s >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
  }
  return v;
}

template <class T>
struct Problem {
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  T alpha, beta;
  std::vector<T> A, B, C0;
  Problem(bool ta_, bool tb_, int64_t M_, int64_t N_, int64_t K_, int64_t pad, T al, T be, uint64_t seed)
      : ta(ta_), tb(tb_), M(M_), N(N_), K(K_), alpha(al), beta(be) {
    // Stored shapes: A [M,K] or [K,M]; B [K,N] or [N,K]; leading dims padded by `pad`.
    lda = (ta ? M : K) + pad;
    ldb = (tb ? K : N) + pad;
    ldc = N + pad;
    A = rnd<T>((size_t)((ta ? K : M) * lda + 1), seed);
    B = rnd<T>((size_t)((tb ? N : K) * ldb + 1), seed + 1);
    C0 = rnd<T>((size_t)(M * ldc + 1), seed + 2);
    if (beta == T(0))
      for (auto& c : C0) c = std::numeric_limits<T>::quiet_NaN();
  }
  std::vector<T> run(bool ref) const {
    std::vector<T> C = C0;
    if (ref)
      gemm_ref<T>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    else
      gemm<T>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    return C;
  }
};

// Per-unit-of-K tolerance: operands are O(1), so this is relative to the scale of C. About 10 ulp
// (f32) / 500 ulp (f64) per term, far above FMA and K-block rounding differences and far below one
// dropped or doubled product (~0.3).
template <class T>
constexpr double kTolPerK = sizeof(T) == 4 ? 1e-6 : 1e-13;

// Compares inside the M x N window (tolerance scaled by K: the kernels use FMA and K blocking) and
// checks the padding columns of C were left untouched.
template <class T>
void expect_close(const Problem<T>& p, const std::vector<T>& got, const std::vector<T>& ref) {
  const double tol = kTolPerK<T> * (double)(p.K + 4) * (std::abs((double)p.alpha) + 1);
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

std::vector<GemmPath> paths() {
  std::vector<GemmPath> v;
  if (cpu_has_avx512()) v.push_back(GemmPath::AVX512);
  if (cpu_has_avx2_fma()) v.push_back(GemmPath::AVX2);
  return v;
}

struct PathGuard {
  explicit PathGuard(GemmPath p) : prev(gemm_path()) { set_gemm_path(p); }
  ~PathGuard() { set_gemm_path(prev); }
  GemmPath prev;
};

struct ThreadsGuard {
  ThreadsGuard() : prev(num_threads()) {}
  ~ThreadsGuard() { set_num_threads(prev); }
  int prev;
};

template <class T>
void odd_sizes_all_transposes() {
  // Around every micro-tile edge: MR is 14 / 6 (f32), 8 / 4 (f64); NR 32 / 16 (f32), 24 / 12 (f64).
  const int64_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 14, 15, 16, 17, 29, 31, 32, 33, 47, 63, 64, 65, 67};
  uint64_t seed = 1;
  for (GemmPath path : paths()) {
    PathGuard pg(path);
    for (int t = 0; t < 4; ++t)
      for (int64_t M : sizes)
        for (int64_t N : {1, 3, 4, 5, 8, 9, 12, 13, 16, 17, 23, 24, 25, 33, 49, 67})
          for (int64_t K : {1, 3, 7, 64, 65, 193}) {
            Problem<T> p(t & 1, t & 2, M, N, K, 0, T(1), T(0), seed++);
            SCOPED_TRACE(gemm_path_name(path));
            expect_close(p, p.run(false), p.run(true));
            if (::testing::Test::HasFailure()) return;
          }
  }
}

template <class T>
void larger_than_blocks_padded_leading_dims() {
  for (int t = 0; t < 4; ++t) {
    Problem<T> p(t & 1, t & 2, 300, 257, 513, 5, T(1), T(0), 100 + t);
    // N > NC, K > KC (KC 256 / 192, NC up to 1024), beta != 0.
    Problem<T> q(t & 1, t & 2, 181, 1100, 300, 3, T(0.5), T(-1.5), 200 + t);
    const auto pr = p.run(true), qr = q.run(true);
    for (GemmPath path : paths()) {
      PathGuard pg(path);
      SCOPED_TRACE(gemm_path_name(path));
      expect_close(p, p.run(false), pr);
      expect_close(q, q.run(false), qr);
    }
  }
}

template <class T>
void alpha_beta() {
  for (GemmPath path : paths()) {
    PathGuard pg(path);
    SCOPED_TRACE(gemm_path_name(path));
    const T ab[][2] = {{1, 0}, {T(2.5), 0}, {1, 1}, {T(-0.5), 2}, {0, 3}, {T(1.25), -1}};
    uint64_t seed = 500;
    for (int t = 0; t < 4; ++t)
      for (auto& x : ab)
        for (int64_t K : {1, 37, 300}) {
          Problem<T> p(t & 1, t & 2, 45, 70, K, 2, x[0], x[1], seed++);
          expect_close(p, p.run(false), p.run(true));
        }
  }
}

template <class T>
void degenerate_shapes() {
  for (GemmPath path : paths()) {
    PathGuard pg(path);
    SCOPED_TRACE(gemm_path_name(path));
    // K = 0: C = beta * C; beta = 0 overwrites NaN with 0.
    Problem<T> p(false, false, 5, 9, 0, 1, T(1), T(2), 9);
    auto got = p.run(false);
    for (int64_t m = 0; m < 5; ++m)
      for (int64_t n = 0; n < 9; ++n) EXPECT_EQ(got[m * p.ldc + n], T(2) * p.C0[m * p.ldc + n]);
    Problem<T> z(true, false, 5, 9, 0, 0, T(1), T(0), 9);
    auto gz = z.run(false);
    for (int64_t i = 0; i < 5 * 9; ++i) EXPECT_EQ(gz[(size_t)i], T(0));
    // M = 0 / N = 0: nothing is touched.
    Problem<T> e(false, false, 0, 9, 4, 0, T(1), T(0), 9);
    EXPECT_NO_THROW(e.run(false));
    Problem<T> f(false, false, 3, 0, 4, 0, T(1), T(0), 9);
    auto gf = f.run(false);
    for (size_t i = 0; i < gf.size(); ++i) EXPECT_TRUE(std::isnan(gf[i]));
    // One row / one column / one element (a dot product), each transpose.
    for (int t = 0; t < 4; ++t)
      for (auto mnk : {std::array<int64_t, 3>{1, 1, 1}, std::array<int64_t, 3>{1, 1, 1000},
                       std::array<int64_t, 3>{1, 300, 200}, std::array<int64_t, 3>{300, 1, 200}}) {
        Problem<T> d(t & 1, t & 2, mnk[0], mnk[1], mnk[2], 1, T(1), T(0), 40 + t);
        expect_close(d, d.run(false), d.run(true));
      }
  }
}

template <class T>
void bitwise_across_thread_counts() {
  ThreadsGuard tg;
  for (int t = 0; t < 4; ++t)
    for (auto mnk : {std::array<int64_t, 3>{300, 257, 513}, std::array<int64_t, 3>{1000, 40, 300},
                     std::array<int64_t, 3>{70, 1100, 90}}) {
      Problem<T> p(t & 1, t & 2, mnk[0], mnk[1], mnk[2], 1, T(1), T(0.5), 900 + t);
      const auto ref = p.run(true);
      for (GemmPath path : paths()) {
        PathGuard pg(path);
        SCOPED_TRACE(gemm_path_name(path));
        set_num_threads(1);
        auto c1 = p.run(false);
        set_num_threads(2);
        auto c2 = p.run(false);
        set_num_threads(3);
        auto c3 = p.run(false);
        EXPECT_EQ(0, std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(T))) << "1 vs 2 threads";
        EXPECT_EQ(0, std::memcmp(c1.data(), c3.data(), c1.size() * sizeof(T))) << "1 vs 3 threads";
        expect_close(p, c2, ref);
      }
    }
}

// With the reference switch on, gemm<T> is exactly gemm_ref, whatever path is forced.
template <class T>
void reference_switch() {
  Problem<T> p(true, false, 33, 65, 17, 2, T(1), T(0), 77);
  Problem<T> q(false, true, 40, 70, 300, 1, T(2), T(0.5), 78);
  for (GemmPath path : paths()) {
    PathGuard pg(path);
    ReferenceKernelsGuard rg(true);
    EXPECT_EQ(gemm_path_resolved(), GemmPath::Reference);
    for (const Problem<T>* x : {&p, &q}) {
      auto a = x->run(false), b = x->run(true);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(T)));
    }
  }
}

}  // namespace

#define GB_SKIP_WITHOUT_PATHS() \
  if (paths().empty()) GTEST_SKIP() << "no optimised GEMM path on this CPU"

TEST(Gemm, OddSizesAllTransposes) {
  GB_SKIP_WITHOUT_PATHS();
  odd_sizes_all_transposes<float>();
}
TEST(GemmF64, OddSizesAllTransposes) {
  GB_SKIP_WITHOUT_PATHS();
  odd_sizes_all_transposes<double>();
}

TEST(Gemm, LargerThanBlocksPaddedLeadingDims) {
  GB_SKIP_WITHOUT_PATHS();
  larger_than_blocks_padded_leading_dims<float>();
}
TEST(GemmF64, LargerThanBlocksPaddedLeadingDims) {
  GB_SKIP_WITHOUT_PATHS();
  larger_than_blocks_padded_leading_dims<double>();
}

TEST(Gemm, AlphaBeta) {
  GB_SKIP_WITHOUT_PATHS();
  alpha_beta<float>();
}
TEST(GemmF64, AlphaBeta) {
  GB_SKIP_WITHOUT_PATHS();
  alpha_beta<double>();
}

TEST(Gemm, DegenerateShapes) { degenerate_shapes<float>(); }
TEST(GemmF64, DegenerateShapes) { degenerate_shapes<double>(); }

TEST(Gemm, BitwiseAcrossThreadCounts) {
  GB_SKIP_WITHOUT_PATHS();
  bitwise_across_thread_counts<float>();
}
TEST(GemmF64, BitwiseAcrossThreadCounts) {
  GB_SKIP_WITHOUT_PATHS();
  bitwise_across_thread_counts<double>();
}

TEST(Gemm, ReferenceSwitch) { reference_switch<float>(); }
TEST(GemmF64, ReferenceSwitch) { reference_switch<double>(); }

// gemm<double> takes the optimised path too (it used to be the reference always): on a CPU with a
// path it differs from gemm_ref in the last bits somewhere in a long product (FMA, K blocks), and
// agrees to rounding. Guards against the dispatch silently falling back to the reference.
TEST(GemmF64, DispatchesToOptimisedPath) {
  GB_SKIP_WITHOUT_PATHS();
  ThreadsGuard tg;
  set_num_threads(2);
  Problem<double> p(false, false, 64, 64, 1000, 0, 1.0, 0.0, 31);
  const auto a = p.run(false), b = p.run(true);
  expect_close(p, a, b);
  EXPECT_NE(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(double)));
}

TEST(Gemm, ForcingMissingIsaThrows) {
  if (!cpu_has_avx512()) {
    EXPECT_THROW(set_gemm_path(GemmPath::AVX512), std::exception);
  } else {
    EXPECT_NO_THROW(set_gemm_path(GemmPath::AVX512));
    set_gemm_path(GemmPath::Auto);
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

// Batched products of attention's size (12 heads of 196 x 196 x 64, as R50-ViT-B_16's blocks) run
// one batch per thread: the result is bitwise the same for 1, 2 and 3 threads and equal to the
// batches computed one by one.
TEST(Gemm, BatchedMidSizeProductsAreThreadCountIndependent) {
  const int64_t nb = 12, M = 196, N = 196, K = 64;
  gb::Tensor a = gb::Tensor::empty({nb, M, K}), b = gb::Tensor::empty({nb, K, N});
  gb::Generator g(5, 0);
  g.uniform_(a, -1, 1);
  g.uniform_(b, -1, 1);
  std::vector<std::vector<double>> outs;
  for (int t : {1, 2, 3}) {
    ThreadsGuard tg;
    set_num_threads(t);
    outs.push_back(gb::matmul(a, b).to_vector());
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(outs[0], outs[2]);
  ThreadsGuard tg;
  set_num_threads(1);
  for (int64_t i = 0; i < nb; i += 5) {
    const auto one = gb::matmul(a.view_slice(0, i, i + 1), b.view_slice(0, i, i + 1)).to_vector();
    for (int64_t k = 0; k < M * N; ++k) ASSERT_EQ(one[(size_t)k], outs[0][(size_t)(i * M * N + k)]) << i << " " << k;
  }
}

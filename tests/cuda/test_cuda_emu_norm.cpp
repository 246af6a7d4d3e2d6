// The CUDA batch-norm statistics (cuda/norm_math.h, run by the CPU emulator) against the CPU backend,
// including the in-place running-buffer update that the op harness cannot see (it compares outputs and
// gradients only): mean, rstd, running_mean and running_var after one call on the same input.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tensor/backend.h"
#include "tests/harness/cuda_emu.h"

namespace gb {
namespace {

// x [N, C, S...] with a channel-dependent offset (so |mean| is not tiny) and deterministic noise.
Tensor bn_input(const Shape& s, DType dt) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  int64_t inner = 1;
  for (size_t d = 2; d < s.size(); ++d) inner *= s[d];
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = (i / inner) % s[1];
    v[i] = 0.5 * (double)c - 1.0 + std::sin(0.37 * (double)i + 0.1) * (1.0 + 0.1 * (double)c);
  }
  return Tensor::from_vector(v, s).to(dt);
}

// Running buffers [C]: contiguous, or every other element of a [2C] buffer (stride 2).
Tensor running(int64_t C, double base, double step, bool strided, DType dt) {
  std::vector<double> v(strided ? 2 * C : C);
  for (size_t i = 0; i < v.size(); ++i) v[i] = base + step * (double)i;
  Tensor t = Tensor::from_vector(v, {(int64_t)v.size()}).to(dt);
  return strided ? t.view_slice(0, 0, 2 * C, 2) : t;
}

void expect_close(const Tensor& got, const Tensor& want, double rtol, const char* what) {
  const auto g = got.to_vector(), w = want.to_vector();
  ASSERT_EQ(g.size(), w.size()) << what;
  for (size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], w[i], rtol * std::max(1.0, std::fabs(w[i]))) << what << " [" << i << "]";
}

void check_stats(const Shape& s, DType dt, bool with_running, bool strided) {
  const int64_t C = s[1];
  const double eps = 1e-5, momentum = 0.1;
  Tensor x = bn_input(s, dt);
  Tensor m_cpu = Tensor::empty({C}, dt), r_cpu = Tensor::empty({C}, dt);
  Tensor m_emu = Tensor::empty({C}, dt), r_emu = Tensor::empty({C}, dt);
  Tensor rm_cpu, rv_cpu, rm_emu, rv_emu;
  if (with_running) {
    rm_cpu = running(C, -0.2, 0.1, strided, dt);
    rv_cpu = running(C, 0.5, 0.25, strided, dt);
    rm_emu = running(C, -0.2, 0.1, strided, dt);
    rv_emu = running(C, 0.5, 0.25, strided, dt);
  }
  backend(Device::CPU).batch_norm_stats(x, eps, momentum, m_cpu, r_cpu, rm_cpu, rv_cpu);
  cuda::cuda_emu_backend().batch_norm_stats(x, eps, momentum, m_emu, r_emu, rm_emu, rv_emu);
  const double rtol = dt == DType::F32 ? 2e-6 : 1e-12;
  expect_close(m_emu, m_cpu, rtol, "mean");
  expect_close(r_emu, r_cpu, rtol, "rstd");
  if (!with_running) return;
  expect_close(rm_emu, rm_cpu, rtol, "running_mean");
  expect_close(rv_emu, rv_cpu, rtol, "running_var");
  // The update really happened (in place, through the view's strides).
  EXPECT_NE(rv_emu.to_vector()[0], running(C, 0.5, 0.25, strided, dt).to_vector()[0]);
  // Eval statistics from the updated buffers.
  Tensor em_cpu = Tensor::empty({C}, dt), er_cpu = Tensor::empty({C}, dt);
  Tensor em_emu = Tensor::empty({C}, dt), er_emu = Tensor::empty({C}, dt);
  backend(Device::CPU).batch_norm_running_stats(rm_cpu, rv_cpu, eps, em_cpu, er_cpu);
  cuda::cuda_emu_backend().batch_norm_running_stats(rm_emu, rv_emu, eps, em_emu, er_emu);
  expect_close(em_emu, em_cpu, rtol, "eval mean");
  expect_close(er_emu, er_cpu, rtol, "eval rstd");
}

TEST(CudaEmuNorm, BatchNormStatsRunningUpdateF32) { check_stats({2, 3, 5, 7}, DType::F32, true, false); }
TEST(CudaEmuNorm, BatchNormStatsRunningUpdateF64) { check_stats({2, 3, 5, 7}, DType::F64, true, false); }
TEST(CudaEmuNorm, BatchNormStatsVolumeStridedRunning) { check_stats({2, 4, 3, 5, 7}, DType::F32, true, true); }
TEST(CudaEmuNorm, BatchNormStatsNoSpatial) { check_stats({7, 33}, DType::F32, true, false); }
TEST(CudaEmuNorm, BatchNormStatsNoRunning) { check_stats({3, 1, 7}, DType::F32, false, false); }

}  // namespace
}  // namespace gb

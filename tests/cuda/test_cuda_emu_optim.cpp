// The CUDA optimiser updates (cuda/optim_math.h, run by the CPU emulator) against the CPU backend:
// both run the same in-place updates on the same random parameters, gradients and state for a few
// steps (fresh gradients each step), and every buffer must agree after every step. The op harness
// cannot see these kernels (they are not autograd ops). Covered: SGD's first step (buf = d), momentum
// steps, weight decay on and off; AdamW's bias corrections at t = 1 and t > 1, with and without
// decoupled weight decay; f32 and f64; a size that is no multiple of anything (1237).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tensor/backend.h"
#include "tests/harness/cuda_emu.h"

namespace gb {
namespace {

constexpr int64_t kN = 1237;

Tensor random_tensor(std::mt19937_64& rng, double lo, double hi, DType dt) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v((size_t)kN);
  for (auto& x : v) x = u(rng);
  return Tensor::from_vector(v, {kN}).to(dt);
}

// Tight: the two backends run the same operations in the same order (equal up to the compiler's
// contraction choices).
void expect_close(const Tensor& got, const Tensor& want, DType dt, const char* what, int step) {
  const double rtol = dt == DType::F32 ? 1e-6 : 1e-14;
  const auto g = got.to_vector(), w = want.to_vector();
  ASSERT_EQ(g.size(), w.size()) << what;
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], rtol * std::max(1.0, std::fabs(w[i]))) << what << " [" << i << "] step " << step;
}

void check_sgd(DType dt, double momentum, double wd) {
  std::mt19937_64 rng(11);
  Tensor w_cpu = random_tensor(rng, -1, 1, dt), w_emu = w_cpu.clone();
  Tensor b_cpu = Tensor::zeros({kN}, dt), b_emu = Tensor::zeros({kN}, dt);
  const Tensor w0 = w_cpu.clone();
  const double lr = 0.05;
  for (int step = 1; step <= 4; ++step) {
    const Tensor g = random_tensor(rng, -2, 2, dt);
    backend(Device::CPU).sgd_update(w_cpu, g, b_cpu, lr, momentum, wd, step == 1);
    cuda::cuda_emu_backend().sgd_update(w_emu, g, b_emu, lr, momentum, wd, step == 1);
    expect_close(w_emu, w_cpu, dt, "w", step);
    expect_close(b_emu, b_cpu, dt, "buf", step);
  }
  EXPECT_NE(w_emu.to_vector()[0], w0.to_vector()[0]);  // the update really happened, in place
}

void check_adamw(DType dt, double wd) {
  std::mt19937_64 rng(23);
  Tensor w_cpu = random_tensor(rng, -1, 1, dt), w_emu = w_cpu.clone();
  Tensor m_cpu = Tensor::zeros({kN}, dt), m_emu = Tensor::zeros({kN}, dt);
  Tensor v_cpu = Tensor::zeros({kN}, dt), v_emu = Tensor::zeros({kN}, dt);
  const Tensor w0 = w_cpu.clone();
  const double lr = 1e-2, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  for (int64_t t = 1; t <= 4; ++t) {
    const Tensor g = random_tensor(rng, -2, 2, dt);
    backend(Device::CPU).adamw_update(w_cpu, g, m_cpu, v_cpu, lr, beta1, beta2, eps, wd, t);
    cuda::cuda_emu_backend().adamw_update(w_emu, g, m_emu, v_emu, lr, beta1, beta2, eps, wd, t);
    expect_close(w_emu, w_cpu, dt, "w", (int)t);
    expect_close(m_emu, m_cpu, dt, "m", (int)t);
    expect_close(v_emu, v_cpu, dt, "v", (int)t);
  }
  EXPECT_NE(w_emu.to_vector()[0], w0.to_vector()[0]);
}

TEST(CudaEmuOptim, SgdMomentumWeightDecayF32) { check_sgd(DType::F32, 0.9, 1e-2); }
TEST(CudaEmuOptim, SgdMomentumWeightDecayF64) { check_sgd(DType::F64, 0.9, 1e-2); }
TEST(CudaEmuOptim, SgdPlainF32) { check_sgd(DType::F32, 0.0, 0.0); }
TEST(CudaEmuOptim, AdamwWeightDecayF32) { check_adamw(DType::F32, 1e-2); }
TEST(CudaEmuOptim, AdamwWeightDecayF64) { check_adamw(DType::F64, 1e-2); }
TEST(CudaEmuOptim, AdamwNoDecayF32) { check_adamw(DType::F32, 0.0); }

// A step's result, checked against the formulas by hand for one element (guards against both
// backends being wrong the same way): SGD first step and one momentum step, AdamW at t = 1 (where the
// bias-corrected step is lr * sign(g) up to eps) and t = 2.
TEST(CudaEmuOptim, OneElementByHand) {
  Tensor w = Tensor::from_vector(std::vector<double>{0.5}, {1}), g = Tensor::from_vector(std::vector<double>{0.2}, {1});
  Tensor buf = Tensor::zeros({1}, DType::F64);
  auto& emu = cuda::cuda_emu_backend();
  emu.sgd_update(w, g, buf, 0.1, 0.9, 0.01, true);  // d = 0.2 + 0.005 = 0.205; buf = d; w = 0.5 - 0.0205
  EXPECT_NEAR(buf.to_vector()[0], 0.205, 1e-15);
  EXPECT_NEAR(w.to_vector()[0], 0.4795, 1e-15);
  emu.sgd_update(w, g, buf, 0.1, 0.9, 0.01, false);  // d = 0.2 + 0.004795; buf = 0.9 * 0.205 + d
  EXPECT_NEAR(buf.to_vector()[0], 0.9 * 0.205 + 0.204795, 1e-15);
  EXPECT_NEAR(w.to_vector()[0], 0.4795 - 0.1 * (0.9 * 0.205 + 0.204795), 1e-15);

  Tensor aw = Tensor::from_vector(std::vector<double>{0.5}, {1});
  Tensor m = Tensor::zeros({1}, DType::F64), v = Tensor::zeros({1}, DType::F64);
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
  emu.adamw_update(aw, g, m, v, lr, b1, b2, eps, wd, 1);
  double ew = 0.5 * (1 - lr * wd), em = 0.1 * 0.2, ev = 0.001 * 0.04;
  ew -= (lr / 0.1) * em / (std::sqrt(ev) / std::sqrt(0.001) + eps);  // = ew - lr * (1 - tiny)
  EXPECT_NEAR(aw.to_vector()[0], ew, 1e-12);
  emu.adamw_update(aw, g, m, v, lr, b1, b2, eps, wd, 2);
  ew *= 1 - lr * wd;
  em = b1 * em + 0.1 * 0.2;
  ev = b2 * ev + 0.001 * 0.04;
  ew -= (lr / (1 - b1 * b1)) * em / (std::sqrt(ev) / std::sqrt(1 - b2 * b2) + eps);
  EXPECT_NEAR(m.to_vector()[0], em, 1e-15);
  EXPECT_NEAR(v.to_vector()[0], ev, 1e-15);
  EXPECT_NEAR(aw.to_vector()[0], ew, 1e-12);
}

}  // namespace
}  // namespace gb

// Training on a CUDA device, end to end, without a GPU: a FakeCudaDevice (tests/harness/cuda_emu.h)
// gives Device::CUDA host memory and the emulated CUDA kernels, so placing a model, its optimiser
// state and its batches on the device runs every CUDA kernel's arithmetic. The losses and the
// trained weights must match training on the CPU (the kernels differ from the CPU's optimised ones
// only in summation order, so the match is close, not bitwise). What this cannot check: host code
// reading device memory directly, which here is host memory (a GPU run, scripts/gpu-check.sh, does).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "autograd/backends.h"
#include "autograd/ops.h"
#include "models/config.h"
#include "models/model.h"
#include "tensor/backend.h"
#include "tests/harness/cuda_emu.h"
#include "tests/train/run_test_util.h"
#include "train/loop.h"
#include "train/sgd.h"

using namespace gb;

namespace {

struct Trace {
  std::vector<double> losses;
  std::vector<std::vector<double>> params;
};

// `steps` SGD steps of the segmentation loss on one fixed batch, on device d.
Trace train_on(const std::string& model_name, Device d, int steps) {
  auto cfg = models::named_config(model_name, 32, 3, 1);
  auto model = models::make_model(cfg, 7);
  model->to(d);
  Shape xs = {2, cfg.in_channels}, ls = {2};
  for (auto s : cfg.size) {
    xs.push_back(s);
    ls.push_back(s);
  }
  Generator g(99, 0);
  Tensor x = Tensor::empty(xs);
  g.uniform_(x, -1, 1);
  std::vector<int32_t> lab(numel(ls));
  for (size_t i = 0; i < lab.size(); ++i) lab[i] = (int32_t)((i * 7 + i / 5) % 3);
  Tensor labels = Tensor::from_vector(lab, ls);
  x = x.to(d);
  labels = labels.to(d);
  std::vector<Tensor> params;
  for (auto& [name, p] : model->named_parameters()) {
    EXPECT_EQ(p.device(), d) << name;
    params.push_back(p);
  }
  train::Sgd sgd(params, train::SgdOptions{});
  model->train();
  Trace t;
  for (int s = 0; s < steps; ++s) {
    sgd.zero_grad();
    Tensor logits = model->forward(x);
    EXPECT_EQ(logits.device(), d);
    Tensor loss = train::segmentation_loss(logits, labels);
    t.losses.push_back(loss.item());
    loss.backward();
    sgd.step();
  }
  for (auto& p : params) t.params.push_back(p.to(Device::CPU).to_vector());
  return t;
}

// fake: on the stand-in device; otherwise on the real GPU (the caller checked there is one).
void expect_same_training(const std::string& model_name, bool fake_device = true) {
  SCOPED_TRACE(model_name);
  const Trace cpu = train_on(model_name, Device::CPU, 3);
  Trace dev;
  {
    std::unique_ptr<cuda::FakeCudaDevice> fake;
    if (fake_device) fake = std::make_unique<cuda::FakeCudaDevice>();
    KernelUseRecorder rec;
    dev = train_on(model_name, Device::CUDA, 3);
    bool any_cuda_kernel = false;
    for (const auto& u : rec.uses()) any_cuda_kernel |= u.kernel == Kernel::conv_forward;
    EXPECT_TRUE(any_cuda_kernel);
  }
  ASSERT_EQ(cpu.losses.size(), dev.losses.size());
  for (size_t s = 0; s < cpu.losses.size(); ++s)
    EXPECT_NEAR(dev.losses[s], cpu.losses[s], 1e-4 * std::fabs(cpu.losses[s])) << "step " << s;
  EXPECT_NE(cpu.losses.front(), cpu.losses.back()) << "training did not move";
  ASSERT_EQ(cpu.params.size(), dev.params.size());
  double worst = 0;
  for (size_t i = 0; i < cpu.params.size(); ++i)
    for (size_t k = 0; k < cpu.params[i].size(); ++k)
      worst = std::max(worst, std::fabs(cpu.params[i][k] - dev.params[i][k]) / (1e-3 + std::fabs(cpu.params[i][k])));
  EXPECT_LT(worst, 1e-3) << "trained weights differ";
}

}  // namespace

TEST(FakeCudaDevice, TrainsTinyTransUNetLikeTheCpu) { expect_same_training("tiny"); }
TEST(FakeCudaDevice, TrainsUNet2dLikeTheCpu) { expect_same_training("unet2d-tiny"); }

// The same on a real GPU (scripts/gpu-check.sh runs these); skipped without one.
TEST(RealCudaDevice, TrainsTinyTransUNetLikeTheCpu) {
  const BackendInfo b = init_backends();
  if (!b.cuda_available) GTEST_SKIP() << "no CUDA device (" << b.why_not << "): the GPU variant did not run";
  expect_same_training("tiny", false);
}
TEST(RealCudaDevice, TrainsUNet2dLikeTheCpu) {
  const BackendInfo b = init_backends();
  if (!b.cuda_available) GTEST_SKIP() << "no CUDA device (" << b.why_not << "): the GPU variant did not run";
  expect_same_training("unet2d-tiny", false);
}

TEST(FakeCudaDevice, TensorsMoveAndComeBack) {
  cuda::FakeCudaDevice fake;
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor d = a.to(Device::CUDA);
  EXPECT_EQ(d.device(), Device::CUDA);
  Tensor y = add(mul_scalar(d, 2.0), d).to(Device::CPU);  // kernels on the device, result back
  EXPECT_EQ(y.to_vector(), (std::vector<double>{3, 6, 9, 12, 15, 18}));
  EXPECT_EQ(sum(d).item(), 21.0);
}

// ---------------------------------------------------------------- the train command's library run
namespace {
std::vector<double> loss_column(const std::string& run) {
  std::ifstream f(run + "/log.csv");
  std::string line;
  std::getline(f, line);
  std::vector<double> v;
  while (std::getline(f, line)) v.push_back(std::stod(line.substr(line.find(',', line.find(',') + 1) + 1)));
  return v;
}
}  // namespace

// `glassbox train --device cuda` as a library run: the model, the optimiser state and the batches
// on the device, validation and checkpoints from it; the log and the saved weights match a CPU run.
TEST(FakeCudaDevice, TrainRunOnTheDeviceMatchesTheCpuRun) {
  const std::string cpu_dir = gbrun::scratch("fakedev_cpu"), dev_dir = gbrun::scratch("fakedev_cuda");
  auto o = gbrun::micro_run(cpu_dir, 8);
  o.device = "cpu";
  train::start_run(o);
  {
    cuda::FakeCudaDevice fake;
    o.out = dev_dir;
    o.device = "cuda";
    std::vector<std::string> said;
    train::RunEvents ev;
    ev.message = [&](const std::string& s) { said.push_back(s); };
    const auto r = train::start_run(o, ev);
    EXPECT_TRUE(r.has_validation);
    bool on_device = false;
    for (const auto& s : said) on_device |= s.find("on cuda") != std::string::npos;
    std::string all;
    for (const auto& s : said) all += s + "\n";
    EXPECT_TRUE(on_device) << "the schedule line should say the run is on the device:\n" << all;
  }
  const auto a = loss_column(cpu_dir), b = loss_column(dev_dir);
  ASSERT_EQ(a.size(), 8u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(b[i], a[i], 1e-3 * std::fabs(a[i])) << "step " << i;
  EXPECT_TRUE(std::filesystem::exists(dev_dir + "/best.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dev_dir + "/model.safetensors"));
  std::filesystem::remove_all(cpu_dir);
  std::filesystem::remove_all(dev_dir);
}

// A resumed run reads its optimiser state on the host: it must land beside the parameters.
TEST(FakeCudaDevice, OptimiserStateLoadsOntoTheParametersDevice) {
  cuda::FakeCudaDevice fake;
  Tensor p = Tensor::from_vector(std::vector<float>{1, 2, 3}, {3}).to(Device::CUDA);
  p.set_requires_grad(true);
  train::Sgd sgd({p}, train::SgdOptions{});
  nn::TensorMap st;
  st["momentum.0"] = Tensor::from_vector(std::vector<float>{0.5f, 0.5f, 0.5f}, {3});  // on the host
  sgd.load_state(st, "checkpoint");
  for (const auto& [name, t] : sgd.state()) EXPECT_EQ(t.device(), Device::CUDA) << name;
}

// A kernel handed a tensor from another device refuses with a clear line instead of reading host
// memory from the GPU (an illegal access reported far from its cause).
TEST(FakeCudaDevice, AKernelRefusesATensorFromAnotherDevice) {
  cuda::FakeCudaDevice fake;
  Tensor x = Tensor::ones({4});  // on the host
  Tensor y = Tensor::empty({4}, DType::F32, Device::CUDA);
  try {
    backend(Device::CUDA).unary(UnaryOp::exp, 0, x, y);
    FAIL() << "the kernel ran on a host tensor";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda kernel 'unary': an argument f32[4] cpu is on cpu"), std::string::npos)
        << e.what();
  }
  backend(Device::CUDA).unary(UnaryOp::exp, 0, x.to(Device::CUDA), y);
  EXPECT_NEAR(y.to(Device::CPU).to_vector()[0], std::exp(1.0), 1e-6);
}

// The stand-in device's memory is out of the host's reach outside kernels and copies: host code
// that reads device memory directly (a bug a GPU would fault on) faults here too.
TEST(FakeCudaDeviceDeathTest, HostCodeReadingDeviceMemoryFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  cuda::FakeCudaDevice fake;
  Tensor d = Tensor::ones({16}).to(Device::CUDA);
  EXPECT_EQ(d.to(Device::CPU).to_vector()[3], 1.0);  // through a copy: fine
  EXPECT_DEATH(
      {
        volatile float v = d.data<float>()[3];
        (void)v;
      },
      "");
}

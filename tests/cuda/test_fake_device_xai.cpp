// Explanations and evaluation with the model on a CUDA device, without a GPU: under a FakeCudaDevice
// (tests/harness/cuda_emu.h) Device::CUDA has memory of its own, guarded so that host code touching it
// directly faults, and runs the CUDA kernels' arithmetic. Every explanation method runs once with the
// model on the CPU and once with the same model moved to the device; the maps must agree to 1e-4 of
// their largest value (the kernels differ from the CPU's optimised ones only in summation order), come
// back as host tensors, and every forward must have run on the device (a hook on the model's first
// child records where its outputs live). Then the pipeline: `glassbox explain` and `glassbox evaluate`
// as library calls with the model(s) on the device give the CPU's rows and metrics. A host read of
// device memory left in the code shows here as a crash (SIGSEGV at that line) or as an error naming
// the device tensor ("tensor must be on the CPU here", "device mismatch").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <set>
#include <unistd.h>

#include "autograd/backends.h"
#include "io/nifti.h"
#include "io/phantom.h"
#include "models/config.h"
#include "models/model.h"
#include "pipeline/evaluate.h"
#include "pipeline/explain.h"
#include "tensor/philox.h"
#include "tests/harness/cuda_emu.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "xai/attention_rollout.h"
#include "xai/baselines.h"
#include "xai/cam.h"
#include "xai/gradcam.h"
#include "xai/gradients.h"
#include "xai/integrated_gradients.h"
#include "xai/layers.h"
#include "xai/occlusion.h"
#include "xai/sanity_checks.h"
#include "xai/smoothgrad.h"
#include "xai/targets.h"

using namespace gb;
namespace fs = std::filesystem;

namespace {

using ModelPtr = std::shared_ptr<models::SegmentationModel>;

ModelPtr small_model(const std::string& name, uint64_t seed = 7) {
  auto m = models::make_model(models::named_config(name, 32, 3, 1), seed);
  m->eval();
  return m;
}

// Uniform [0, 1) input [B, 1, 32, 32] (f32, the model's dtype), on the host.
Tensor input(uint64_t seed, int64_t B = 1) {
  Tensor x = Tensor::empty({B, 1, 32, 32});
  Generator g(seed);
  g.uniform_(x, 0, 1);
  return x;
}

// Class `cls` over the box [8, 24) x [8, 24): a fixed region, whatever the model predicts.
xai::Target box_target(int64_t cls = 2) {
  xai::TargetSpec spec;
  spec.cls = cls;
  spec.region = xai::RegionKind::Box;
  spec.box = {8, 8, 24, 24};
  xai::Target t;
  t.cls = cls;
  t.mask = xai::region_mask(spec, {32, 32}, Tensor(), Tensor());
  return t;
}

// Host tensors that agree to `rel` of the CPU map's largest magnitude. nonzero: the CPU map must not
// be all zeros (a comparison of two zero maps proves nothing).
void expect_close(const Tensor& cpu, const Tensor& dev, const std::string& what, double rel = 1e-4,
                  bool nonzero = true) {
  ASSERT_TRUE(cpu.defined()) << what;
  ASSERT_TRUE(dev.defined()) << what;
  EXPECT_EQ(cpu.device(), Device::CPU) << what;
  EXPECT_EQ(dev.device(), Device::CPU) << what << ": a map from the device run must come back to the host";
  ASSERT_EQ(cpu.shape(), dev.shape()) << what;
  const auto a = cpu.to_vector(), b = dev.to_vector();
  double scale = 0, worst = 0;
  for (double v : a) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(std::isfinite(b[i])) << what << " [" << i << "]";
    worst = std::max(worst, std::fabs(a[i] - b[i]));
  }
  if (nonzero) {
    EXPECT_GT(scale, 0) << what << ": the CPU map is all zeros";
  }
  EXPECT_LE(worst, rel * std::max(scale, 1e-30)) << what << ": worst difference " << worst << " against a largest value "
                                                  << scale;
}

void expect_near_rel(double cpu, double dev, const std::string& what, double rel = 1e-4) {
  EXPECT_NEAR(dev, cpu, rel * std::max(1e-12, std::fabs(cpu))) << what;
}

// The RealCudaDevice tests set this: the GPU instead of a stand-in (scripts/gpu-check.sh runs them).
bool g_real_gpu = false;

// A stand-in CUDA device for the scope, unless a RealCudaDevice test runs on the GPU itself.
std::unique_ptr<cuda::FakeCudaDevice> device_for_test() {
  return g_real_gpu ? nullptr : std::make_unique<cuda::FakeCudaDevice>();
}

// Runs `f` with the model on the host, then again with the model moved to the CUDA device, and hands
// both results to `check` while the device is still alive. Every forward of the device run must have
// run there (a hook on the model's first child records where its outputs live).
template <class F, class C>
void cpu_then_device(models::SegmentationModel& m, F&& f, C&& check) {
  auto cpu = f();
  const auto fake = device_for_test();
  m.to(Device::CUDA);
  ASSERT_EQ(m.device(), Device::CUDA);
  std::set<Device> seen;
  const int h = m.register_forward_hook(m.children().front().first, [&seen](const Tensor& y) { seen.insert(y.device()); });
  auto dev = f();
  m.remove_hook(h);
  m.to(Device::CPU);
  EXPECT_EQ(seen, std::set<Device>{Device::CUDA}) << "the device run's forwards did not all run on the device";
  check(cpu, dev);
}

const std::vector<xai::CamMethod> kCams = {xai::CamMethod::GradCam, xai::CamMethod::HiResCam,
                                           xai::CamMethod::GradCamPlusPlus, xai::CamMethod::LayerCam};

void expect_same_cams(const std::string& model_name, const std::vector<std::string>& layers) {
  SCOPED_TRACE(model_name);
  auto m = small_model(model_name);
  const Tensor x = input(3, 2);  // a batch of two: the layer maps are read per sample on the host
  const xai::Target t = box_target();
  for (auto method : kCams) {
    SCOPED_TRACE(xai::cam_method_name(method));
    cpu_then_device(
        *m, [&] { return xai::cam(*m, x, t, method, layers); },
        [&](const std::vector<xai::CamSample>& a, const std::vector<xai::CamSample>& b) {
          ASSERT_EQ(a.size(), 2u);
          ASSERT_EQ(b.size(), a.size());
          for (size_t s = 0; s < a.size(); ++s) {
            expect_near_rel(a[s].target, b[s].target, "T");
            ASSERT_EQ(b[s].layers.size(), layers.size());
            for (size_t l = 0; l < layers.size(); ++l) {
              const std::string w = layers[l] + " sample " + std::to_string(s);
              expect_close(a[s].layers[l].raw, b[s].layers[l].raw, w + " raw");
              expect_close(a[s].layers[l].upsampled, b[s].layers[l].upsampled, w + " upsampled", 1e-4, false);
              if (a[s].layers[l].weights.defined())
                expect_close(a[s].layers[l].weights, b[s].layers[l].weights, w + " channel weights");
            }
            expect_close(a[s].combined, b[s].combined, "combined", 1e-3, false);
          }
        });
  }
}

}  // namespace

// ---------------------------------------------------------------- the methods, one by one

TEST(FakeCudaDeviceXai, CamFamilyOnTinyTransUNet) {
  // A decoder level, the coarsest decoder input and a transformer block (tokens read as a grid).
  expect_same_cams("tiny", {"decoder.blocks.1", "decoder.conv_more", "transformer.encoder.layer.0"});
}

TEST(FakeCudaDeviceXai, CamFamilyOnUNet2d) { expect_same_cams("unet2d-tiny", {"dec2", "dec0", "enc2"}); }

TEST(FakeCudaDeviceXai, OneLayerGradCamAndTheLayerList) {
  auto m = small_model("tiny");
  const Tensor x = input(4);
  Tensor region = Tensor::zeros({32, 32}, DType::I32);
  region.view_slice(0, 4, 20).view_slice(1, 10, 30).fill(1);
  cpu_then_device(
      *m, [&] { return xai::grad_cam(*m, x, "decoder.blocks.1", 1, region); },
      [&](const xai::CamResult& a, const xai::CamResult& b) {
        expect_near_rel(a.target, b.target, "T");
        expect_close(a.raw, b.raw, "raw");
        expect_close(a.weights, b.weights, "weights");
      });
  cpu_then_device(
      *m, [&] { return xai::list_layers(*m); },
      [&](const std::vector<xai::LayerInfo>& a, const std::vector<xai::LayerInfo>& b) {
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
          EXPECT_EQ(a[i].name, b[i].name);
          EXPECT_EQ(a[i].output, b[i].output) << a[i].name;
        }
      });
}

TEST(FakeCudaDeviceXai, PredictedRegionResolvesOnTheDevice) {
  for (const std::string name : {"tiny", "unet2d-tiny"}) {
    SCOPED_TRACE(name);
    auto m = small_model(name);
    const Tensor x = input(5);
    xai::TargetSpec spec;
    spec.region = xai::RegionKind::Prediction;
    // The class the model predicts most often, so the predicted region is not empty.
    {
      NoGradGuard ng;
      auto lab = argmax(m->forward(x), 1).to_vector();
      std::vector<int64_t> n(3, 0);
      for (double v : lab) ++n[(size_t)v];
      spec.cls = std::max_element(n.begin(), n.end()) - n.begin();
    }
    cpu_then_device(
        *m, [&] { return xai::resolve_target(*m, x, spec); },
        [&](const xai::Target& a, const xai::Target& b) {
          EXPECT_EQ(b.mask.device(), Device::CPU);
          EXPECT_GT(a.pixels(), 0);
          EXPECT_EQ(a.mask.to_vector(), b.mask.to_vector());
        });
  }
}

TEST(FakeCudaDeviceXai, GradientAndGradientTimesInput) {
  for (const std::string name : {"tiny", "unet2d-tiny"}) {
    SCOPED_TRACE(name);
    auto m = small_model(name);
    const Tensor x = input(6);
    const xai::Target t = box_target();
    for (bool times : {false, true}) {
      cpu_then_device(
          *m, [&] { return xai::gradient_map(*m, x, t, times); },
          [&](const xai::Saliency& a, const xai::Saliency& b) {
            expect_near_rel(a.target, b.target, "T");
            expect_close(a.attribution, b.attribution, times ? "gradient x input" : "gradient");
            expect_close(a.map, b.map, "map");
          });
    }
  }
}

TEST(FakeCudaDeviceXai, IntegratedGradientsGaussLegendreInSeveralBatches) {
  for (const std::string name : {"tiny", "unet2d-tiny"}) {
    SCOPED_TRACE(name);
    auto m = small_model(name);
    const Tensor x = input(7);
    const xai::Target t = box_target();
    xai::BaselineOptions bo;
    bo.kind = xai::BaselineKind::Blur;
    const Tensor base = xai::make_baseline(x, bo);
    xai::IgOptions o;
    o.steps = 8;
    // A budget of 2.5 samples: batches of 2, four of them for the 8 nodes.
    o.memory_mb = 2.5 * xai::bytes_per_sample(*m, x) / (1024.0 * 1024.0);
    cpu_then_device(
        *m, [&] { return xai::integrated_gradients(*m, x, base, t, o); },
        [&](const xai::IgResult& a, const xai::IgResult& b) {
          EXPECT_EQ(a.batch, 2);
          EXPECT_EQ(b.batch, a.batch);
          EXPECT_EQ(b.evaluations, 8);
          expect_near_rel(a.T_input, b.T_input, "T(x)");
          expect_near_rel(a.T_baseline, b.T_baseline, "T(x')");
          expect_close(a.attribution, b.attribution, "attribution");
          expect_close(a.map, b.map, "map");
          ASSERT_EQ(b.path.size(), a.path.size());
          for (size_t i = 0; i < a.path.size(); ++i) EXPECT_NEAR(b.path[i].dTda, a.path[i].dTda, 1e-4 * std::fabs(a.T_input) + 1e-6);
        });
  }
}

// The CPU-only pass cap (IgOptions::cpu_pass_mb) bounds the default batch on the host and not on the
// device, where only memory_mb does; the attributions agree whatever the batching.
TEST(FakeCudaDeviceXai, CpuPassCapLeavesTheDeviceBatchToTheBudget) {
  auto m = small_model("tiny");
  const Tensor x = input(7);
  const xai::Target t = box_target();
  xai::IgOptions o;
  o.steps = 8;
  o.memory_mb = 4096;
  o.cpu_pass_mb = 2.5 * xai::bytes_per_sample(*m, x) / (1024.0 * 1024.0);
  cpu_then_device(
      *m, [&] { return xai::integrated_gradients(*m, x, xai::make_baseline(x, {}), t, o); },
      [&](const xai::IgResult& a, const xai::IgResult& b) {
        EXPECT_EQ(a.batch, 2);
        EXPECT_EQ(b.batch, 8);
        expect_close(a.attribution, b.attribution, "attribution");
      });
}

TEST(FakeCudaDeviceXai, IntegratedGradientsAdaptiveRule) {
  auto m = small_model("unet2d-tiny");
  const Tensor x = input(8);
  const xai::Target t = box_target(1);
  const Tensor base = xai::make_baseline(x, {});  // zero
  xai::IgOptions o;
  o.rule = xai::Rule::Adaptive;
  o.tolerance = 1e-9;  // unreachable in f32: the rule bisects until the budget stops it
  o.max_steps = 45;    // K15 on [0, 1], then one bisection (2 x 15 nodes and a forward at the midpoint)
  o.batch = 4;
  cpu_then_device(
      *m, [&] { return xai::integrated_gradients(*m, x, base, t, o); },
      [&](const xai::IgResult& a, const xai::IgResult& b) {
        EXPECT_EQ(a.intervals, 2);
        EXPECT_EQ(b.intervals, a.intervals);
        EXPECT_EQ(b.evaluations, a.evaluations);
        EXPECT_EQ(b.forwards, a.forwards);
        expect_near_rel(a.T_input, b.T_input, "T(x)");
        expect_near_rel(a.T_baseline, b.T_baseline, "T(x')");
        expect_close(a.map, b.map, "map");
        ASSERT_EQ(b.path.size(), a.path.size());
        for (size_t i = 0; i < a.path.size(); ++i) EXPECT_DOUBLE_EQ(b.path[i].alpha, a.path[i].alpha);
      });
}

TEST(FakeCudaDeviceXai, SmoothGradAndVarGrad) {
  auto m = small_model("unet2d-tiny");
  const Tensor x = input(9);
  const xai::Target t = box_target();
  for (auto method : {xai::GradMethod::Gradient, xai::GradMethod::GradientXInput, xai::GradMethod::IntegratedGradients}) {
    SCOPED_TRACE((int)method);
    xai::SmoothOptions o;
    o.method = method;
    o.samples = 3;
    o.batch = 2;  // two batches, the second a single copy
    o.sigma = 0.2;
    o.seed = 11;
    if (method == xai::GradMethod::IntegratedGradients) {
      o.baseline = xai::make_baseline(x, {});
      o.ig.steps = 4;
      o.ig.batch = 3;
    }
    cpu_then_device(
        *m, [&] { return xai::smooth_grad(*m, x, t, o); },
        [&](const xai::SmoothResult& a, const xai::SmoothResult& b) {
          expect_near_rel(a.mean.target, b.mean.target, "mean T");
          expect_close(a.mean.map, b.mean.map, "SmoothGrad");
          expect_close(a.variance.map, b.variance.map, "VarGrad", 1e-3);
        });
  }
  // Tiny TransUNet, one method: its ViT path too.
  auto tm = small_model("tiny");
  xai::SmoothOptions o;
  o.samples = 2;
  o.batch = 2;
  cpu_then_device(
      *tm, [&] { return xai::smooth_grad(*tm, x, t, o); },
      [&](const xai::SmoothResult& a, const xai::SmoothResult& b) { expect_close(a.mean.map, b.mean.map, "SmoothGrad"); });
}

TEST(FakeCudaDeviceXai, OcclusionInSeveralBatches) {
  for (const std::string name : {"tiny", "unet2d-tiny"}) {
    SCOPED_TRACE(name);
    auto m = small_model(name);
    const Tensor x = input(10);
    const xai::Target t = box_target();
    xai::BaselineOptions bo;
    bo.kind = xai::BaselineKind::Tissue;
    const Tensor base = xai::make_baseline(x, bo);
    xai::OcclusionOptions o;
    o.patch = {8};
    o.stride = {8};
    o.batch = 5;  // 16 patches + the input: four batches
    cpu_then_device(
        *m, [&] { return xai::occlusion(*m, x, base, t, o); },
        [&](const xai::OcclusionResult& a, const xai::OcclusionResult& b) {
          EXPECT_EQ(b.patches, 16);
          expect_near_rel(a.T_input, b.T_input, "T(x)");
          // The map holds differences of T: their summation noise is relative to T, not to the map.
          double mx = 0;
          for (double v : a.map.to_vector()) mx = std::max(mx, std::fabs(v));
          ASSERT_GT(mx, 0);
          expect_close(a.map, b.map, "occlusion map", 1e-4 * std::max(mx, 1e-2 * std::fabs(a.T_input)) / mx);
        });
  }
}

// dt f64: every kernel agrees with the CPU's to ~1e-16, so everything must match to 1e-9. dt f32: the
// maps to 1e-4; the relevance internals to 1e-2, measured 1.7e-3 (the rules' quotients R / stab(z)
// amplify the inputs' rounding where z is small; the per-head gradient rollout reads dT/dA, whose
// cancellations do the same).
void expect_same_transformer_maps(DType dt) {
  SCOPED_TRACE(dtype_name(dt));
  auto m = small_model("tiny");
  m->to(dt);
  const Tensor x = input(12).to(dt);
  const xai::Target t = box_target();
  const double maps = dt == DType::F64 ? 1e-9 : 1e-4, inner = dt == DType::F64 ? 1e-9 : 1e-2;
  for (auto method : {xai::TransformerMethod::Rollout, xai::TransformerMethod::GradRollout, xai::TransformerMethod::Relevance}) {
    SCOPED_TRACE(xai::transformer_method_name(method));
    xai::TransformerOptions o;
    o.method = method;
    o.per_layer = o.per_head = true;
    cpu_then_device(
        *m, [&] { return xai::transformer_attribution(*m, x, t, o); },
        [&](const xai::TransformerMap& a, const xai::TransformerMap& b) {
          expect_near_rel(a.target, b.target, "T", maps);
          expect_close(a.joint, b.joint, "joint", maps);
          expect_close(a.tokens, b.tokens, "tokens", maps);
          expect_close(a.upsampled, b.upsampled, "upsampled", maps);
          expect_close(a.per_layer, b.per_layer, "per layer", inner, method != xai::TransformerMethod::GradRollout);
          expect_close(a.per_head, b.per_head, "per head", inner, method != xai::TransformerMethod::GradRollout);
          if (method == xai::TransformerMethod::Relevance) {
            ASSERT_EQ(b.lrp.layer_sums.size(), a.lrp.layer_sums.size());
            for (size_t l = 0; l < a.lrp.layer_sums.size(); ++l)
              expect_near_rel(a.lrp.layer_sums[l], b.lrp.layer_sums[l], "layer sum " + std::to_string(l), inner);
            expect_near_rel(a.lrp.seed_gxi, b.lrp.seed_gxi, "seed", inner);
            ASSERT_EQ(b.lrp.relevance.size(), a.lrp.relevance.size());
            for (size_t l = 0; l < a.lrp.relevance.size(); ++l) {
              expect_close(a.lrp.probs[l], b.lrp.probs[l], "A block " + std::to_string(l), maps);
              expect_close(a.lrp.grads[l], b.lrp.grads[l], "dT/dA block " + std::to_string(l), inner);
              expect_close(a.lrp.relevance[l], b.lrp.relevance[l], "R^(A) block " + std::to_string(l), inner);
            }
            expect_close(a.lrp.input_relevance, b.lrp.input_relevance, "input relevance", inner);
          }
        });
  }
}

TEST(FakeCudaDeviceXai, TransformerRolloutGradientRolloutAndRelevance) { expect_same_transformer_maps(DType::F32); }
TEST(FakeCudaDeviceXai, TransformerAttributionsInF64) { expect_same_transformer_maps(DType::F64); }

TEST(FakeCudaDeviceXai, ModelRandomisationCascade) {
  auto m = small_model("unet2d-tiny");
  const Tensor x = input(13);
  const xai::Target t = box_target();
  xai::CascadeOptions co;
  co.layers = {"head", "dec0", "dec1"};
  co.keep_maps = true;
  const auto trained = m->state_dict();
  std::vector<std::vector<double>> before;
  for (auto& [n, p] : trained) before.push_back(p.to_vector());
  cpu_then_device(
      *m,
      [&] {
        return xai::cascading_randomisation(*m, [&] { return xai::gradient_map(*m, x, t, false).map; }, co);
      },
      [&](const xai::CascadeResult& a, const xai::CascadeResult& b) {
        expect_close(a.original, b.original, "trained map");
        ASSERT_EQ(b.steps.size(), a.steps.size());
        for (size_t i = 0; i < a.steps.size(); ++i) {
          EXPECT_EQ(b.steps[i].tensors, a.steps[i].tensors);
          expect_close(a.steps[i].map, b.steps[i].map, "map after randomising " + a.steps[i].layer, 1e-3);
          EXPECT_NEAR(b.steps[i].correlation.spearman_signed, a.steps[i].correlation.spearman_signed, 1e-2);
        }
        // The trained weights are back, on the device as on the host.
        size_t k = 0;
        for (auto& [n, p] : m->state_dict()) EXPECT_EQ(p.to_vector(), before[k++]) << n;
      });
}

TEST(FakeCudaDeviceXai, BaselinesFollowTheirInput) {
  cuda::FakeCudaDevice fake;
  const Tensor x = input(14);
  const Tensor xd = x.to(Device::CUDA);
  for (auto kind : {xai::BaselineKind::Zero, xai::BaselineKind::Blur, xai::BaselineKind::Noise, xai::BaselineKind::Tissue}) {
    xai::BaselineOptions bo;
    bo.kind = kind;
    const Tensor bh = xai::make_baseline(x, bo), bd = xai::make_baseline(xd, bo);
    EXPECT_EQ(bh.device(), Device::CPU) << xai::baseline_name(kind);
    EXPECT_EQ(bd.device(), Device::CUDA) << xai::baseline_name(kind);
    EXPECT_EQ(bh.to_vector(), bd.to_vector()) << xai::baseline_name(kind);
  }
}

// ---------------------------------------------------------------- the pipeline

namespace {

std::string scratch(const std::string& tag) {
  auto p = fs::temp_directory_path() / ("gb_fakedev_xai_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

// A 32 x 32 x 6 phantom (volume-0.nii.gz, segmentation-0.nii.gz) in `dir`.
void phantom(const std::string& dir) {
  io::PhantomOptions po;
  po.width = po.height = 32;
  po.depth = 6;
  po.min_tumour_mm = 12;
  io::write_phantom_dataset(dir, 5, 1, po);
}

void expect_same_rows(const pipeline::ExplainSummary& a, const pipeline::ExplainSummary& b) {
  ASSERT_FALSE(a.rows.empty());
  ASSERT_EQ(b.rows.size(), a.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i) {
    const auto &ra = a.rows[i], &rb = b.rows[i];
    const std::string w = ra.method + " slice " + std::to_string(ra.slice);
    EXPECT_EQ(rb.method, ra.method) << w;
    EXPECT_EQ(rb.slice, ra.slice) << w;
    EXPECT_EQ(rb.evaluations, ra.evaluations) << w;
    expect_near_rel(ra.target, rb.target, w + " T");
    expect_near_rel(ra.target_baseline, rb.target_baseline, w + " T(x')");
    ASSERT_EQ(rb.scores.size(), ra.scores.size()) << w;
    for (size_t k = 0; k < ra.scores.size(); ++k) {
      const auto& [name, va] = ra.scores[k];
      const double vb = rb.scores[k].second;
      if (std::isnan(va)) {
        EXPECT_TRUE(std::isnan(vb)) << w << " " << name;
        continue;
      }
      // Rank metrics of two maps that differ at 1e-6: a near-tie may swap places.
      EXPECT_NEAR(vb, va, 2e-3 * std::max(1.0, std::fabs(va))) << w << " " << name;
    }
  }
}

}  // namespace

// What `glassbox explain --device cuda` runs for one volume: the model placed as the command places
// it (choose_device, Module::to), then plan_explain and explain with every method, scored with the
// deletion / insertion probe: the rows and the written maps match a CPU run.
void expect_same_explain_pipeline() {
  const std::string dir = scratch("explain");
  phantom(dir + "/data");
  auto ck_model = small_model("tiny");
  const io::Preprocess pre = train::default_preprocess(ck_model->config());
  pipeline::ExplainOptions o;
  o.methods = pipeline::explain_methods();
  o.target.cls = 1;
  o.target.region = xai::RegionKind::Truth;
  o.truth = dir + "/data/segmentation-0.nii.gz";
  o.slices = {3};
  o.ig.steps = 4;
  o.smooth_samples = 2;
  o.occlusion_patch = {16};
  o.occlusion_stride = {16};
  o.perturbation_steps = 2;
  const std::string in = dir + "/data/volume-0.nii.gz";
  auto run = [&](const std::string& out) {
    auto plan = pipeline::plan_explain(*ck_model, pre, in, out, o);
    return pipeline::explain(*ck_model, pre, plan, o);
  };
  const pipeline::ExplainSummary cpu = run(dir + "/cpu");
  pipeline::ExplainSummary dev;
  {
    const auto fake = device_for_test();
    const train::DeviceChoice dc = train::choose_device("cuda", ck_model->config(), true, "explain");
    EXPECT_EQ(dc.device, Device::CUDA);
    EXPECT_EQ(dc.note, "");
    ck_model->to(dc.device);
    dev = run(dir + "/cuda");
    ck_model->to(Device::CPU);
  }
  // The same warnings (IG with 4 nodes misses completeness on both), none a skipped method.
  EXPECT_EQ(dev.warnings.size(), cpu.warnings.size());
  for (const auto& w : dev.warnings) EXPECT_EQ(w.find("skipped"), std::string::npos) << w;
  expect_same_rows(cpu, dev);
  std::set<std::string> methods;
  for (const auto& r : dev.rows) methods.insert(r.method);
  for (const auto& m : pipeline::explain_methods()) EXPECT_TRUE(methods.count(m)) << m << " has no row";
  for (const std::string m : {"gradcam", "ig", "relevance", "occlusion"}) {
    const Tensor a = io::read_nifti(dir + "/cpu/volume-0_" + m + ".nii.gz").data;
    const Tensor b = io::read_nifti(dir + "/cuda/volume-0_" + m + ".nii.gz").data;
    expect_close(a, b, m + " NIfTI map", 1e-3);
  }
  fs::remove_all(dir);
}
TEST(FakeCudaDeviceXai, ExplainPipelineOnTheDeviceMatchesTheCpu) { expect_same_explain_pipeline(); }

// A 3-D U-Net through the explain pipeline (windows, 3-D CAMs and gradients) on the device.
TEST(FakeCudaDeviceXai, ExplainPipelineWith3dUNetOnTheDevice) {
  const std::string dir = scratch("explain3d");
  phantom(dir + "/data");
  auto cfg = models::named_config("unet3d-tiny", 16, 3, 1);
  auto m = models::make_model(cfg, 3);
  io::Preprocess pre = train::default_preprocess(cfg);
  pipeline::ExplainOptions o;
  o.methods = {"gradcam", "gradient", "ig"};
  o.target.cls = 1;
  o.target.region = xai::RegionKind::Truth;
  o.truth = dir + "/data/segmentation-0.nii.gz";
  o.ig.steps = 3;
  const std::string in = dir + "/data/volume-0.nii.gz";
  auto run = [&](const std::string& out) {
    auto plan = pipeline::plan_explain(*m, pre, in, out, o);
    return pipeline::explain(*m, pre, plan, o);
  };
  const auto cpu = run(dir + "/cpu");
  pipeline::ExplainSummary dev;
  {
    cuda::FakeCudaDevice fake;
    m->to(Device::CUDA);
    dev = run(dir + "/cuda");
    m->to(Device::CPU);
  }
  expect_same_rows(cpu, dev);
  fs::remove_all(dir);
}

// `glassbox evaluate --model A --model B --data ... --device cuda`: both checkpoints segment on the
// device, the metrics are the CPU's.
TEST(FakeCudaDeviceXai, EvaluateModelsOnTheDeviceMatchesTheCpu) {
  const std::string dir = scratch("evaluate");
  fs::create_directories(dir);
  phantom(dir + "/data");
  std::vector<std::string> ckpts;
  for (const std::string name : {"tiny", "unet2d-tiny"}) {
    auto m = small_model(name, 21);
    ckpts.push_back(dir + "/" + name + ".safetensors");
    train::save_checkpoint(ckpts.back(), *m);
  }
  pipeline::EvaluateOptions o;
  o.models = ckpts;
  o.data = dir + "/data";
  o.resamples = 50;
  o.batch = 4;
  o.out = dir + "/cpu";
  o.device = "cpu";
  const auto cpu = pipeline::evaluate(o);
  EXPECT_EQ(cpu.devices, (std::vector<std::string>{"cpu", "cpu"}));
  pipeline::EvaluateResult dev;
  std::vector<std::string> said;
  {
    cuda::FakeCudaDevice fake;
    o.out = dir + "/cuda";
    o.device = "cuda";
    dev = pipeline::evaluate(o, {}, [&](const std::string& s) { said.push_back(s); });
  }
  EXPECT_TRUE(said.empty()) << said.front();
  EXPECT_EQ(dev.devices, (std::vector<std::string>{"cuda", "cuda"}));
  ASSERT_EQ(dev.models.size(), cpu.models.size());
  for (size_t k = 0; k < cpu.models.size(); ++k) {
    ASSERT_EQ(dev.models[k].rows.size(), cpu.models[k].rows.size());
    for (size_t i = 0; i < cpu.models[k].rows.size(); ++i) {
      const auto &a = cpu.models[k].rows[i], &b = dev.models[k].rows[i];
      EXPECT_EQ(b.case_id, a.case_id);
      EXPECT_EQ(b.cls, a.cls);
      // Labels are argmaxes: the same unless two logits tie within the kernels' rounding.
      EXPECT_NEAR(b.dice, a.dice, 1e-6) << a.case_id << " " << a.cls;
    }
  }
  EXPECT_EQ(dev.table, cpu.table);
  fs::remove_all(dir);
}

// Without a usable GPU (this test holds no stand-in device) --device auto and cuda fall back to the
// CPU and say why, once for all checkpoints.
TEST(FakeCudaDeviceXai, EvaluateWithoutADeviceFallsBackToTheCpuSayingWhy) {
  if (has_backend(Device::CUDA)) GTEST_SKIP() << "a CUDA device is present: nothing falls back";
  const std::string dir = scratch("evaluate_fallback");
  fs::create_directories(dir);
  phantom(dir + "/data");
  std::vector<std::string> ckpts;
  for (int i = 0; i < 2; ++i) {
    ckpts.push_back(dir + "/m" + std::to_string(i) + ".safetensors");
    train::save_checkpoint(ckpts.back(), *small_model("unet2d-tiny", 30 + i));
  }
  for (const std::string req : {"auto", "cuda"}) {
    pipeline::EvaluateOptions o;
    o.models = ckpts;
    o.data = dir + "/data";
    o.resamples = 10;
    o.out = dir + "/" + req;
    o.device = req;
    std::vector<std::string> said;
    const auto r = pipeline::evaluate(o, {}, [&](const std::string& s) { said.push_back(s); });
    EXPECT_EQ(r.devices, (std::vector<std::string>{"cpu", "cpu"}));
    ASSERT_EQ(said.size(), 1u) << "one note for both checkpoints";
    EXPECT_EQ(said[0].rfind("evaluate: --device " + req + ": running on the CPU: ", 0), 0u) << said[0];
  }
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- the same on a real GPU
// scripts/gpu-check.sh runs these; skipped without a device.
namespace {
struct OnTheGpu {
  OnTheGpu() { g_real_gpu = true; }
  ~OnTheGpu() { g_real_gpu = false; }
};
bool have_gpu() {
  const BackendInfo b = init_backends();
  return b.cuda_available;
}
}  // namespace
#define GB_NEEDS_GPU()                                                                 \
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device: the GPU variant did not run"; \
  OnTheGpu on_the_gpu

TEST(RealCudaDeviceXai, CamFamilyOnTinyTransUNet) {
  GB_NEEDS_GPU();
  expect_same_cams("tiny", {"decoder.blocks.1", "transformer.encoder.layer.0"});
}
TEST(RealCudaDeviceXai, TransformerAttributions) {
  GB_NEEDS_GPU();
  expect_same_transformer_maps(DType::F32);
}
TEST(RealCudaDeviceXai, ExplainPipeline) {
  GB_NEEDS_GPU();
  expect_same_explain_pipeline();
}

// Sanity checks (xai/sanity_checks.h): cascading model randomisation and data randomisation, on a
// micro TransUNet trained briefly on synthetic "liver with a tumour" images, explained by Grad-CAM.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "models/config.h"
#include "models/model.h"
#include "tensor/cpu/parallel.h"
#include "tensor/philox.h"
#include "train/loop.h"
#include "train/optimizer.h"
#include "xai/gradcam.h"
#include "xai/saliency_metrics.h"
#include "xai/sanity_checks.h"

using namespace gb;

namespace {

constexpr int64_t S = 32;  // micro's input size

// One synthetic slice: a grey disk ("liver", class 1) holding a bright disk ("tumour", class 2) on a
// dark noisy background; every size and position drawn from Philox(seed, stream = index).
struct Sample {
  std::vector<float> image;    // [S, S]
  std::vector<int32_t> label;  // [S, S]
};
Sample make_sample(uint64_t seed, uint64_t index) {
  Generator g(seed, index);
  const double cy = 16 + 6 * (g.next_uniform() - 0.5), cx = 16 + 6 * (g.next_uniform() - 0.5);
  const double r = 8 + 3 * g.next_uniform();
  const double ang = 6.2831853 * g.next_uniform(), off = 0.45 * r * g.next_uniform();
  const double ty = cy + off * std::sin(ang), tx = cx + off * std::cos(ang), tr = 2.5 + 2 * g.next_uniform();
  Sample s;
  s.image.resize(S * S);
  s.label.resize(S * S);
  for (int64_t y = 0; y < S; ++y)
    for (int64_t x = 0; x < S; ++x) {
      const double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
      const double t2 = (y - ty) * (y - ty) + (x - tx) * (x - tx);
      const int32_t l = t2 <= tr * tr ? 2 : d2 <= r * r ? 1 : 0;
      const double base = l == 2 ? 0.9 : l == 1 ? 0.5 : 0.1;
      s.image[y * S + x] = (float)(base + 0.1 * (g.next_uniform() - 0.5));
      s.label[y * S + x] = l;
    }
  return s;
}

struct Batch {
  Tensor x, y;  // f32 [B, 1, S, S], i32 [B, S, S]
};
Batch make_batch(const std::vector<Sample>& data, const std::vector<int64_t>& images,
                 const std::vector<int64_t>& labels) {
  std::vector<float> xv;
  std::vector<int32_t> yv;
  for (size_t i = 0; i < images.size(); ++i) {
    xv.insert(xv.end(), data[images[i]].image.begin(), data[images[i]].image.end());
    yv.insert(yv.end(), data[labels[i]].label.begin(), data[labels[i]].label.end());
  }
  const int64_t b = (int64_t)images.size();
  return {Tensor::from_vector(xv, {b, 1, S, S}), Tensor::from_vector(yv, {b, S, S})};
}

// Trains micro TransUNet for `steps` AdamW steps on batches of 4 of `data`; sample i is paired with
// the label of sample label_of[i] (identity = real labels, a permutation = the data-randomisation
// model). Returns the model in eval mode, f32.
std::shared_ptr<models::SegmentationModel> train_micro(const std::vector<Sample>& data,
                                                       const std::vector<int64_t>& label_of, int steps,
                                                       uint64_t init_seed, double* first_loss = nullptr,
                                                       double* last_loss = nullptr) {
  auto m = models::make_model(models::named_config("micro", S, 3, 1), init_seed);
  m->set_dropout_seed(init_seed);
  m->train();
  std::vector<Tensor> params;
  for (auto& [name, p] : m->named_parameters()) params.push_back(p);
  train::AdamW opt(params, {3e-3, 0.9, 0.999, 1e-8, 1e-4});
  const int64_t n = (int64_t)data.size();
  for (int step = 0; step < steps; ++step) {
    std::vector<int64_t> im, lb;
    for (int64_t j = 0; j < 4; ++j) {
      const int64_t i = (step * 4 + j) % n;
      im.push_back(i);
      lb.push_back(label_of[i]);
    }
    Batch b = make_batch(data, im, lb);
    opt.zero_grad();
    Tensor loss = train::segmentation_loss(m->forward(b.x), b.y);
    if (step == 0 && first_loss) *first_loss = loss.item();
    if (step == steps - 1 && last_loss) *last_loss = loss.item();
    loss.backward();
    opt.step();
  }
  m->eval();
  return m;
}

std::vector<Sample> dataset(int64_t n) {
  std::vector<Sample> d;
  for (int64_t i = 0; i < n; ++i) d.push_back(make_sample(77, (uint64_t)i));
  return d;
}

std::vector<int64_t> identity(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// The region M of a sample: its tumour, i32 [S, S].
Tensor tumour(const Sample& s) {
  std::vector<int32_t> region(s.label.size());
  for (size_t i = 0; i < region.size(); ++i) region[i] = s.label[i] == 2;
  return Tensor::from_vector(region, {S, S});
}

// Grad-CAM of the tumour logits summed over the true tumour, at the 8x8 decoder stage.
//   tumour_cam  the ReLU'd map upsampled to the input, f64 [S, S]: the map a reader looks at
//   raw_cam     the signed map, f64 [8, 8]: what the cascade correlates, because a randomised network's
//               ReLU'd map is often all zeros (constant: no ranking, NaN correlation) while the signed
//               map still ranks its pixels
constexpr const char* kLayer = "decoder.blocks.1";
xai::CamResult cam(models::SegmentationModel& m, const Sample& s) {
  return xai::grad_cam(m, Tensor::from_vector(s.image, {1, 1, S, S}), kLayer, 2, tumour(s));
}
Tensor tumour_cam(models::SegmentationModel& m, const Sample& s) { return cam(m, s).upsampled; }
Tensor raw_cam(models::SegmentationModel& m, const Sample& s) { return cam(m, s).raw; }

double mean_auc(models::SegmentationModel& m, const std::vector<Sample>& data, int n) {
  double a = 0;
  for (int i = 0; i < n; ++i) a += xai::roc_auc(tumour_cam(m, data[i]), tumour(data[i])) / n;
  return a;
}

// The models the tests below share, each trained on first use (about 1 s each on 2 loaded cores;
// ctest runs every test in its own process): 60 AdamW steps on 16 synthetic slices, with the real
// labels from init seed 5 and from init seed 15, and with permuted labels from init seed 5.
struct Model {
  std::shared_ptr<models::SegmentationModel> net;
  double first_loss = 0, last_loss = 0;
};
const std::vector<Sample>& slices() {
  static const std::vector<Sample> d = dataset(16);
  return d;
}
Model train_once(const std::vector<int64_t>& label_of, uint64_t init_seed) {
  Model m;
  m.net = train_micro(slices(), label_of, 60, init_seed, &m.first_loss, &m.last_loss);
  return m;
}
Model& real_model() {
  static Model m = train_once(identity(16), 5);
  return m;
}
Model& real_model_other_init() {
  static Model m = train_once(identity(16), 15);
  return m;
}
Model& permuted_label_model() {
  static Model m = train_once(xai::label_permutation(16, 5), 5);
  return m;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST(SanityChecks, CompareMapsAndPermutation) {
  Tensor a = Tensor::from_vector(std::vector<double>{-3, 1, 2, -0.5, 4}, {5});
  Tensor flipped = Tensor::from_vector(std::vector<double>{3, -1, -2, 0.5, -4}, {5});
  xai::MapCorrelation c = xai::compare_maps(a, flipped);
  EXPECT_DOUBLE_EQ(c.spearman_signed, -1.0);  // every sign flipped: opposite ranking ...
  EXPECT_DOUBLE_EQ(c.spearman_abs, 1.0);      // ... of the same magnitudes
  xai::MapCorrelation same = xai::compare_maps(a, a);
  EXPECT_DOUBLE_EQ(same.spearman_signed, 1.0);
  EXPECT_TRUE(std::isnan(xai::compare_maps(a, Tensor::zeros({5}, DType::F64)).spearman_abs));

  xai::DataRandomisationResult d =
      xai::data_randomisation_check({a, a}, {flipped, Tensor::zeros({5}, DType::F64)});
  ASSERT_EQ(d.per_map.size(), 2u);
  EXPECT_EQ(d.undefined, 1);
  EXPECT_DOUBLE_EQ(d.mean.spearman_signed, -1.0);  // the constant map is left out of the mean
  EXPECT_THROW(xai::data_randomisation_check({a}, {}), Error);

  std::vector<int64_t> p = xai::label_permutation(10, 3), sorted = p;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, identity(10));
  EXPECT_NE(p, identity(10));
  EXPECT_EQ(p, xai::label_permutation(10, 3));
}

// The rule keeps each tensor's RMS, draws from the given Philox stream, and leaves zeros alone.
TEST(SanityChecks, ScaleMatchedReinit) {
  Tensor t = Tensor::full({2000}, 0.5, DType::F64), z = Tensor::zeros({7}, DType::F64);
  Generator g(1, 4);
  xai::reinit_scale_matched("w", t, g);
  double ss = 0, sum = 0;
  for (double v : t.to_vector()) ss += v * v, sum += v;
  EXPECT_NEAR(std::sqrt(ss / 2000), 0.5, 0.02);
  EXPECT_NEAR(sum / 2000, 0.0, 0.03);
  xai::reinit_scale_matched("z", z, g);
  EXPECT_EQ(z.to_vector(), std::vector<double>(7, 0.0));
}

TEST(SanityChecks, CascadeLayersRunFromTheOutputEnd) {
  auto m = models::make_model(models::named_config("micro", S, 3, 1), 1);
  std::vector<std::string> layers = xai::cascade_layers(*m);
  ASSERT_GT(layers.size(), 10u);
  EXPECT_EQ(layers.front(), "segmentation_head.0");
  EXPECT_EQ(layers.back(), "transformer.embeddings");  // position_embeddings, registered first
  for (const std::string& l : layers) EXPECT_NE(m->find_module(l), nullptr) << l;
}

// The cascade on a briefly trained model drives the correlation with the trained map far below 1
// (mean over 4 slices), and gives the trained weights back bit for bit. One slice runs once with 1
// thread and once with 2: the correlations and maps must be identical.
TEST(SanityChecks, CascadingRandomisationDecorrelatesTrainedModel) {
  auto t0 = std::chrono::steady_clock::now();
  const Model& trained = real_model();
  const std::vector<Sample>& data = slices();
  models::SegmentationModel& m = *trained.net;
  std::printf("trained: loss %.3f -> %.3f (%.1f s)\n", trained.first_loss, trained.last_loss, seconds_since(t0));
  EXPECT_LT(trained.last_loss, 0.5 * trained.first_loss);
  // the trained model's map points at the tumour: there is something to destroy
  const double auc = mean_auc(m, data, 4);
  EXPECT_GT(auc, 0.9);

  std::vector<std::pair<std::string, std::vector<double>>> before;
  for (auto& [name, p] : m.named_parameters()) before.emplace_back(name, p.to_vector());
  xai::CascadeOptions opt;
  opt.seed = 11;
  opt.keep_maps = true;
  double end_signed = 0, end_abs = 0;
  for (int i = 0; i < 4; ++i) {
    const Sample& s = data[i];
    xai::CascadeResult r = xai::cascading_randomisation(m, [&] { return raw_cam(m, s); }, opt);
    ASSERT_EQ(r.steps.size(), xai::cascade_layers(m).size());
    EXPECT_EQ(r.original.to_vector(), raw_cam(m, s).to_vector());  // also: the weights are back
    int64_t tensors = 0;
    for (const auto& st : r.steps) tensors += st.tensors;
    EXPECT_EQ(tensors, (int64_t)before.size());  // each parameter randomised exactly once
    const xai::MapCorrelation end = r.steps.back().correlation;
    ASSERT_FALSE(std::isnan(end.spearman_signed) || std::isnan(end.spearman_abs));
    end_signed += end.spearman_signed / 4;
    end_abs += end.spearman_abs / 4;
    // randomising the head alone already moves the map (Grad-CAM reads the gradient from above)
    EXPECT_LT(r.steps.front().correlation.spearman_signed, 0.999);
    std::printf("slice %d: rho after the head %+.3f, after all %zu layers %+.3f (|map| %+.3f)\n", i,
                r.steps.front().correlation.spearman_signed, r.steps.size(), end.spearman_signed, end.spearman_abs);
    if (i == 0) {
      const int threads = cpu::num_threads();
      cpu::set_num_threads(threads == 1 ? 2 : 1);
      xai::CascadeResult r2 = xai::cascading_randomisation(m, [&] { return raw_cam(m, s); }, opt);
      cpu::set_num_threads(threads);
      ASSERT_EQ(r2.steps.size(), r.steps.size());
      for (size_t k = 0; k < r.steps.size(); ++k) {
        EXPECT_EQ(r2.steps[k].correlation.spearman_signed, r.steps[k].correlation.spearman_signed) << k;
        EXPECT_EQ(r2.steps[k].map.to_vector(), r.steps[k].map.to_vector()) << k;
      }
    }
  }
  std::printf("mean rho after full randomisation %+.3f (|map| %+.3f); trained map AUC %.3f\n", end_signed, end_abs,
              auc);
  EXPECT_LT(std::fabs(end_signed), 0.5);
  EXPECT_LT(std::fabs(end_abs), 0.5);
  auto after = m.named_parameters();
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(after[i].second.to_vector(), before[i].second) << before[i].first;
  std::printf("test %.1f s\n", seconds_since(t0));
}

// Data randomisation: the model trained on permuted labels fits them (its loss falls) but its maps
// neither point at the tumour nor agree with the real-label model's, which a second real-label model
// from another init does more (mean over 8 slices).
TEST(SanityChecks, DataRandomisationDecorrelatesMaps) {
  const std::vector<Sample>& data = slices();
  models::SegmentationModel &a = *real_model().net, &b = *real_model_other_init().net;
  const Model& permuted = permuted_label_model();
  std::printf("permuted labels: loss %.3f -> %.3f\n", permuted.first_loss, permuted.last_loss);
  EXPECT_LT(permuted.last_loss, 0.8 * permuted.first_loss);
  std::vector<Tensor> real, real2, perm;
  for (int i = 0; i < 8; ++i) {
    real.push_back(tumour_cam(a, data[i]));
    real2.push_back(tumour_cam(b, data[i]));
    perm.push_back(tumour_cam(*permuted.net, data[i]));
  }
  xai::DataRandomisationResult with_perm = xai::data_randomisation_check(real, perm);
  xai::DataRandomisationResult with_real = xai::data_randomisation_check(real, real2);
  ASSERT_EQ(with_perm.per_map.size(), 8u);
  const double auc_real = mean_auc(a, data, 8), auc_perm = mean_auc(*permuted.net, data, 8);
  std::printf("rho(real, permuted) %+.3f over %lld defined; rho(real, real other init) %+.3f\n",
              with_perm.mean.spearman_signed, (long long)(8 - with_perm.undefined), with_real.mean.spearman_signed);
  std::printf("tumour AUC of the maps: real labels %.3f, permuted %.3f\n", auc_real, auc_perm);
  EXPECT_LE(with_perm.undefined, 2);
  EXPECT_LT(with_perm.mean.spearman_signed, 0.5);
  EXPECT_LT(with_perm.mean.spearman_signed, with_real.mean.spearman_signed - 0.2);
  EXPECT_GT(auc_real, 0.9);
  EXPECT_LT(auc_perm, auc_real - 0.2);
}

TEST(SanityChecks, CascadeRestoresWeightsWhenExplainThrows) {
  auto m = models::make_model(models::named_config("micro", S, 3, 1), 2);
  auto w = m->find_tensor("segmentation_head.0.weight");
  const std::vector<double> before = w.to_vector();
  int calls = 0;
  xai::CascadeOptions opt;
  opt.layers = {"segmentation_head", "decoder"};
  auto explain = [&]() -> Tensor {
    if (++calls == 2) throw Error("explain failed");
    return Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  };
  EXPECT_THROW(xai::cascading_randomisation(*m, explain, opt), Error);
  EXPECT_EQ(w.to_vector(), before);
  opt.layers = {"no.such.layer"};
  EXPECT_THROW(xai::cascading_randomisation(*m, explain, opt), Error);
}

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "io/patch_loader.h"
#include "models/config.h"
#include "train/loop.h"
#include "train/sgd.h"
#include "train/sliding_window.h"
#include "train3d_test_util.h"

using namespace gb;

// The TransUNet loss on volumes: logits [N, C, D, H, W] with labels [N, D, H, W] is the same
// number as on the flattened [N, C, D*H*W] (the losses reduce over every spatial position).
TEST(Train3d, SegmentationLossOnVolumesEqualsFlattened) {
  Tensor logits = Tensor::empty({2, 3, 3, 4, 5}, DType::F64);
  Generator g(2);
  g.normal_(logits);
  std::vector<int32_t> lv(2 * 60);
  for (size_t i = 0; i < lv.size(); ++i) lv[i] = (int32_t)((i * 7) % 3);
  Tensor labels = Tensor::from_vector(lv, {2, 3, 4, 5});
  double ce = 0, dice = 0, ce2 = 0, dice2 = 0;
  Tensor l = train::segmentation_loss(logits, labels, &ce, &dice);
  train::segmentation_loss(logits.view_reshape({2, 3, 60}), labels.view_reshape({2, 60}), &ce2, &dice2);
  EXPECT_NEAR(ce, ce2, 1e-14);
  EXPECT_NEAR(dice, dice2, 1e-14);
  EXPECT_GT(ce, 0.1);
  EXPECT_GT(dice, 0.1);
  EXPECT_THROW(train::segmentation_loss(logits, labels.view_reshape({2, 3, 20})), Error);  // 4-D label vs 5-D
}

// unet3d-tiny on phantom patches: a few SGD steps lower the loss on a fixed held-out batch, then the
// sliding window segments a whole phantom volume.
TEST(Train3d, UNet3dTinyLearnsOnPhantomPatches) {
  auto t0 = std::chrono::steady_clock::now();
  auto ds = io::open_phantom(11, 3, test3d::small_phantom(48, 20));
  models::ModelConfig mc = models::named_config("unet3d-tiny");
  mc.size = {8, 16, 16};  // tiny patch: a few seconds on 2 cores
  auto m = models::make_model(mc, 7);
  io::PatchLoaderOptions o;
  o.batch_size = 4;
  o.patch = {8, 16, 16};
  o.foreground_fraction = 0.5;
  o.cache_volumes = 2;
  o.seed = 3;
  io::PatchLoader pl(*ds, {0, 1}, o);  // volume 2 held out for the sliding window
  const io::Batch probe = pl.batch(100000);
  auto probe_loss = [&] {
    NoGradGuard ng;
    return train::segmentation_loss(m->forward(probe.image), probe.label).item();
  };
  std::vector<Tensor> params;
  for (auto& [name, p] : m->named_parameters()) params.push_back(p);
  train::SgdOptions so;
  so.lr = 0.05;
  train::Sgd sgd(params, so);
  m->train();
  const double before = probe_loss();
  const int64_t steps = 40;
  for (int64_t s = 0; s < steps; ++s) {
    io::Batch b = pl.batch(s);
    sgd.set_lr(train::poly_lr(so.lr, s, steps));
    sgd.zero_grad();
    Tensor loss = train::segmentation_loss(m->forward(b.image), b.label);
    ASSERT_TRUE(std::isfinite(loss.item())) << "step " << s;
    loss.backward();
    sgd.step();
  }
  const double after = probe_loss();
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("unet3d-tiny %lld steps of %lldx8x16x16: probe loss %.4f -> %.4f, %.2f s\n", (long long)steps,
              (long long)o.batch_size, before, after, train_s);
  EXPECT_LT(after, 0.8 * before);

  io::Sample held = ds->load(2);
  train::SlidingWindowOptions sw;
  sw.batch = 4;
  int64_t last_done = 0, last_total = -1;
  sw.progress = [&](int64_t d, int64_t t) {
    EXPECT_GT(d, last_done);
    last_done = d;
    last_total = t;
  };
  Tensor lab = train::predict_volume_3d(*m, held.image, sw);
  ASSERT_EQ(lab.shape(), held.image.data.shape());
  EXPECT_EQ(last_done, last_total);
  EXPECT_TRUE(m->is_training());
  // After this little training the background at least is found: most of the air is labelled 0.
  int64_t bg = 0, bg_ok = 0;
  const auto lv = lab.to_vector(), tv = held.label.data.to_vector();
  for (size_t i = 0; i < lv.size(); ++i)
    if (tv[i] == 0) {
      ++bg;
      bg_ok += lv[i] == 0;
    }
  EXPECT_GT((double)bg_ok / (double)bg, 0.8);
}

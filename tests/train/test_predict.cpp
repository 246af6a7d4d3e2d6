#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "models/config.h"
#include "train/loop.h"
#include "train/predict.h"

using namespace gb;

// predict_volume = argmax of the model on each preprocessed slice, resized back to the slice size.
TEST(Predict, VolumeEqualsPerSliceArgmax) {
  for (bool ctx : {false, true}) {  // 2.5-D: batches need their neighbouring slices
    auto m = models::make_model(models::named_config("micro", 32, 3, ctx ? 3 : 1), 3);
    io::Volume v;
    v.data = Tensor::empty({5, 40, 24});
    Generator g(5);
    g.uniform_(v.data, -300, 300);
    train::PredictOptions po;
    po.pre.height = po.pre.width = 32;
    po.pre.channels = ctx ? 3 : 1;
    po.pre.context_2p5d = ctx;
    po.batch = 2;  // exercises batch edges and a partial last batch
    po.probabilities = true;
    train::VolumePrediction full = train::predict_volume_full(*m, v, po);
    Tensor pred = full.labels;
    ASSERT_EQ(pred.shape(), (Shape{5, 40, 24}));
    ASSERT_EQ(full.probabilities.shape(), (Shape{3, 5, 40, 24}));
    m->eval();
    NoGradGuard ng;
    for (int64_t k = 0; k < 5; ++k) {
      Tensor logits = m->forward(io::model_input_slice(v.data, k, po.pre));  // [1, 3, 32, 32]
      // Probabilities are continuous, so a wrong input (e.g. a missing 2.5-D neighbour) shows here.
      Tensor p = io::resize_bilinear(softmax(logits, 1).view_reshape({3, 32, 32}).contiguous(), 40, 24);
      auto want = p.to_vector(), got = full.probabilities.view_slice(1, k, k + 1).contiguous().to_vector();
      double worst = 0;
      for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(want[i] - got[i]));
      EXPECT_LT(worst, 1e-5) << "slice " << k << " ctx " << ctx;
      Tensor lab = argmax(logits, 1);  // [1, 32, 32]
      Tensor back = io::resize_nearest(lab.view_reshape({32, 32}).contiguous(), 40, 24);
      EXPECT_EQ(pred.view_slice(0, k, k + 1).contiguous().to_vector(), back.to_vector()) << "slice " << k << " ctx " << ctx;
    }
  }
}

TEST(SegmentationLoss, IsHalfCrossEntropyHalfDice) {
  Tensor logits = Tensor::empty({2, 3, 4, 4}, DType::F64);
  Generator g(1);
  g.normal_(logits);
  std::vector<int32_t> lv(32);
  for (size_t i = 0; i < lv.size(); ++i) lv[i] = (int32_t)(i % 3);
  Tensor labels = Tensor::from_vector(lv, {2, 4, 4});
  double ce = 0, dice = 0;
  Tensor l = train::segmentation_loss(logits, labels, &ce, &dice);
  EXPECT_NEAR(l.item(), 0.5 * cross_entropy(logits, labels).item() + 0.5 * soft_dice_loss(logits, labels).item(), 1e-14);
  EXPECT_NEAR(l.item(), 0.5 * ce + 0.5 * dice, 1e-14);
}

TEST(SegmentationLoss, ClassWeightsWeightBothParts) {
  Tensor logits = Tensor::empty({2, 3, 4, 4}, DType::F64);
  Generator g(2);
  g.normal_(logits);
  std::vector<int32_t> lv(32);
  for (size_t i = 0; i < lv.size(); ++i) lv[i] = (int32_t)((i * 7) % 3);
  Tensor labels = Tensor::from_vector(lv, {2, 4, 4});
  const std::vector<double> w = {0.5, 1.0, 3.0};
  // Independent formulas: CE = sum_i w_{t_i} nll_i / sum_i w_{t_i}; Dice = sum_c w_c dice_c / C.
  const Tensor p = softmax(logits, 1);
  const double* pp = p.data<double>();
  double num = 0, den = 0, dsum = 0;
  for (int c = 0; c < 3; ++c) {
    double inter = 0, pp2 = 0, tt = 0;
    for (int n = 0; n < 2; ++n)
      for (int s = 0; s < 16; ++s) {
        const double pc = pp[(n * 3 + c) * 16 + s];
        const bool t = lv[(size_t)(n * 16 + s)] == c;
        inter += t ? pc : 0;
        pp2 += pc * pc;
        tt += t ? 1 : 0;
        if (t) {
          num += -w[(size_t)c] * std::log(pc);
          den += w[(size_t)c];
        }
      }
    dsum += w[(size_t)c] * (1 - (2 * inter + 1e-5) / (pp2 + tt + 1e-5));
  }
  double ce = 0, dice = 0;
  Tensor l = train::segmentation_loss(logits, labels, &ce, &dice, Tensor::from_vector(w, {3}));
  EXPECT_NEAR(ce, num / den, 1e-12);
  EXPECT_NEAR(dice, dsum / 3, 1e-12);
  EXPECT_NEAR(l.item(), 0.5 * num / den + 0.5 * dsum / 3, 1e-12);
  // and the unweighted loss differs (the weights are really applied)
  EXPECT_GT(std::abs(train::segmentation_loss(logits, labels).item() - l.item()), 1e-3);
}

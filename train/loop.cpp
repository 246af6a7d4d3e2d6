#include "train/loop.h"

#include <chrono>
#include <cmath>

#include "autograd/ops.h"

namespace gb::train {

Tensor segmentation_loss(const Tensor& logits, const Tensor& labels, double* ce_out, double* dice_out,
                         const Tensor& class_weight) {
  const Tensor w = class_weight.defined() ? class_weight.to(logits.dtype()).to(logits.device()) : Tensor();
  Tensor ce = cross_entropy(logits, labels, w);
  Tensor dice = soft_dice_loss(logits, labels, w);
  if (ce_out) *ce_out = ce.item();
  if (dice_out) *dice_out = dice.item();
  return add(mul_scalar(ce, 0.5), mul_scalar(dice, 0.5));
}

std::vector<StepLog> fit(models::SegmentationModel& model, io::Loader& loader, const TrainOptions& opt,
                         const std::function<void(const StepLog&)>& on_step) {
  std::vector<Tensor> params;
  for (auto& [name, p] : model.named_parameters()) params.push_back(p);
  Sgd sgd(params, opt.sgd);
  model.train();
  std::vector<StepLog> log;
  int64_t epoch = 0;
  loader.start_epoch(epoch);
  io::Batch batch;
  for (int64_t step = 0; step < opt.steps; ++step) {
    if (!loader.next(batch)) {
      loader.start_epoch(++epoch);
      GB_CHECK(loader.next(batch), "train: the loader produced an empty epoch");
    }
    auto t0 = std::chrono::steady_clock::now();
    StepLog s;
    s.step = step;
    s.lr = opt.poly ? poly_lr(opt.sgd.lr, step, opt.steps) : opt.sgd.lr;
    sgd.set_lr(s.lr);
    sgd.zero_grad();
    Tensor logits = model.forward(batch.image);
    Tensor loss = segmentation_loss(logits, batch.label, &s.ce, &s.dice);
    s.loss = loss.item();
    GB_CHECK(std::isfinite(s.loss), "train: loss became ", s.loss, " at step ", step);
    loss.backward();
    sgd.step();
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log.push_back(s);
    if (on_step) on_step(s);
  }
  return log;
}

}  // namespace gb::train

// The TransUNet training step and loop (DESIGN.md §4): loss = 0.5 * CE + 0.5 * soft Dice (softmax, all
// classes incl. background), SGD with momentum 0.9 and weight decay 1e-4, poly LR decay.
#pragma once
#include <functional>
#include <vector>

#include "io/loader.h"
#include "models/model.h"
#include "train/sgd.h"

namespace gb::train {

// logits [N, C, H, W], labels i32 [N, H, W] -> scalar; ce and dice receive the two parts when given.
// class_weight [C] (f64 or the logits' dtype; undefined = all 1, the official recipe) weights both
// parts: CE as torch's weight= (sum w_t nll / sum w_t), Dice as sum_c w_c dice_c / C.
Tensor segmentation_loss(const Tensor& logits, const Tensor& labels, double* ce = nullptr, double* dice = nullptr,
                         const Tensor& class_weight = Tensor());

struct TrainOptions {
  int64_t steps = 100;  // optimiser steps (batches); epochs restart the loader as needed
  SgdOptions sgd;       // base lr, momentum, weight decay
  bool poly = true;
};

struct StepLog {
  int64_t step = 0;
  double loss = 0, ce = 0, dice = 0, lr = 0, seconds = 0;
};

// Trains `model` in place on batches from `loader`; calls on_step after each step.
std::vector<StepLog> fit(models::SegmentationModel& model, io::Loader& loader, const TrainOptions& opt,
                         const std::function<void(const StepLog&)>& on_step = {});

}  // namespace gb::train

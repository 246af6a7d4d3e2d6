#include "train/predict.h"

#include "autograd/node.h"
#include "autograd/ops.h"

namespace gb::train {
namespace {

// logits [b, classes, h, w] -> sample i's labels [H, W] into labels_out, and its softmax resized to
// H x W into probs_out ([C, 1, H, W] or [C, H, W]: any view with C * H * W elements in that order).
void put_back(const Tensor& logits, const Tensor& lab, int64_t i, int64_t H, int64_t W, Tensor& labels_out,
              Tensor* probs_out) {
  const int64_t h = lab.size(1), w = lab.size(2);
  Tensor one = lab.view_slice(0, i, i + 1).view_reshape({h, w}).contiguous();
  labels_out.copy_from(io::resize_nearest(one, H, W).view_reshape({H, W}));
  if (probs_out) {
    Tensor p = softmax(logits.view_slice(0, i, i + 1), 1);  // [1, C, h, w]
    const int64_t C = p.size(1);
    Tensor big = io::resize_bilinear(p.view_reshape({C, h, w}).contiguous(), H, W);  // contiguous [C, H, W]
    probs_out->copy_from(big.view_reshape(probs_out->shape()));
  }
}

}  // namespace

VolumePrediction predict_volume_full(models::SegmentationModel& model, const io::Volume& image,
                                     const PredictOptions& opt) {
  const Tensor& vol = image.data;
  const std::string name = image.path.empty() ? "image" : image.path;
  GB_CHECK(vol.defined() && vol.dim() == 3, "predict_volume: ", name, " must be [D,H,W], got ",
           vol.defined() ? vol.desc() : "undefined");
  GB_CHECK(opt.batch >= 1, "predict_volume: batch must be >= 1");
  opt.pre.validate(name);
  const int64_t D = vol.size(0), H = vol.size(1), W = vol.size(2);
  VolumePrediction r;
  r.labels = Tensor::empty({D, H, W}, DType::I32);
  NoGradGuard ng;
  nn::ParameterCacheScope weights_fixed;  // one weight standardisation for all slices
  const bool was_training = model.is_training();
  model.eval();
  const Device dev = model.device();
  // Stage 1 (elementwise) on the slices of this batch and their 2.5-D neighbours only, so a
  // 512 x 512 x 900 volume is never copied whole; then stages 2-4 per slice, as the Loader does.
  const int64_t ctx = opt.pre.context_2p5d ? 1 : 0;
  for (int64_t k0 = 0; k0 < D; k0 += opt.batch) {
    const int64_t k1 = std::min(D, k0 + opt.batch);
    const int64_t u0 = std::max<int64_t>(0, k0 - ctx), u1 = std::min(D, k1 + ctx);
    Tensor unit = io::pre_intensities(vol.view_slice(0, u0, u1), opt.pre);  // [u1 - u0, H, W]
    std::vector<Tensor> xs;
    for (int64_t k = k0; k < k1; ++k) {
      Tensor s = io::pre_resize_image(io::pre_slice(unit, k - u0, opt.pre), opt.pre);
      xs.push_back(s.view_reshape({1, s.size(0), opt.pre.height, opt.pre.width}));
    }
    // On the model's device; the logits and labels come back to the host for the resampling below.
    Tensor logits = model.forward(concat(xs, 0).to(dev));  // [b, classes, h, w]
    Tensor lab = argmax(logits, 1).to(Device::CPU);         // i32 [b, h, w]
    logits = logits.to(Device::CPU);
    const int64_t C = logits.size(1);
    if (opt.probabilities && !r.probabilities.defined()) r.probabilities = Tensor::empty({C, D, H, W}, DType::F32);
    for (int64_t k = k0; k < k1; ++k) {
      Tensor lo = r.labels.view_slice(0, k, k + 1).view_reshape({H, W});
      Tensor po;
      // [C, 1, H, W] view into the [C, D, H, W] result: a strided view, written in place (a reshape
      // of it would be a copy).
      if (opt.probabilities) po = r.probabilities.view_slice(1, k, k + 1);
      put_back(logits, lab, k - k0, H, W, lo, opt.probabilities ? &po : nullptr);
    }
    if (opt.progress) opt.progress(k1, D);
  }
  model.train(was_training);
  return r;
}

Tensor predict_volume(models::SegmentationModel& model, const io::Volume& image, const PredictOptions& opt) {
  PredictOptions o = opt;
  o.probabilities = false;
  return predict_volume_full(model, image, o).labels;
}

VolumePrediction predict_image(models::SegmentationModel& model, const Tensor& raw_image, const PredictOptions& opt) {
  GB_CHECK(raw_image.defined() && raw_image.dim() == 3, "predict_image: expected [C,H,W], got ",
           raw_image.defined() ? raw_image.desc() : "undefined");
  opt.pre.validate("predict_image");
  const int64_t H = raw_image.size(1), W = raw_image.size(2);
  NoGradGuard ng;
  const bool was_training = model.is_training();
  model.eval();
  Tensor logits = model.forward(io::model_input_image(raw_image, opt.pre).to(model.device()));
  Tensor lab = argmax(logits, 1).to(Device::CPU);
  logits = logits.to(Device::CPU);
  VolumePrediction r;
  r.labels = Tensor::empty({H, W}, DType::I32);
  Tensor po;
  if (opt.probabilities) r.probabilities = po = Tensor::empty({logits.size(1), H, W}, DType::F32);
  put_back(logits, lab, 0, H, W, r.labels, opt.probabilities ? &po : nullptr);
  model.train(was_training);
  return r;
}

}  // namespace gb::train

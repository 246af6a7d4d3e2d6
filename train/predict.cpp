#include "train/predict.h"

#include "autograd/node.h"
#include "autograd/ops.h"

namespace gb::train {

Tensor model_input_slice(const io::Volume& image, int64_t k, const PredictOptions& opt) {
  Tensor s = io::volume_slice(image.data, k, opt.context_2p5d ? 1 : 0);  // [C0, H, W] HU
  s = io::to_unit_range(s, io::Units::HU, opt.window);
  s = io::match_channels(s, opt.channels);
  s = io::resize_bilinear(s, opt.height, opt.width);
  return s.view_reshape({1, s.size(0), opt.height, opt.width});
}

Tensor predict_volume(models::SegmentationModel& model, const io::Volume& image, const PredictOptions& opt) {
  const Tensor& vol = image.data;
  GB_CHECK(vol.dim() == 3, "predict_volume: ", image.path.empty() ? "image" : image.path, " must be [D,H,W], got ",
           vol.desc());
  const int64_t D = vol.size(0), H = vol.size(1), W = vol.size(2);
  Tensor out = Tensor::empty({D, H, W}, DType::I32);
  NoGradGuard ng;
  const bool was_training = model.is_training();
  model.eval();
  for (int64_t k0 = 0; k0 < D; k0 += opt.batch) {
    const int64_t k1 = std::min(D, k0 + opt.batch);
    std::vector<Tensor> xs;
    for (int64_t k = k0; k < k1; ++k) xs.push_back(model_input_slice(image, k, opt));
    Tensor logits = model.forward(concat(xs, 0));   // [b, classes, h, w]
    Tensor lab = argmax(logits, 1);                  // i32 [b, h, w]
    for (int64_t k = k0; k < k1; ++k) {
      Tensor one = lab.view_slice(0, k - k0, k - k0 + 1).view_reshape({1, opt.height, opt.width});
      Tensor back = io::resize_nearest(one.contiguous(), H, W).view_reshape({H, W});
      out.view_slice(0, k, k + 1).view_reshape({H, W}).copy_from(back);
    }
  }
  model.train(was_training);
  return out;
}

}  // namespace gb::train

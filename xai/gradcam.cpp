#include "xai/gradcam.h"

#include "xai/cam.h"

namespace gb::xai {

CamResult grad_cam(models::SegmentationModel& model, const Tensor& x, const std::string& layer, int64_t cls,
                   const Tensor& region) {
  GB_CHECK(x.dim() == 4 && x.size(0) == 1, "grad_cam: input must be [1, C, H, W], got ", x.desc());
  const int64_t H = x.size(2), W = x.size(3);
  GB_CHECK(cls >= 0 && cls < model.config().classes, "grad_cam: class ", cls, " out of range for ",
           model.config().classes, " classes");
  Target t;
  t.cls = cls;
  if (region.defined()) {
    GB_CHECK(region.numel() == H * W, "grad_cam: region ", region.desc(), " does not match the input ", x.desc());
    std::vector<double> mv = region.to(Device::CPU).to(DType::F64).contiguous().to_vector();
    for (double& v : mv) v = v != 0 ? 1.0 : 0.0;
    t.mask = Tensor::from_vector(mv, {H, W});
  } else {
    t.mask = Tensor::ones({H, W}, DType::F64);
  }
  CamSample s = cam(model, x, t, CamMethod::GradCam, {layer}).at(0);
  CamResult r;
  r.layer = layer;
  r.cls = cls;
  r.target = s.target;
  r.weights = s.layers[0].weights;
  r.raw = s.layers[0].raw;
  r.relu = s.layers[0].relu;
  r.upsampled = s.layers[0].upsampled;
  r.normalised = s.layers[0].normalised;
  return r;
}

}  // namespace gb::xai

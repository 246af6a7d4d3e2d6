// The Grad-CAM family for segmentation targets (DESIGN.md §7), at any hookable layer (xai/layers.h),
// for any batch size and for 2-D and 3-D models. One forward and one backward per call, however many
// layers: every layer is hooked in the same pass.
//
// With A = the layer's output for one sample as [C, *grid] and G = dT/dA (T that sample's target):
//   gradcam    w_k = mean_p G_k(p);                        raw = sum_k w_k A_k
//   hirescam   raw = sum_k G_k ⊙ A_k                        (Draelos & Carin 2020)
//   gradcam++  w_k = sum_p ReLU(G_k) a_k(p),  a_k = G^2 / (2 G^2 + (sum_p A_k) G^3 + 1e-7), 0 where
//              G = 0 (pytorch-grad-cam's closed form, which assumes T enters through exp);
//              raw = sum_k w_k A_k
//   layercam   raw = sum_k ReLU(G_k) ⊙ A_k                  (Jiang et al. 2021)
// Maps, in this order (all f64):
//   raw        signed, [*grid]
//   relu       max(raw, 0), [*grid]
//   upsampled  relu resized to the input grid (bilinear / trilinear, half-pixel centres), [*spatial]
//   normalised (upsampled - min) / (max - min), all zeros when constant, [*spatial]
// Several layers: `combined` = the mean of the layers' normalised maps (each normalised after it was
// resized to the input), normalised again; with one layer it is that layer's normalised map.
// pytorch-grad-cam normalises each layer at its own resolution before resizing, so its multi-layer map
// differs (up to 9.6e-2 measured in tests/xai/test_parity.cpp, which rebuilds its order from our
// per-layer maps to 1.6e-5); single-layer maps agree.
#pragma once
#include <string>
#include <vector>

#include "models/model.h"
#include "xai/targets.h"

namespace gb::xai {

enum class CamMethod { GradCam, HiResCam, GradCamPlusPlus, LayerCam };
CamMethod cam_method_from_name(const std::string& s);  // "gradcam", "hirescam", "gradcam++", "layercam"
const char* cam_method_name(CamMethod m);

struct LayerMap {
  std::string layer;
  Tensor weights;                // [C]: gradcam / gradcam++ channel weights; undefined otherwise
  Tensor raw, relu;              // [*grid]
  Tensor upsampled, normalised;  // [*spatial]
};

struct CamSample {
  double target = 0;  // T of this sample
  std::vector<LayerMap> layers;
  Tensor combined;    // [*spatial]
};

// x [B, C, *spatial]; target.mask [*spatial] (shared) or [B, *spatial]; layers empty = auto_layer.
// Puts the model in eval mode for the call (and restores the mode). The model may be on a device: x
// goes there, and each hooked layer's activation and gradient come back to the host once; the maps
// are host tensors.
std::vector<CamSample> cam(models::SegmentationModel& model, const Tensor& x, const Target& target, CamMethod method,
                           const std::vector<std::string>& layers = {});

// Min-max to [0, 1]; all zeros when constant. Any shape, f64 out.
Tensor normalise01(const Tensor& t);

}  // namespace gb::xai

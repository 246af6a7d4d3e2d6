// Grad-CAM for a segmentation network (DESIGN.md §7).
//   target   T = sum_{p in M} z_c(p): pre-softmax logits of class c summed over the region M
//   layer    A = output of the named submodule, C x h x w (a ViT token tensor [1, N, C] is read as a
//            sqrt(N) x sqrt(N) grid: TransUNet has no class token)
//   weights  alpha_k = mean_{u,v} dT/dA_k(u,v)
//   maps, in this order:
//     raw        sum_k alpha_k A_k                (signed, h x w)
//     relu       max(raw, 0)                      (h x w)
//     upsampled  relu resized to the input, bilinear with half-pixel centres (H x W)
//     normalised (upsampled - min) / (max - min)  in [0, 1]; all zeros when the map is constant
// The gradient comes from this engine's own reverse pass: a forward hook keeps A and retains its
// gradient; nothing is approximated. This is the one-sample, one-layer Grad-CAM the demo uses; the
// whole family (HiResCAM, Grad-CAM++, LayerCAM, several layers, batches, 3-D) is xai/cam.h.
#pragma once
#include <string>

#include "models/model.h"

namespace gb::xai {

struct CamResult {
  std::string layer;
  int64_t cls = 0;
  double target = 0;        // T
  Tensor weights;           // alpha [C]
  Tensor raw, relu;         // [h, w]
  Tensor upsampled, normalised;  // [H, W]
};

// x: [1, C_in, H, W]; region: i32 or f32 [H, W] (non-zero = in M), or undefined for the whole image.
CamResult grad_cam(models::SegmentationModel& model, const Tensor& x, const std::string& layer, int64_t cls,
                   const Tensor& region = Tensor());

}  // namespace gb::xai

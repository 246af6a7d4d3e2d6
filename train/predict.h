// Inference over a whole volume with a 2-D model: slice by slice, preprocessed by the same functions
// the Loader uses for training (io/preprocess_spec.h), then the argmax label (and, when asked, the
// softmax probabilities) resized back to the slice's own size (labels nearest, probabilities bilinear).
#pragma once
#include <functional>

#include "io/preprocess_spec.h"
#include "io/volume.h"
#include "models/model.h"

namespace gb::train {

struct PredictOptions {
  io::Preprocess pre;     // how the model is fed (from its checkpoint)
  int64_t batch = 8;      // slices per forward pass
  bool probabilities = false;  // also return softmax maps
  std::function<void(int64_t done, int64_t total)> progress;  // after each batch of slices
};

struct VolumePrediction {
  Tensor labels;         // i32 [D, H, W]
  Tensor probabilities;  // f32 [classes, D, H, W] when asked, else undefined
};

// image: f32 HU [D, H, W] -> labels i32 [D, H, W]. Runs in eval mode without recording a graph.
VolumePrediction predict_volume_full(models::SegmentationModel& model, const io::Volume& image,
                                     const PredictOptions& opt);
Tensor predict_volume(models::SegmentationModel& model, const io::Volume& image, const PredictOptions& opt);

// One raw 2-D image [C0, H, W] (8-bit pixels or HU, per opt.pre.units) -> labels i32 [H, W]
// (and probabilities f32 [classes, H, W]).
VolumePrediction predict_image(models::SegmentationModel& model, const Tensor& raw_image, const PredictOptions& opt);

}  // namespace gb::train

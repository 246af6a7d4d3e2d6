// Inference over a whole volume: slice by slice, preprocessed exactly as the Loader does for training
// (window to [0, 1], channels, bilinear resize to the model's input), then the argmax label resized
// back (nearest) to the slice's own size.
#pragma once
#include "io/preprocess.h"
#include "io/volume.h"
#include "models/model.h"

namespace gb::train {

struct PredictOptions {
  int64_t height = 224, width = 224;  // model input size
  int channels = 1;
  bool context_2p5d = false;
  io::Window window;
  int64_t batch = 8;
};

// image: f32 HU [D, H, W] -> i32 labels [D, H, W]. Runs in eval mode without recording a graph.
Tensor predict_volume(models::SegmentationModel& model, const io::Volume& image, const PredictOptions& opt);

// One preprocessed slice as the model sees it: [1, C, height, width].
Tensor model_input_slice(const io::Volume& image, int64_t k, const PredictOptions& opt);

}  // namespace gb::train

// One preprocessing description, applied by the same code for training (io/loader.h) and inference
// (train/predict.h), and saved in every checkpoint beside the model config ("glassbox.preprocess"), so
// a checkpoint alone says how to feed it.
//
// The pipeline, stage by stage (the functions below; the formulas are in io/preprocess.h):
//   1. intensities   raw stored values -> [0, 1]: HU windowed (units HU) or 8-bit pixels / 255
//                    (units Pixel8); elementwise, so it may run on a whole volume or one slice.
//   2. slice         a [D, H, W] volume in [0, 1] -> slice k as [C0, H, W]: C0 = 1, or 3 neighbours
//                    (k-1, k, k+1, edges replicated) when context_2p5d.
//   3. channels      [C0, H, W] -> [channels, H, W]: grey replicated to 3, or RGB to luma.
//   (training only: augmentation at the slice's native size, io/augment.h)
//   4. size          [channels, H, W] -> [channels, height, width]: bilinear, corners aligned
//                    (scipy.ndimage.zoom order 1, as the official TransUNet); labels nearest.
// Inference maps the argmax back to the slice's own H x W with the same nearest rule.
// 3-D models (depth > 0) see stages 1 and 3 only and take patches of depth x height x width.
#pragma once
#include <string>

#include "io/dataset.h"
#include "io/preprocess.h"

namespace gb::io {

struct Preprocess {
  Units units = Units::HU;   // what the model was trained on; inference refuses other units
  Window window;             // HU window (units HU only)
  int channels = 1;          // model input channels: 1 grey or 3
  bool context_2p5d = false; // 2.5-D: neighbouring slices as the 3 channels (needs channels == 3)
  int64_t height = 224, width = 224;  // 2-D: model input size; 3-D: patch height and width
  int64_t depth = 0;         // 3-D models: patch depth; 0 for 2-D models
  // Recorded so the checkpoint states it; the only resampling glassbox implements today.
  std::string image_resample = "bilinear-align-corners";
  std::string label_resample = "nearest-align-corners";

  // Throws "<where>: preprocess ..." for inconsistent settings.
  void validate(const std::string& where = "preprocess") const;
  std::string to_json() const;
  static Preprocess from_json(const std::string& json, const std::string& where = "preprocess");
  // One line for logs: "HU window [-200, 250] -> [0,1], 1 channel, 128x128, bilinear".
  std::string describe() const;
};

const char* units_name(Units u);  // "hu" / "pixel8"
Units units_from_name(const std::string& s);

// Throws a clear error when an input in `input_units` cannot be fed to a model trained on `pre`:
//   "<input>: model expects 8-bit pixel slices (trained on a slice folder), but this input is in
//    Hounsfield units".
void check_units(const Preprocess& pre, Units input_units, const std::string& input);

// Stage 1. raw any shape -> f32 same shape in [0, 1].
Tensor pre_intensities(const Tensor& raw, const Preprocess& pre);
// Stages 2 + 3. unit-range volume [D, H, W] -> [channels, H, W] for slice k.
Tensor pre_slice(const Tensor& unit_volume, int64_t k, const Preprocess& pre);
// Stage 3 alone, for 2-D sources (slice files): unit-range [C0, H, W] -> [channels, H, W].
Tensor pre_channels(const Tensor& unit_image, const Preprocess& pre);
// Stage 4. [C, h, w] -> [C, height, width]; labels i32 [h, w] -> [height, width].
Tensor pre_resize_image(const Tensor& img, const Preprocess& pre);
Tensor pre_resize_label(const Tensor& label, const Preprocess& pre);

// All stages for one slice of a raw volume (no augmentation): [D, H, W] -> [1, channels, height,
// width], what the model sees at inference. Equals the Loader's sample when augmentation is off.
Tensor model_input_slice(const Tensor& raw_volume, int64_t k, const Preprocess& pre);
// All stages for one raw 2-D image [C0, H, W] -> [1, channels, height, width].
Tensor model_input_image(const Tensor& raw_image, const Preprocess& pre);

}  // namespace gb::io

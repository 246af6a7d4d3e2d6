// "Explain what the model did on the user's input": the library behind `glassbox explain`.
//
// Input (`in`): a NIfTI volume (HU), a PNG/JPG slice, or a folder of PNG/JPG slices; optional truth
// (`truth`): a NIfTI label map on the volume's grid, a label PNG for a slice, or for a folder a folder
// of label PNGs named <stem>_mask.png or <stem>.png (the LiTS-slices export). 2-D models only (a 3-D
// model's maps come from the library: xai/cam.h, xai/integrated_gradients.h take [1, C, D, H, W]).
//
// Slices: `slices` when given, else every slice whose prediction (or, for a truth region, whose
// truth) holds the target class. Each slice is fed to the model exactly as `segment` feeds it
// (io/preprocess_spec.h), the target is resolved on the model's grid (xai/targets.h), and every
// method in `methods` explains it:
//   gradcam hirescam gradcam++ layercam   xai/cam.h at `layers` (empty = xai::auto_layer)
//   ig                                    xai/integrated_gradients.h (rule, steps, baseline, tolerance)
//   gradient gradxinput                   xai/smoothgrad.h
//   smoothgrad vargrad                    mean / variance over noisy copies of `smooth_of`
//   occlusion                             xai/occlusion.h (patch, stride, the same baseline as ig)
//   rollout gradrollout relevance         xai/attention_rollout.h (TransUNet's ViT blocks; rows of the
//                                         tokens overlapping the region; relevance = Chefer et al. 2021)
// Outputs in `out` (a folder; refused when it holds files, unless `force`; nothing is written until
// every input is read and checked):
//   <name>_<method>.nii.gz    f32 maps at the input's own resolution, in the input's geometry
//                             (write_nifti_in_geometry: its affine, spacing and axis order); a volume
//                             gives one 3-D map with the unexplained slices 0; a slice a 1-slice map.
//                             Values: CAMs the ReLU map upsampled (several layers: the combined
//                             normalised map), the others the signed channel-summed attribution,
//                             resized bilinearly from the model's grid.
//   <name>_s<k>_<method>.png  panel: CT | truth and prediction outlines | map (normalised |map|) with
//                             the explained region outlined
//   metrics.csv, metrics.json one row per (slice, method): T, T(x'), completeness (IG), evaluations,
//                             seconds, and the saliency metrics (xai/saliency_metrics.h) of the map
//                             against the truth tumour (or the explained region when there is no
//                             truth), on the model's grid
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "io/preprocess_spec.h"
#include "models/model.h"
#include "xai/baselines.h"
#include "xai/integrated_gradients.h"
#include "xai/targets.h"

namespace gb::pipeline {

struct ExplainOptions {
  std::vector<std::string> methods{"gradcam"};
  std::vector<std::string> layers;  // CAM layers; empty = automatic
  xai::TargetSpec target;           // default: class 2 (tumour) over the predicted region
  std::string truth;                // label file / folder, or ""
  std::vector<int64_t> slices;      // volume slice indices (0-based); empty = all target-class slices
  xai::IgOptions ig;
  xai::BaselineKind baseline = xai::BaselineKind::Blur;
  double blur_sigma = 0;            // 0 = image side / 16
  std::string smooth_of = "gradient";  // gradient, gradxinput, ig
  int64_t smooth_samples = 16;
  double smooth_sigma = 0.15;
  std::vector<int64_t> occlusion_patch{16}, occlusion_stride{8};
  double memory_mb = 2048;
  uint64_t seed = 1;
  bool force = false;
};

struct ExplainRow {
  std::string input, name, method, layers;  // name: the input's stem, as in the output file names
  int64_t slice = 0, region_pixels = 0;
  double target = 0, target_baseline = 0, delta_abs = -1, delta_rel = -1, seconds = 0;
  int64_t evaluations = 0;
  std::string warning;
  std::vector<std::pair<std::string, double>> scores;  // saliency metrics, in a fixed order
};

struct ExplainSummary {
  std::vector<ExplainRow> rows;
  std::vector<std::string> files;     // everything written
  std::vector<std::string> warnings;  // IG completeness beyond tolerance, skipped slices
};

// One input, read and checked.
struct ExplainInput {
  std::string name, path;
  bool volume = false;
  io::Volume vol;  // volume: HU [D, H, W] with its geometry
  Tensor image;    // slice: f32 raw pixels [C0, H, W]
  Tensor truth;    // i32 [D, H, W] (volume) or [H, W] (slice), or undefined
};
struct ExplainPlan {
  std::vector<ExplainInput> inputs;
  std::string out;
};

// Reads and checks everything before anything is written. Throws one line naming the file and the
// problem for: a missing or unreadable input or truth, an empty folder, a truth on another grid,
// units the model was not trained on, a 3-D model, an unknown method or layer, a slice out of range,
// a region that needs a truth without one, an output folder that holds files (without force).
ExplainPlan plan_explain(models::SegmentationModel& model, const io::Preprocess& pre, const std::string& in,
                         const std::string& out, const ExplainOptions& opt);

// Runs the plan; progress(done, total, what) after each (slice, method) of an input.
ExplainSummary explain(models::SegmentationModel& model, const io::Preprocess& pre, const ExplainPlan& plan,
                       const ExplainOptions& opt,
                       const std::function<void(int64_t, int64_t, const std::string&)>& progress = {});

// Every method name `explain` knows.
std::vector<std::string> explain_methods();

}  // namespace gb::pipeline

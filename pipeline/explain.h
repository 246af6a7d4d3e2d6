// "Explain what the model did on the user's input": the library behind `glassbox explain`.
//
// Input (`in`): a NIfTI volume (HU), a DICOM series (a folder holding one), a PNG/JPG slice, a folder
// of PNG/JPG slices, or a dataset (what
// `train --data` takes: a slice folder with images/ + masks/, a LiTS or MSD folder, stacks:FOLDER[:SIZE],
// phantom:N[:SEED]) whose own labels are the truth, narrowed to `cases` when given. Optional truth
// (`truth`, not for datasets): a NIfTI label map on the volume's (or series') grid, a label PNG for a slice, or for
// a folder a folder of label PNGs named <stem>_mask.png or <stem>.png (the LiTS-slices export).
//
// 2-D models: slices are `slices` when given, else every slice whose prediction (or, for a truth
// region, whose truth) holds the target class. Each slice is fed to the model exactly as `segment`
// feeds it (io/preprocess_spec.h), the target is resolved on the model's grid (xai/targets.h), and every
// method in `methods` explains it.
// 3-D models (3D U-Net, pre.depth > 0; volumes only): the unit is a window of the model's patch size
// (what it was trained on), the volume padded with 0 where it is shorter, as the sliding window does.
// One window is centred on each connected component (26-connected) of the target class in the
// prediction (or, for a truth region, the truth), largest first, skipping components already inside
// an earlier window; the target is resolved inside the window, so a window holding two lesions
// explains both. Maps are 3-D; each window gives one row per method scored in 3-D (scope "window",
// slice -1; deletion / insertion perturb the whole window) with its own 3-D chance rows (a 3-D random
// map and the 3x3x3 Sobel magnitude), and one row per slice of the window that holds the scoring mask
// (scope "slice", scored on that plane alone, as a 2-D model's slice is, without deletion / insertion:
// T belongs to the window, not the plane) with its 2-D chance rows and pictures. Where windows overlap, the later
// window's values replace the earlier's in the NIfTI map. CAM layers are 3-D feature maps; occlusion
// patches are cubes (one value) or per axis (three).
//
// Methods:
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
//                             resized bilinearly from the model's grid (2-D models).
//   <name>_s<k>_<method>.png  panel: CT | truth and prediction outlines | map (normalised |map|) with
//                             the explained region outlined
//   metrics.csv, metrics.json one row per (slice or window, method): T, T(x'), completeness (IG),
//                             evaluations, seconds, and the saliency metrics (xai/saliency_metrics.h)
//                             of the map against the truth tumour (or the explained region when there
//                             is no truth), on the model's grid; deletion / insertion AUC (score T,
//                             the IG baseline filling in) when perturbation_steps > 0, else empty
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/dataset.h"
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
  std::vector<int64_t> slices;      // volume slice indices (0-based); empty = all target-class slices (2-D models)
  std::vector<std::string> cases;   // dataset input: explain only these cases (empty: all)
  xai::IgOptions ig;
  xai::BaselineKind baseline = xai::BaselineKind::Blur;
  double blur_sigma = 0;            // 0 = image side / 16
  std::string smooth_of = "gradient";  // gradient, gradxinput, ig
  int64_t smooth_samples = 16;
  double smooth_sigma = 0.15;
  std::vector<int64_t> occlusion_patch{16}, occlusion_stride{8};
  int64_t perturbation_steps = 0;   // > 0: deletion and insertion AUC with this many steps per curve
                                    // (2 (steps + 1) forward passes per map; a 3-D model's window rows only)
  double memory_mb = 2048;
  uint64_t seed = 1;
  bool force = false;
};

struct ExplainRow {
  std::string input, name, method, layers;  // name: the input's stem, as in the output file names
  std::string scope = "slice";              // "slice" (a plane), or "window" (a 3-D model's whole window)
  int64_t slice = 0, region_pixels = 0;     // slice: the plane's index in its volume (-1 for a window)
  std::vector<int64_t> window;              // 3-D models: the window's origin z y x and size d h w in the
                                            // volume's voxels (the origin < 0 where the volume was padded)
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
  io::Units units = io::Units::HU;  // of a volume (slices: 8-bit pixels)
  io::Volume vol;  // volume: [D, H, W] with its geometry (HU, or 8-bit for stacks)
  Tensor image;    // slice: f32 raw pixels [C0, H, W]
  Tensor truth;    // i32 [D, H, W] (volume) or [H, W] (slice), or undefined
  int64_t item = -1;  // dataset input: the dataset item, read when explained (image etc. empty till then)
};
struct ExplainPlan {
  std::vector<ExplainInput> inputs;
  std::shared_ptr<io::Dataset> dataset;  // dataset input, else null
  std::string out;
};

// Reads and checks everything before anything is written. Throws one line naming the file and the
// problem for: a missing or unreadable input or truth, an empty folder, a truth on another grid,
// units the model was not trained on, a 3-D model on slices, an unknown method or layer, a slice out of range,
// a case the dataset does not hold, --truth with a dataset,
// a region that needs a truth without one, an output folder that holds files (without force).
ExplainPlan plan_explain(models::SegmentationModel& model, const io::Preprocess& pre, const std::string& in,
                         const std::string& out, const ExplainOptions& opt);

// Runs the plan; progress(done, total, what) after each (slice or window, method) of an input, counted
// per input ("input k/N: " leads `what` when there are several).
ExplainSummary explain(models::SegmentationModel& model, const io::Preprocess& pre, const ExplainPlan& plan,
                       const ExplainOptions& opt,
                       const std::function<void(int64_t, int64_t, const std::string&)>& progress = {});

// Every method name `explain` knows.
std::vector<std::string> explain_methods();

}  // namespace gb::pipeline

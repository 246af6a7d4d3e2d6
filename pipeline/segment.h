// "Segment what the user gives": the library behind `glassbox segment`.
//
// Inputs (detected): a NIfTI volume (.nii, .nii.gz), a folder of NIfTI volumes (in a LiTS folder the
// segmentation-N label maps are skipped), a DICOM series folder
// (read with GDCM, io/dicom.h), a PNG/JPG slice, or a folder of slices. Outputs, one per input:
//   NIfTI in  -> <out>/<name>_seg.nii.gz (u8 labels) in the input's exact geometry (header, qform,
//                sform, axis order); --probabilities adds <name>_prob_<class>.nii.gz (f32 softmax)
//   DICOM in  -> <out>/<series folder name>_seg.nii.gz in the series' geometry (its affine)
//   slice in  -> <out>/<name>_seg.png (label values 0/1/2); probabilities as 8-bit PNGs (p * 255)
// When the input is one file and `out` ends in .nii/.nii.gz/.png, `out` is that file itself.
// An output that exists is refused unless `force`; nothing is written until every input is checked
// to exist and the output folder to be writable. Files are written to a temporary name and renamed.
#pragma once
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "models/model.h"
#include "io/preprocess_spec.h"

namespace gb::pipeline {

enum class InputKind { Nifti, Dicom, Image };

struct SegmentJob {
  InputKind kind = InputKind::Nifti;
  std::string input;   // file, or the DICOM series folder
  std::string output;  // the label map written
  std::string name;    // stem for messages and probability files
};

struct SegmentOptions {
  bool probabilities = false;
  bool post = false;    // keep the largest liver component and tumour inside it
  bool force = false;   // overwrite existing outputs
  int64_t batch = 8;    // slices (or windows) per forward pass
  double overlap = 0.5; // 3-D sliding window
};

// Finds the inputs under `in` and plans the outputs; throws one clear line for a missing input, an
// empty or unknown folder, a DICOM folder with several series, an existing output (without force).
std::vector<SegmentJob> plan_segmentation(const std::string& in, const std::string& out, const SegmentOptions& opt);

struct SegmentResult {
  std::string output;
  std::vector<std::string> probability_files;
  std::array<int64_t, 3> shape{};  // D, H, W (D = 1 for slices)
  int64_t liver_voxels = 0, tumour_voxels = 0;
  double liver_ml = -1, tumour_ml = -1;  // volumes in millilitres (volumes with spacing only)
  double seconds = 0;
};

// Segments one planned input with a model fed as `pre` says; `progress(done, total)` per batch.
SegmentResult segment_one(models::SegmentationModel& model, const io::Preprocess& pre, const SegmentJob& job,
                          const SegmentOptions& opt, const std::function<void(int64_t, int64_t)>& progress = {});

// The smallest in-plane size a slice may have (a 2-D model resizes anything larger).
constexpr int64_t kMinSliceSize = 16;

}  // namespace gb::pipeline

// One interface for every source of labelled CT data.
//
//   LiTS          folder with volume-N.nii[.gz] + segmentation-N.nii[.gz]          (volumes)
//   MSD Task03    dataset.json + imagesTr/ + labelsTr/                              (volumes)
//   slice folder  images/ + masks/ (+ optional manifest.csv), e.g. an LiTS export   (2-D slices)
//   phantom       generated in memory from a seed (io/phantom.h)                    (volumes)
//   slice stacks  the complete stacks of a slice folder, as volumes (io/dataset_stacks.cpp)
//
// A Dataset lists its items (what open_* finds on disk: names and paths, nothing decoded), so a
// dataset of 131 volumes costs a few kB until load(i) reads one item. Items are grouped into cases:
// a case is one patient volume. For volume datasets each item is a case; for slice folders each item
// is one slice and its case is the volume it came from, so splits (io/split.h) keep all slices of a
// volume on one side.
//
// Labels are checked on load: every value must be 0 (background), 1 (liver) or 2 (tumour); else a
// gb::Error names the file, the first bad value and how many voxels have bad values. Image and label
// must have the same geometry (shape; and spacing for NIfTI) or the error names both files.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/volume.h"

namespace gb::io {

enum class Units {
  HU,      // Hounsfield units (NIfTI volumes, phantom)
  Pixel8,  // 0..255 grey levels of an 8-bit image export (slice folders): not HU, no spacing
};

struct ItemInfo {
  std::string id;          // unique: "volume-3", "liver_7", "volume-3_slice_46"
  std::string case_id;     // the volume it belongs to: "volume-3" (== id for volume datasets)
  std::string image_path;  // empty for generated items
  std::string label_path;  // empty when unlabelled (LiTS test volumes) or generated
  int64_t slice = -1;      // slice index within its volume (slice folders), else -1
  int64_t index = -1;      // case number parsed from the name (volume-N, liver_N), else -1
};

// One loaded item.
//   volumes: image.data f32 [D, H, W] HU; label.data i32 [D, H, W]
//   slices:  image.data f32 [C, H, W] values 0..255 (C = 1 grey or 3 RGB as read); label.data i32
//            [H, W]; spacing {1, 1, 1} meaning unknown (has_spacing false)
// label.data is undefined for unlabelled items. image/label keep the reader's affine and source
// geometry so predictions can be written back in the input's geometry.
struct Sample {
  ItemInfo info;
  bool is_volume = true;
  Units units = Units::HU;
  bool has_spacing = true;
  Volume image;
  Volume label;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::string name() const = 0;  // "lits:<folder>", "msd:<folder>", "slices:<folder>", "phantom:<seed>"
  virtual bool is_volume() const = 0;    // items are 3-D volumes (else 2-D slices)
  virtual Units units() const = 0;
  virtual int64_t size() const = 0;      // number of items
  virtual const ItemInfo& item(int64_t i) const = 0;
  virtual Sample load(int64_t i) const = 0;  // reads item i from disk (or generates it); thread-safe

  // Distinct case ids in first-appearance order, and the items of one case.
  std::vector<std::string> case_ids() const;
  std::vector<int64_t> items_of_cases(const std::vector<std::string>& cases) const;
};

struct SliceFolderOptions {
  int channels = 0;  // 0 as stored, 1 grey, 3 RGB (see read_image)
  bool use_manifest = true;  // read manifest.csv when present; else pair files by name
};

std::unique_ptr<Dataset> open_lits(const std::string& folder, bool require_labels = true);
std::unique_ptr<Dataset> open_msd(const std::string& folder);
std::unique_ptr<Dataset> open_slice_folder(const std::string& folder, const SliceFolderOptions& opt = {});
// The complete stacks of a slice folder as 8-bit volumes (image f32 [D, H, W] grey 0..255, label i32
// [D, H, W], no spacing): a volume whose slices are all one export step apart (the smallest gap in the
// folder). size > 0 resizes every slice to size x size exactly as 2-D preprocessing does. Items are
// cases ("volume-29"); the others are left out. Throws when the folder holds no complete stack.
std::unique_ptr<Dataset> open_slice_stacks(const std::string& folder, int64_t size = 0);
struct PhantomOptions;  // io/phantom.h
std::unique_ptr<Dataset> open_phantom(uint64_t seed, int64_t count, const PhantomOptions& opt);
// Picks the adapter from the folder's contents: dataset.json -> MSD; images/ + masks/ -> slice
// folder; volume-*.nii[.gz] -> LiTS. Otherwise an error saying what was looked for.
std::unique_ptr<Dataset> open_dataset(const std::string& folder);

// manifest.csv of a slice folder: header line with at least `image` and `mask`; optional `volume`,
// `slice`, `liver_pixels`, `tumor_pixels` (or `tumour_pixels`); -1 where a column is absent.
struct ManifestRow {
  std::string image, mask;
  int64_t volume = -1, slice = -1, liver_pixels = -1, tumour_pixels = -1;
  int64_t line = 0;  // 1-based line in the file, for messages
};
std::vector<ManifestRow> read_slice_manifest(const std::string& path);

// Shared checks (used by every adapter; exposed for tests and tools).
// Throws "<path>: label value V is not 0/1/2 (N voxels with values outside {0,1,2})".
void check_label_values(const Tensor& labels, const std::string& path);

}  // namespace gb::io

// Synthetic abdominal CT volumes with known liver and tumour labels, in the LiTS layout, so every
// command and test works without downloading data.
//
// One case (seed S, index i) is a pure function of (S, i, options): same inputs -> bitwise identical
// volumes on any machine thread count (all draws come from gb::Generator(S, stream 2i) for the
// anatomy and (S, stream 2i+1) for the noise; voxels are computed independently). A seed therefore
// names a dataset: case i of seed S is always the same.
//
// Anatomy (mm, per case jittered): air -1000 HU outside an elliptical body with a subcutaneous fat
// layer (~-100 HU) and abdominal wall muscle (~50 HU); visceral fat/bowel texture inside; vertebra
// (cortex ~800 HU, cancellous ~300 HU, discs), spinal canal, paraspinal muscles; aorta (~180 HU) and
// IVC (~150 HU); spleen (~48 HU); kidneys (contrast cortex ~150 HU); the liver (~60 HU): a deformed
// ellipsoid plus a left lobe with low-frequency shape noise; portal/hepatic vessels as tubes inside it
// (~150-200 HU, labelled liver); 1..6 tumours inside the liver, hypodense (20-40 HU) or hyperdense
// (90-120 HU), radius 4-30 mm. Then partial-volume blur (Gaussian, sigma 0.6 voxel in-plane, 0.4
// across slices), Gaussian noise (12 HU) and rounding to whole HU as scanners store them.
// Labels (from the sharp geometry): 0 background, 1 liver (incl. its vessels), 2 tumour; every
// tumour voxel lies inside the liver.
//
// Geometry: data [D, H, W] = (k, j, i) with i toward the patient's left, j toward posterior, k toward
// superior (the radiological display order of axial CT). affine maps (i, j, k) to RAS+ world mm:
// x = -sx (i - (W-1)/2), y = -sy (j - (H-1)/2), z = sz (k - (D-1)/2). The phantom stands for a 512 x 512
// scan at 0.7-0.8 mm pixels seen at width x height, so sx = sy = pixel * 512 / width and anatomy keeps
// its real size in mm; slices are 2.5, 3, 4 or 5 mm. Both can be fixed through the options.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/volume.h"

namespace gb::io {

struct PhantomOptions {
  int64_t width = 128, height = 128, depth = 48;
  double pixel_mm = 0;  // in-plane spacing; 0 = drawn per case: U(0.7, 0.8) * 512 / width
  double slice_mm = 0;  // slice spacing; 0 = drawn per case from {2.5, 3, 4, 5}
  int min_tumours = 1, max_tumours = 6;
  // Tumour radius (mm): min + (max - min) u^2 with u uniform, so small lesions are the most common.
  double min_tumour_mm = 4.0, max_tumour_mm = 30.0;
  double noise_sd = 12.0;          // HU
  double blur_sigma_xy = 0.6;      // voxels; 0 = no blur
  double blur_sigma_z = 0.4;       // voxels
  bool vessels = true;
};

struct PhantomCase {
  std::string id;  // "volume-<index>"
  Volume image;    // f32 [D, H, W] HU (whole numbers)
  Volume label;    // i32 [D, H, W] in {0, 1, 2}
  int tumours = 0;  // tumours placed (some may be cut by the field of view)
};

PhantomCase make_phantom(uint64_t seed, int64_t index, const PhantomOptions& opt = {});

// Writes cases first .. first+count-1 as <folder>/volume-i.nii.gz (int16 HU) and
// segmentation-i.nii.gz (uint8) via write_nifti; creates the folder. Returns the image paths.
std::vector<std::string> write_phantom_dataset(const std::string& folder, uint64_t seed, int64_t count,
                                               const PhantomOptions& opt = {}, int64_t first = 0);

}  // namespace gb::io

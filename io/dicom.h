// DICOM CT series reading through GDCM (Debian's libgdcm-dev; no hand-written DICOM parsing).
//
// read_dicom_series(folder) returns a Volume with the same conventions as read_nifti (io/nifti.h):
//   data     f32 [D, H, W] in the canonical LPS+ grid of io/nifti_orient.cpp (W -> patient Left,
//            H -> Posterior, D -> Superior, reached by axis permutations/flips only), Hounsfield
//            units (RescaleSlope/RescaleIntercept of each slice applied).
//   spacing  mm along (x=W, y=H, z=D).
//   affine   voxel-to-world RAS+ (mm) of `data` as stored (DICOM's LPS patient frame converted).
//   path     the folder; source stays null (write_nifti writes the volume as stored).
// Slices are ordered by their position along the slice normal (ImagePositionPatient · (row x col
// direction)), not by file name or InstanceNumber. Every error is a gb::Error whose message starts
// with the folder (or the offending file).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/volume.h"

namespace gb::io {

struct DicomSeriesInfo {
  std::string series_uid;   // SeriesInstanceUID; empty when the files carry none (anonymised data)
  int64_t num_files = 0;    // image files of this series in the folder
  std::string modality;     // (0008,0060), empty if absent
  std::string description;  // SeriesDescription (0008,103E), empty if absent
  std::vector<std::string> files;  // their paths, sorted by name
};

// The image series in `folder` (not recursive), sorted by UID. Files GDCM cannot read as DICOM,
// and DICOM files without an image (no Rows tag: DICOMDIR, structured reports), are ignored.
// Throws when `folder` does not exist or is not a folder.
std::vector<DicomSeriesInfo> list_dicom_series(const std::string& folder);

// The one image series in `folder` as a volume (see above). Throws when the folder holds no image
// series or more than one, when a file cannot be decoded, or when the slices do not form one regular
// grid (differing sizes, orientations or pixel spacings; duplicate positions; slice spacing that is
// not uniform; slices not stacked along their normal, e.g. gantry tilt).
Volume read_dicom_series(const std::string& folder);

}  // namespace gb::io

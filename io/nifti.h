// NIfTI-1 and NIfTI-2 (.nii, .nii.gz) reading and writing through nifticlib.
//
// read_nifti: checks the file (size, magic, dims, datatype, NaN/Inf), applies scl_slope/scl_inter,
// converts to f32 (images) or i32 (labels, ReadOptions::as_labels), and reorients the voxel grid to
// one canonical axis order for processing (see io/nifti.cpp for which). The original header and
// the reorientation are kept in Volume::source so write_nifti_like() writes a map back in the
// input's exact geometry (same dims, qform, sform, pixdim, axis order).
// Every error is a gb::Error whose message starts with the file path.
#pragma once
#include <string>

#include "io/volume.h"

namespace gb::io {

struct ReadOptions {
  bool as_labels = false;     // i32 output; values must be integral
  bool reorient = true;       // canonical axis order (false: keep the file's order)
  bool repair_nonfinite = false;  // NaN/Inf -> air (-1000 HU) with a warning instead of an error
};

Volume read_nifti(const std::string& path, const ReadOptions& opt = {});

enum class NiftiDType { U8, I8, I16, U16, I32, F32, F64 };
struct WriteOptions {
  NiftiDType dtype = NiftiDType::F32;
  int version = 1;  // 1 or 2
};
// Writes `v` as stored (data in v's own axis order with v.affine). Writes to a temporary file and
// renames, so an existing file is never left half-written.
void write_nifti(const std::string& path, const Volume& v, const WriteOptions& opt = {});
// Writes `data` (same shape as ref.data) in the geometry of the file `ref` was read from: undoes the
// reorientation and copies the original header's dims, pixdim, qform and sform.
void write_nifti_like(const std::string& path, const Volume& ref, const Tensor& data, const WriteOptions& opt = {});

}  // namespace gb::io

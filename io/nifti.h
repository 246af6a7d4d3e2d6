// NIfTI-1 and NIfTI-2 (.nii, .nii.gz) reading and writing through nifticlib.
//
// read_nifti: checks the file (size, magic, dims, datatype, NaN/Inf), applies scl_slope/scl_inter,
// converts to f32 (images) or i32 (labels, ReadOptions::as_labels), and reorients the voxel grid to
// one canonical axis order for processing: LPS+ (W -> patient Left, H -> Posterior, D -> Superior;
// why and how: io/nifti_orient.cpp), by permutations and flips only. Which affine a file has
// (sform, else qform, else pixdim) is documented in io/nifti.cpp; validation in io/nifti_check.cpp.
// The original header and the reorientation are kept in Volume::source so write_nifti_like()
// writes a map back in the input's exact geometry (same dims, qform, sform, pixdim, axis order).
// Every error is a gb::Error whose message starts with the file path.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "io/volume.h"

namespace gb::io {

// What read_nifti keeps about the file so that write_nifti_like can reproduce its geometry.
// Axis numbers: 0 = i (x, fastest, W), 1 = j (y, H), 2 = k (z, slowest, D).
struct SourceGeometry {
  int version = 1;                     // 1 (NIfTI-1) or 2 (NIfTI-2)
  std::vector<unsigned char> header;   // original 348/540-byte header, native byte order
  std::array<int64_t, 8> dim{};        // original dim[] (dim[0] = number of dimensions)
  std::array<double, 8> pixdim{};      // original pixdim[] (pixdim[0] = qfac)
  int datatype = 0;                    // original NIFTI DT_* code
  int qform_code = 0, sform_code = 0;
  Affine qform{}, sform{};             // as nifticlib decodes them (file units, file grid)
  Affine file_affine{};                // voxel-to-world (mm) of the file's own grid (see nifti.cpp)
  // Reorientation applied to the data: file axis a became canonical axis perm[a], reversed when
  // flip[a]. Identity (0,1,2 / no flips) when ReadOptions::reorient is false.
  std::array<int, 3> perm{{0, 1, 2}};
  std::array<bool, 3> flip{{false, false, false}};
};

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
// A map for `ref` in ref's geometry, whatever it came from: write_nifti_like for a volume read from a
// NIfTI file, else (a DICOM series, a generated volume) `data` written with ref's own affine.
void write_nifti_in_geometry(const std::string& path, const Volume& ref, const Tensor& data,
                             const WriteOptions& opt = {});

// Throws a gb::Error naming both paths and what differs (shape, spacing or affine) unless `label`
// lies on the same voxel grid as `image` (shapes equal; affines equal to 1e-4 relative, which
// absorbs NIfTI-1's float32 storage of the same geometry).
void check_same_geometry(const Volume& image, const Volume& label);

// Name of a NIFTI DT_* code in lower case ("int16", "complex64"; "unknown" for unknown codes).
std::string nifti_datatype_name(int datatype);

}  // namespace gb::io

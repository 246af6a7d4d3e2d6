// Internals shared by io/nifti.cpp, io/nifti_check.cpp and io/nifti_orient.cpp (not a public API).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "io/nifti.h"

namespace gb::io::nifti_detail {

// A NIfTI file after validation: header in native byte order, voxel bytes in native byte order.
struct RawNifti {
  int version = 1;               // 1 or 2
  bool swapped = false;          // file was written with the other byte order
  bool gzipped = false;
  std::vector<unsigned char> header;  // 348 or 540 bytes
  std::array<int64_t, 8> dim{};  // dim[] as in the file, entries past dim[0] reported as 1
  std::array<int64_t, 3> n{};    // nx, ny, nz (1 where the file has fewer dimensions)
  int64_t nvox = 0;
  int datatype = 0;
  int nbyper = 0;                // bytes per voxel
  int64_t vox_offset = 0;
  double scl_slope = 0, scl_inter = 0;
  std::vector<unsigned char> data;  // nvox * nbyper bytes, i fastest
};

// Opens `path` with zlib (plain and gzip files alike), checks everything listed in nifti_check.cpp
// and returns the header and voxel bytes. Never hands unchecked sizes to an allocation.
RawNifti read_raw(const std::string& path);

// Bytes per voxel of a supported datatype, 0 for any other.
int supported_nbyper(int datatype);

// Canonical orientation (nifti_orient.cpp).
struct Orientation {
  std::array<int, 3> perm{{0, 1, 2}};  // file axis a -> canonical axis perm[a]
  std::array<bool, 3> flip{{false, false, false}};  // file axis a reversed
  bool identity() const {
    return perm[0] == 0 && perm[1] == 1 && perm[2] == 2 && !flip[0] && !flip[1] && !flip[2];
  }
};
// Closest orthogonal axes of `a` (voxel-to-world, RAS+) and the permutation/flips that make the
// grid LPS+ (see nifti_orient.cpp). Throws naming `path` when the 3x3 part is singular.
Orientation canonical_orientation(const Affine& a, const std::string& path);
// Where canonical voxel (x, y, z) lives in the file grid: file linear index
// base + x*step[0] + y*step[1] + z*step[2]; canonical sizes ndst (x, y, z). n = file (nx, ny, nz).
struct GatherPlan {
  std::array<int64_t, 3> ndst{}, step{};
  int64_t base = 0;
};
GatherPlan reorient_plan(const Orientation& o, const std::array<int64_t, 3>& n);
// Affine of the reoriented grid; n = file sizes (nx, ny, nz).
Affine reorient_affine(const Affine& a, const Orientation& o, const std::array<int64_t, 3>& n);
// data [nz, ny, nx] in the file's grid -> the canonical grid, and back. Any dtype.
Tensor reorient_data(const Tensor& file_grid, const Orientation& o);
Tensor unreorient_data(const Tensor& canonical, const Orientation& o);

}  // namespace gb::io::nifti_detail

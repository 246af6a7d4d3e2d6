// Canonical axis order for processing.
//
// Choice: the reoriented grid is LPS+ — data [D, H, W] with W (i) increasing towards the patient's
// Left, H (j) towards Posterior and D (k) towards Superior. Why: an axial slice data[k] drawn as a
// row-major image (row 0 at the top) is then in the radiological view every CT viewer, DICOM
// (pixel rows run anterior->posterior, columns right->left) and the usual PNG/JPG slice exports of
// LiTS use: anterior at the top, the patient's right on the viewer's left. ITK/SimpleITK arrays
// use the same order, so masks made there line up without flips. The world frame of
// Volume::affine stays NIfTI's RAS+ (mm); only the voxel grid is permuted/flipped.
//
// How (like nibabel's io_orientation): take the 3x3 part of the voxel-to-world affine, normalise
// its columns (voxel sizes), replace it by the closest orthogonal matrix (polar decomposition by
// Newton's iteration R <- (R + R^-T) / 2), then repeatedly pick the largest |R[w][a]| among
// unused world axes w and file axes a: file axis a becomes canonical axis w, flipped when its
// direction's sign disagrees with LPS (x: -, y: -, z: +). Only permutations and flips are applied
// (no resampling), so the voxel values are untouched and the inverse is exact.
#include <cmath>
#include <cstring>

#include "io/nifti_internal.h"

namespace gb::io::nifti_detail {
namespace {

using M3 = std::array<std::array<double, 3>, 3>;

double det3(const M3& m) {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
         m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

// Inverse transpose of m (cofactor matrix / det).
M3 inv_transpose(const M3& m, double det) {
  M3 c;
  for (int r = 0; r < 3; ++r)
    for (int k = 0; k < 3; ++k) {
      const int r1 = (r + 1) % 3, r2 = (r + 2) % 3, k1 = (k + 1) % 3, k2 = (k + 2) % 3;
      c[r][k] = (m[r1][k1] * m[r2][k2] - m[r1][k2] * m[r2][k1]) / det;
    }
  return c;
}

// Copies a [nz', ny', nx'] (dst sizes in x, y, z order: ndst) grid out of a contiguous src, where
// dst index (x, y, z) reads src element base + x*step[0] + y*step[1] + z*step[2].
template <class T>
void gather(const T* src, T* dst, const std::array<int64_t, 3>& ndst, const std::array<int64_t, 3>& step,
            int64_t base) {
  int64_t o = 0;
  for (int64_t z = 0; z < ndst[2]; ++z)
    for (int64_t y = 0; y < ndst[1]; ++y) {
      const T* s = src + base + z * step[2] + y * step[1];
      for (int64_t x = 0; x < ndst[0]; ++x) dst[o++] = s[x * step[0]];
    }
}

Tensor gather_any(const Tensor& src_in, const std::array<int64_t, 3>& ndst, const std::array<int64_t, 3>& step,
                  int64_t base) {
  const Tensor src = src_in.contiguous();
  Tensor dst = Tensor::empty({ndst[2], ndst[1], ndst[0]}, src.dtype());
  switch (dtype_size(src.dtype())) {
    case 1: gather((const uint8_t*)src.raw_data(), (uint8_t*)dst.raw_data(), ndst, step, base); break;
    case 2: gather((const uint16_t*)src.raw_data(), (uint16_t*)dst.raw_data(), ndst, step, base); break;
    case 4: gather((const uint32_t*)src.raw_data(), (uint32_t*)dst.raw_data(), ndst, step, base); break;
    case 8: gather((const uint64_t*)src.raw_data(), (uint64_t*)dst.raw_data(), ndst, step, base); break;
    default: fail("reorient: unsupported element size for ", src.desc());
  }
  return dst;
}

std::array<int64_t, 3> xyz_sizes(const Tensor& t, const char* op) {
  GB_CHECK(t.dim() == 3, op, ": expected a 3-D [D,H,W] tensor, got ", t.desc());
  return {t.size(2), t.size(1), t.size(0)};
}

}  // namespace

Orientation canonical_orientation(const Affine& a, const std::string& path) {
  M3 r;
  for (int k = 0; k < 3; ++k) {  // column k = direction of file axis k in world space
    double norm = 0;
    for (int w = 0; w < 3; ++w) norm += a[w][k] * a[w][k];
    norm = std::sqrt(norm);
    if (!(norm > 0) || !std::isfinite(norm))
      fail(path, ": voxel-to-world affine has a zero or non-finite column ", k, " (cannot orient the volume)");
    for (int w = 0; w < 3; ++w) r[w][k] = a[w][k] / norm;
  }
  // Closest orthogonal matrix (polar factor). Converges quadratically for non-singular input.
  for (int it = 0; it < 100; ++it) {
    const double det = det3(r);
    if (!(std::fabs(det) > 1e-9) || !std::isfinite(det))
      fail(path, ": voxel-to-world affine is singular (axes are parallel; cannot orient the volume)");
    const M3 it_ = inv_transpose(r, det);
    double change = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        const double v = 0.5 * (r[i][j] + it_[i][j]);
        change = std::max(change, std::fabs(v - r[i][j]));
        r[i][j] = v;
      }
    if (change < 1e-12) break;
  }
  Orientation o;
  bool used_w[3] = {false, false, false}, used_a[3] = {false, false, false};
  static const double kTargetSign[3] = {-1, -1, +1};  // L, P, S in RAS+ world coordinates
  for (int step = 0; step < 3; ++step) {
    int bw = -1, ba = -1;
    double best = -1;
    for (int w = 0; w < 3; ++w)
      for (int k = 0; k < 3; ++k)
        if (!used_w[w] && !used_a[k] && std::fabs(r[w][k]) > best) {
          best = std::fabs(r[w][k]);
          bw = w;
          ba = k;
        }
    used_w[bw] = used_a[ba] = true;
    o.perm[ba] = bw;
    o.flip[ba] = (r[bw][ba] < 0 ? -1.0 : 1.0) != kTargetSign[bw];
  }
  return o;
}

Affine reorient_affine(const Affine& a, const Orientation& o, const std::array<int64_t, 3>& n) {
  // T maps canonical voxel coordinates to file voxel coordinates:
  //   file_a = flip[a] ? (n_a - 1 - c_perm[a]) : c_perm[a];  new affine = a * T.
  Affine t{};
  t[3][3] = 1;
  for (int k = 0; k < 3; ++k) {
    t[k][o.perm[k]] = o.flip[k] ? -1.0 : 1.0;
    t[k][3] = o.flip[k] ? double(n[k] - 1) : 0.0;
  }
  Affine out{};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      double s = 0;
      for (int k = 0; k < 4; ++k) s += a[i][k] * t[k][j];
      out[i][j] = s;
    }
  return out;
}

GatherPlan reorient_plan(const Orientation& o, const std::array<int64_t, 3>& n) {
  const std::array<int64_t, 3> stride{1, n[0], n[0] * n[1]};  // file strides of axes i, j, k
  GatherPlan g;
  for (int k = 0; k < 3; ++k) {
    g.ndst[o.perm[k]] = n[k];
    g.step[o.perm[k]] = o.flip[k] ? -stride[k] : stride[k];
    if (o.flip[k]) g.base += (n[k] - 1) * stride[k];
  }
  return g;
}

Tensor reorient_data(const Tensor& file_grid, const Orientation& o) {
  const auto n = xyz_sizes(file_grid, "reorient");
  if (o.identity()) return file_grid;
  const GatherPlan g = reorient_plan(o, n);
  return gather_any(file_grid, g.ndst, g.step, g.base);
}

Tensor unreorient_data(const Tensor& canonical, const Orientation& o) {
  const auto c = xyz_sizes(canonical, "unreorient");
  if (o.identity()) return canonical;
  const std::array<int64_t, 3> cstride{1, c[0], c[0] * c[1]};  // canonical strides of x, y, z
  std::array<int64_t, 3> ndst{}, step{};
  int64_t base = 0;
  for (int k = 0; k < 3; ++k) {  // destination is the file grid: axis k reads canonical axis perm[k]
    const int w = o.perm[k];
    ndst[k] = c[w];
    step[k] = o.flip[k] ? -cstride[w] : cstride[w];
    if (o.flip[k]) base += (c[w] - 1) * cstride[w];
  }
  return gather_any(canonical, ndst, step, base);
}

}  // namespace gb::io::nifti_detail

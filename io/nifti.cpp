// NIfTI reading and writing. Validation lives in nifti_check.cpp, the axis maths in nifti_orient.cpp.
//
// Voxel-to-world affine of the file's own grid (the rule of the NIfTI-1 standard, nifti1.h
// "3 different methods", in the precedence nibabel, FSL and ITK >= 5 use):
//   sform_code > 0  -> Method 3: the sform rows srow_x/y/z;
//   else qform_code > 0 -> Method 2: quaternion + qoffset + pixdim (qfac = pixdim[0] sign);
//   else            -> Method 1 (old ANALYZE): diag(pixdim[1], pixdim[2], pixdim[3]), no offset.
// Both qform and sform are decoded by nifticlib and kept in SourceGeometry. Coordinates in metres
// or micrometres (xyzt_units) are converted to mm. Volume::spacing is the length of each column
// of the (reoriented) affine, i.e. the voxel size along W, H, D.
//
// Voxel values: y = scl_slope * x + scl_inter when scl_slope is non-zero and finite (slope 0 means
// "no scaling", as the standard says); images become f32, label maps (ReadOptions::as_labels) i32
// and must be whole numbers in int32 range.
#include "io/nifti.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <sstream>
#include <type_traits>

#include "io/nifti_internal.h"
#include "nifti2_io.h"

namespace gb::io {

using namespace nifti_detail;

std::string nifti_datatype_name(int datatype) {
  if (!nifti_is_valid_datatype(datatype)) return "unknown";
  std::string s = nifti_datatype_string(datatype);
  for (char& c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}

namespace {

struct NimFree {
  void operator()(nifti_image* p) const { nifti_image_free(p); }
};
using NimPtr = std::unique_ptr<nifti_image, NimFree>;

// Header (native byte order, already validated) -> nifti_image without data.
NimPtr header_to_nim(const std::vector<unsigned char>& header, int version, const std::string& path) {
  nifti_set_debug_level(0);
  nifti_image* nim = nullptr;
  if (version == 1) {
    nifti_1_header h;
    std::memcpy(&h, header.data(), sizeof h);
    nim = nifti_convert_n1hdr2nim(h, path.c_str());
  } else {
    nifti_2_header h;
    std::memcpy(&h, header.data(), sizeof h);
    nim = nifti_convert_n2hdr2nim(h, path.c_str());
  }
  if (!nim) fail(path, ": nifticlib could not decode the NIfTI-", version, " header");
  return NimPtr(nim);
}

Affine from_dmat(const nifti_dmat44& m) {
  Affine a;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) a[i][j] = m.m[i][j];
  return a;
}

double unit_to_mm(int xyz_units) {
  switch (xyz_units) {
    case NIFTI_UNITS_METER: return 1000.0;
    case NIFTI_UNITS_MICRON: return 0.001;
    default: return 1.0;  // mm, or unknown (assume mm, like every CT pipeline does)
  }
}

std::array<double, 3> column_norms(const Affine& a) {
  std::array<double, 3> s{};
  for (int k = 0; k < 3; ++k) s[k] = std::sqrt(a[0][k] * a[0][k] + a[1][k] * a[1][k] + a[2][k] * a[2][k]);
  return s;
}

// File-grid voxel-to-world affine in mm (the rule at the top of this file).
Affine file_affine(const nifti_image& nim, const RawNifti& raw, const std::string& path) {
  Affine a{};
  const char* which;
  if (nim.sform_code > 0) {
    a = from_dmat(nim.sto_xyz);
    which = "sform";
  } else if (nim.qform_code > 0) {
    a = from_dmat(nim.qto_xyz);
    which = "qform";
  } else {
    which = "pixdim";
    for (int k = 0; k < 3; ++k) {
      double d = nim.pixdim[k + 1];
      if (!std::isfinite(d) || d == 0) {
        if (raw.n[k] > 1) fail(path, ": pixdim[", k + 1, "]=", d, " is not a valid voxel size (no qform or sform)");
        d = 1;
      }
      a[k][k] = std::fabs(d);
    }
    a[3][3] = 1;
  }
  const double u = unit_to_mm(nim.xyz_units);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      a[i][j] *= u;
      if (!std::isfinite(a[i][j])) fail(path, ": the ", which, " affine has a non-finite entry");
    }
  a[3] = {0, 0, 0, 1};
  return a;
}

// ---- voxel conversion ----

struct Scaling {
  bool on = false;
  double slope = 1, inter = 0;
};

// Converts the file's voxels straight into the canonical grid (one pass, no second copy):
// dst[o] for canonical (x, y, z) reads src[base + x*step[0] + y*step[1] + z*step[2]].
template <class S> struct Converter {
  const S* src;
  const GatherPlan& g;
  Scaling sc;
  const std::string& path;
  std::array<int64_t, 3> dims;  // file nx, ny, nz (for messages)

  double value(int64_t i) const { return sc.on ? (double)src[i] * sc.slope + sc.inter : (double)src[i]; }
  std::string where(int64_t idx) const {  // file voxel (i, j, k), as other tools show it
    std::ostringstream os;
    os << "(i=" << idx % dims[0] << ", j=" << (idx / dims[0]) % dims[1] << ", k=" << idx / (dims[0] * dims[1])
       << ")";
    return os.str();
  }
  template <class F> void for_each(F&& f) const {
    int64_t o = 0;
    for (int64_t z = 0; z < g.ndst[2]; ++z)
      for (int64_t y = 0; y < g.ndst[1]; ++y) {
        const int64_t row = g.base + z * g.step[2] + y * g.step[1];
        for (int64_t x = 0; x < g.ndst[0]; ++x) f(o++, row + x * g.step[0]);
      }
  }

  void to_f32(float* dst, bool repair) const {
    int64_t bad = 0, first = std::numeric_limits<int64_t>::max();
    for_each([&](int64_t o, int64_t i) {
      const float v = (float)value(i);
      if (std::isfinite(v)) {
        dst[o] = v;
      } else {
        ++bad;
        first = std::min(first, i);
        dst[o] = -1000.0f;  // air, in HU
      }
    });
    if (bad == 0) return;
    if (!repair)
      fail(path, ": ", bad, " non-finite voxel value(s) (NaN/Inf), the first at ", where(first),
           "; ReadOptions::repair_nonfinite replaces them with -1000 HU");
    std::cerr << path << ": warning: replaced " << bad << " non-finite voxel value(s) (NaN/Inf, the first at "
              << where(first) << ") with -1000 HU\n";
  }

  void to_i32(int32_t* dst) const {
    for_each([&](int64_t o, int64_t i) {
      const double v = value(i);
      if (!std::isfinite(v)) fail(path, ": label map has a non-finite value at ", where(i));
      if (v != std::floor(v)) fail(path, ": label map has a non-integral value ", v, " at ", where(i));
      if (v < (double)std::numeric_limits<int32_t>::min() || v > (double)std::numeric_limits<int32_t>::max())
        fail(path, ": label value ", v, " at ", where(i), " does not fit int32");
      dst[o] = (int32_t)v;
    });
  }
};

template <class S> void convert(const RawNifti& raw, const GatherPlan& g, const Scaling& sc, const std::string& path,
                                bool labels, bool repair, Tensor& out) {
  Converter<S> c{reinterpret_cast<const S*>(raw.data.data()), g, sc, path, raw.n};
  if (labels) {
    c.to_i32(out.data<int32_t>());
  } else {
    c.to_f32(out.data<float>(), repair);
  }
}

}  // namespace

Volume read_nifti(const std::string& path, const ReadOptions& opt) {
  RawNifti raw = read_raw(path);
  NimPtr nim = header_to_nim(raw.header, raw.version, path);

  auto src = std::make_shared<SourceGeometry>();
  src->version = raw.version;
  src->header = raw.header;
  for (int i = 0; i < 8; ++i) {
    src->dim[i] = raw.dim[i];
    src->pixdim[i] = nim->pixdim[i];
  }
  src->datatype = raw.datatype;
  src->qform_code = nim->qform_code;
  src->sform_code = nim->sform_code;
  src->qform = from_dmat(nim->qto_xyz);
  src->sform = from_dmat(nim->sto_xyz);
  src->file_affine = file_affine(*nim, raw, path);

  Orientation o;
  if (opt.reorient) o = canonical_orientation(src->file_affine, path);
  src->perm = o.perm;
  src->flip = o.flip;
  const GatherPlan g = reorient_plan(o, raw.n);

  Scaling sc;
  if (std::isfinite(raw.scl_slope) && raw.scl_slope != 0) {
    sc.on = true;
    sc.slope = raw.scl_slope;
    sc.inter = std::isfinite(raw.scl_inter) ? raw.scl_inter : 0.0;
  }
  // raw.data comes from std::vector (operator new), aligned for any scalar type.
  Volume v;
  v.data = Tensor::empty({g.ndst[2], g.ndst[1], g.ndst[0]}, opt.as_labels ? DType::I32 : DType::F32);
  switch (raw.datatype) {
    case DT_UINT8: convert<uint8_t>(raw, g, sc, path, opt.as_labels, opt.repair_nonfinite, v.data); break;
    case DT_INT8: convert<int8_t>(raw, g, sc, path, opt.as_labels, opt.repair_nonfinite, v.data); break;
    case DT_INT16: convert<int16_t>(raw, g, sc, path, opt.as_labels, opt.repair_nonfinite, v.data); break;
    case DT_UINT16: convert<uint16_t>(raw, g, sc, path, opt.as_labels, opt.repair_nonfinite, v.data); break;
    case DT_INT32: convert<int32_t>(raw, g, sc, path, opt.as_labels, opt.repair_nonfinite, v.data); break;
    case DT_FLOAT32: convert<float>(raw, g, sc, path, opt.as_labels, opt.repair_nonfinite, v.data); break;
    case DT_FLOAT64: convert<double>(raw, g, sc, path, opt.as_labels, opt.repair_nonfinite, v.data); break;
    default: fail(path, ": unsupported NIfTI datatype ", raw.datatype);  // read_raw already refused it
  }
  v.affine = reorient_affine(src->file_affine, o, raw.n);
  v.spacing = column_norms(v.affine);
  v.path = path;
  v.source = std::move(src);
  return v;
}

// ------------------------------------------------------------------------------------------ writing
namespace {

int dt_code(NiftiDType t) {
  switch (t) {
    case NiftiDType::U8: return DT_UINT8;
    case NiftiDType::I8: return DT_INT8;
    case NiftiDType::I16: return DT_INT16;
    case NiftiDType::U16: return DT_UINT16;
    case NiftiDType::I32: return DT_INT32;
    case NiftiDType::F32: return DT_FLOAT32;
    case NiftiDType::F64: return DT_FLOAT64;
  }
  return DT_FLOAT32;
}

bool ends_with(const std::string& s, const char* suf) {
  const size_t n = std::strlen(suf);
  return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}

// Integer targets: round to nearest and refuse what does not fit; float targets: plain cast.
template <class D, class S> void encode(const S* src, int64_t n, D* dst, const std::string& path) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = (double)src[i];
    if constexpr (std::is_integral_v<D>) {
      const double r = std::nearbyint(v);
      if (!std::isfinite(v) || r < (double)std::numeric_limits<D>::lowest() ||
          r > (double)std::numeric_limits<D>::max())
        fail(path, ": value ", v, " at element ", i, " does not fit the output datatype ",
             nifti_datatype_name(sizeof(D) == 1 ? (std::is_signed_v<D> ? DT_INT8 : DT_UINT8)
                                 : sizeof(D) == 2 ? (std::is_signed_v<D> ? DT_INT16 : DT_UINT16)
                                                  : DT_INT32));
      dst[i] = (D)r;
    } else {
      dst[i] = (D)v;
    }
  }
}

template <class D> void encode_from(const Tensor& t, D* dst, const std::string& path) {
  const int64_t n = t.numel();
  switch (t.dtype()) {
    case DType::F32: encode(t.data<float>(), n, dst, path); break;
    case DType::F64: encode(t.data<double>(), n, dst, path); break;
    case DType::I32: encode(t.data<int32_t>(), n, dst, path); break;
    case DType::U8: encode(t.data<uint8_t>(), n, dst, path); break;
    default: fail(path, ": cannot write a ", t.desc(), " tensor (f32, f64, i32 or u8 expected)");
  }
}

// data [nz, ny, nx] (file grid) -> voxel bytes of datatype `dt`.
std::vector<unsigned char> encode_data(const Tensor& data_in, int dt, const std::string& path) {
  GB_CHECK(data_in.device() == Device::CPU, path, ": write_nifti needs a CPU tensor, got ", data_in.desc());
  const Tensor t = data_in.contiguous();
  const int nb = supported_nbyper(dt);
  std::vector<unsigned char> out((size_t)(t.numel() * nb));
  void* p = out.data();
  switch (dt) {
    case DT_UINT8: encode_from(t, (uint8_t*)p, path); break;
    case DT_INT8: encode_from(t, (int8_t*)p, path); break;
    case DT_INT16: encode_from(t, (int16_t*)p, path); break;
    case DT_UINT16: encode_from(t, (uint16_t*)p, path); break;
    case DT_INT32: encode_from(t, (int32_t*)p, path); break;
    case DT_FLOAT32: encode_from(t, (float*)p, path); break;
    case DT_FLOAT64: encode_from(t, (double*)p, path); break;
    default: fail(path, ": unsupported output datatype ", dt);
  }
  return out;
}

// Fields that describe the stored voxels (everything else of the header is geometry or metadata).
template <class H> void set_storage_fields(H& h, int dt, int version) {
  h.datatype = (decltype(h.datatype))dt;
  h.bitpix = (decltype(h.bitpix))(8 * supported_nbyper(dt));
  h.scl_slope = 1;  // explicit "no scaling"
  h.scl_inter = 0;
  h.cal_min = 0;
  h.cal_max = 0;
  h.vox_offset = version == 1 ? 352 : 544;  // header + the 4-byte "no extensions" flag
  if (version == 1) {
    std::memcpy(h.magic, "n+1\0", 4);
  } else {
    static const char kMagic2[8] = {'n', '+', '2', '\0', '\r', '\n', '\032', '\n'};
    std::memcpy(h.magic, kMagic2, 8);
  }
}

std::atomic<unsigned> g_tmp_counter{0};

// Writes header + extension flag + data to a temporary file beside `path`, then renames it.
void write_file(const std::string& path, const void* header, size_t hsize, const std::vector<unsigned char>& data) {
  const bool gz = ends_with(path, ".nii.gz");
  if (!gz && !ends_with(path, ".nii")) fail(path, ": a NIfTI output name must end in .nii or .nii.gz");
  const std::string tmp =
      path + ".tmp" + std::to_string((long)::getpid()) + "_" + std::to_string(g_tmp_counter++) + (gz ? ".gz" : "");
  const unsigned char ext[4] = {0, 0, 0, 0};
  bool ok = true;
  std::string why;
  if (gz) {
    gzFile f = gzopen(tmp.c_str(), "wb6");
    if (!f) fail(path, ": cannot create ", tmp, ": ", std::strerror(errno));
    auto put = [&](const void* p, size_t n) {
      const unsigned char* b = (const unsigned char*)p;
      while (ok && n > 0) {
        const unsigned c = (unsigned)std::min<size_t>(n, size_t(1) << 24);
        if (gzwrite(f, b, c) != (int)c) {
          int e = 0;
          why = gzerror(f, &e);
          ok = false;
        }
        b += c;
        n -= c;
      }
    };
    put(header, hsize);
    put(ext, 4);
    put(data.data(), data.size());
    if (gzclose(f) != Z_OK && ok) {
      ok = false;
      why = "gzclose failed";
    }
  } else {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) fail(path, ": cannot create ", tmp, ": ", std::strerror(errno));
    ok = std::fwrite(header, 1, hsize, f) == hsize && std::fwrite(ext, 1, 4, f) == 4 &&
         std::fwrite(data.data(), 1, data.size(), f) == data.size();
    if (!ok) why = std::strerror(errno);
    if (std::fclose(f) != 0 && ok) {
      ok = false;
      why = std::strerror(errno);
    }
  }
  if (ok && std::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    why = std::string("rename failed: ") + std::strerror(errno);
  }
  if (!ok) {
    std::remove(tmp.c_str());
    fail(path, ": write failed (", why, ")");
  }
}

template <class H> void write_header_and_data(const std::string& path, H& h, int dt, int version,
                                              const std::vector<unsigned char>& bytes) {
  set_storage_fields(h, dt, version);
  write_file(path, &h, sizeof h, bytes);
}

// A fresh header for `v` (no source file): sform = qform = v.affine (aligned-anat codes); the qform
// only when the affine is a rotation times voxel sizes (else it cannot represent it: code 0).
template <class H> void fill_new_geometry(H& h, const Affine& a, const std::array<double, 3>& pix) {
  nifti_dmat44 m{};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) m.m[i][j] = a[i][j];
  for (int j = 0; j < 4; ++j) {
    h.srow_x[j] = (std::remove_reference_t<decltype(h.srow_x[0])>)a[0][j];
    h.srow_y[j] = (std::remove_reference_t<decltype(h.srow_y[0])>)a[1][j];
    h.srow_z[j] = (std::remove_reference_t<decltype(h.srow_z[0])>)a[2][j];
  }
  h.sform_code = NIFTI_XFORM_ALIGNED_ANAT;
  double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
  nifti_dmat44_to_quatern(m, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
  const nifti_dmat44 back = nifti_quatern_to_dmat44(qb, qc, qd, qx, qy, qz, pix[0], pix[1], pix[2], qfac);
  double err = 0, scale = 1;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      err = std::max(err, std::fabs(back.m[i][j] - a[i][j]));
      scale = std::max(scale, std::fabs(a[i][j]));
    }
  h.quatern_b = (decltype(h.quatern_b))qb;
  h.quatern_c = (decltype(h.quatern_c))qc;
  h.quatern_d = (decltype(h.quatern_d))qd;
  h.qoffset_x = (decltype(h.qoffset_x))qx;
  h.qoffset_y = (decltype(h.qoffset_y))qy;
  h.qoffset_z = (decltype(h.qoffset_z))qz;
  h.qform_code = err <= 1e-5 * scale ? NIFTI_XFORM_ALIGNED_ANAT : NIFTI_XFORM_UNKNOWN;
  h.pixdim[0] = (std::remove_reference_t<decltype(h.pixdim[0])>)(qfac < 0 ? -1.0 : 1.0);
  for (int k = 0; k < 3; ++k) h.pixdim[k + 1] = (std::remove_reference_t<decltype(h.pixdim[0])>)pix[k];
  h.xyzt_units = NIFTI_UNITS_MM;
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

void write_nifti(const std::string& path, const Volume& v, const WriteOptions& opt) {
  GB_CHECK(opt.version == 1 || opt.version == 2, path, ": NIfTI version must be 1 or 2, got ", opt.version);
  GB_CHECK(v.data.defined() && v.data.dim() == 3, path, ": write_nifti expects [D,H,W] data, got ",
           v.data.defined() ? v.data.desc() : std::string("an undefined tensor"));
  // A generated volume that only set `spacing` (identity affine) is written as diag(spacing).
  Affine a = v.affine;
  bool identity3 = true;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) identity3 = identity3 && a[i][j] == (i == j ? 1.0 : 0.0);
  if (identity3)
    for (int k = 0; k < 3; ++k) a[k][k] = v.spacing[k];
  const std::array<double, 3> pix = column_norms(a);
  for (int k = 0; k < 3; ++k)
    GB_CHECK(pix[k] > 0 && std::isfinite(pix[k]), path, ": write_nifti: affine column ", k, " is zero or not finite");
  const int dt = dt_code(opt.dtype);
  const std::vector<unsigned char> bytes = encode_data(v.data, dt, path);
  const int64_t dims[8] = {3, v.data.size(2), v.data.size(1), v.data.size(0), 1, 1, 1, 1};
  if (opt.version == 1) {
    for (int k = 1; k <= 3; ++k)
      GB_CHECK(dims[k] <= 32767, path, ": dimension ", dims[k], " does not fit NIfTI-1 (max 32767); use version 2");
    std::unique_ptr<nifti_1_header, FreeDeleter> h(nifti_make_new_n1_header(dims, dt));
    GB_CHECK(h, path, ": nifticlib could not make a NIfTI-1 header");
    fill_new_geometry(*h, a, pix);
    write_header_and_data(path, *h, dt, 1, bytes);
  } else {
    std::unique_ptr<nifti_2_header, FreeDeleter> h(nifti_make_new_n2_header(dims, dt));
    GB_CHECK(h, path, ": nifticlib could not make a NIfTI-2 header");
    fill_new_geometry(*h, a, pix);
    write_header_and_data(path, *h, dt, 2, bytes);
  }
}

void write_nifti_in_geometry(const std::string& path, const Volume& ref, const Tensor& data, const WriteOptions& opt) {
  if (ref.source) return write_nifti_like(path, ref, data, opt);
  GB_CHECK(data.defined() && data.shape() == ref.data.shape(), path, ": data ", data.defined() ? data.desc() : "undefined",
           " does not match the reference volume ", ref.data.desc());
  Volume v = ref;
  v.data = data;
  write_nifti(path, v, opt);
}

void write_nifti_like(const std::string& path, const Volume& ref, const Tensor& data, const WriteOptions& opt) {
  GB_CHECK(opt.version == 1 || opt.version == 2, path, ": NIfTI version must be 1 or 2, got ", opt.version);
  GB_CHECK(ref.source, path, ": write_nifti_like needs a volume read by read_nifti (", ref.path.empty() ? "generated volume" : ref.path,
           " has no source header)");
  GB_CHECK(data.defined() && ref.data.defined() && data.shape() == ref.data.shape(), path,
           ": write_nifti_like: data ", data.defined() ? data.desc() : std::string("undefined"),
           " does not match the reference volume ", ref.data.defined() ? str(ref.data.shape()) : std::string("[]"),
           " of ", ref.path);
  const SourceGeometry& s = *ref.source;
  Orientation o;
  o.perm = s.perm;
  o.flip = s.flip;
  const Tensor file_grid = unreorient_data(data.contiguous(), o);
  const int dt = dt_code(opt.dtype);
  const std::vector<unsigned char> bytes = encode_data(file_grid, dt, path);
  if (opt.version == s.version) {
    // Same version: the original header byte for byte, only the storage fields change.
    if (s.version == 1) {
      nifti_1_header h;
      std::memcpy(&h, s.header.data(), sizeof h);
      write_header_and_data(path, h, dt, 1, bytes);
    } else {
      nifti_2_header h;
      std::memcpy(&h, s.header.data(), sizeof h);
      write_header_and_data(path, h, dt, 2, bytes);
    }
    return;
  }
  // Other version: let nifticlib carry every field across (float <-> double).
  NimPtr nim = header_to_nim(s.header, s.version, ref.path);
  if (opt.version == 1) {
    for (int k = 1; k <= 7; ++k)
      GB_CHECK(s.dim[k] <= 32767, path, ": dimension ", s.dim[k], " does not fit NIfTI-1 (max 32767); use version 2");
    nifti_1_header h;
    GB_CHECK(nifti_convert_nim2n1hdr(nim.get(), &h) == 0, path, ": nifticlib could not convert the header of ",
             ref.path, " to NIfTI-1");
    write_header_and_data(path, h, dt, 1, bytes);
  } else {
    nifti_2_header h;
    GB_CHECK(nifti_convert_nim2n2hdr(nim.get(), &h) == 0, path, ": nifticlib could not convert the header of ",
             ref.path, " to NIfTI-2");
    write_header_and_data(path, h, dt, 2, bytes);
  }
}

// ------------------------------------------------------------------------------------------ checks

void check_same_geometry(const Volume& image, const Volume& label) {
  const std::string a = image.path.empty() ? std::string("<generated image>") : image.path;
  const std::string b = label.path.empty() ? std::string("<generated label>") : label.path;
  const Shape sa = image.data.defined() ? image.data.shape() : Shape{};
  const Shape sb = label.data.defined() ? label.data.shape() : Shape{};
  if (sa != sb)
    fail(a, " and ", b, ": different geometry: shape ", str(sa), " vs ", str(sb), " ([D,H,W] after reorientation)");
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      const double x = image.affine[i][j], y = label.affine[i][j];
      const double tol = 1e-4 * std::max({1.0, std::fabs(x), std::fabs(y)});
      if (!(std::fabs(x - y) <= tol)) {
        std::ostringstream os;
        os << a << " and " << b << ": different geometry: affine[" << i << "][" << j << "] is " << x << " vs " << y;
        if (j < 3) {
          os << " (spacing " << image.spacing[0] << "x" << image.spacing[1] << "x" << image.spacing[2] << " vs "
             << label.spacing[0] << "x" << label.spacing[1] << "x" << label.spacing[2] << " mm)";
        } else {
          os << " (origin differs)";
        }
        throw Error(os.str());
      }
    }
}

}  // namespace gb::io

// DICOM series -> Volume (see io/dicom.h).
//
// Two passes over the files:
//   1. gdcm::Scanner reads only the header tags listed in kTags (no pixel data) for every file:
//      series grouping, geometry checks and the slice order come from these.
//   2. gdcm::ImageReader decodes each slice of the chosen series (any transfer syntax GDCM
//      supports: raw, JPEG, JPEG 2000, RLE ...) straight into its slot of the [D, H, W] volume.
// Geometry (DICOM C.7.6.2): ImageOrientationPatient gives the direction cosines r (along a row, i.e.
// of increasing column index i) and c (down a column, increasing row index j) in LPS; the slice
// normal is n = r x c and slice k lies at ImagePositionPatient_k. After sorting by IPP · n:
//   LPS(i, j, k) = IPP_0 + i * dx * r + j * dy * c + k * dz * n
// with dx = PixelSpacing[1] (column spacing), dy = PixelSpacing[0] (row spacing), dz the uniform
// slice step. RAS = diag(-1, -1, 1) * LPS. The grid is then reoriented to canonical LPS+ by the
// same code read_nifti uses (io/nifti_orient.cpp), so both readers agree exactly.
#include "io/dicom.h"

#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmScanner.h>
#include <gdcmTrace.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "io/nifti_internal.h"
#include "tensor/error.h"

namespace gb::io {
namespace {

namespace fs = std::filesystem;
using V3 = std::array<double, 3>;

const gdcm::Tag kSeriesUid(0x0020, 0x000e), kModality(0x0008, 0x0060), kDescription(0x0008, 0x103e),
    kRows(0x0028, 0x0010), kColumns(0x0028, 0x0011), kFrames(0x0028, 0x0008), kIpp(0x0020, 0x0032),
    kIop(0x0020, 0x0037), kPixelSpacing(0x0028, 0x0030), kThickness(0x0018, 0x0050),
    kBetween(0x0018, 0x0088);

// GDCM writes its own warnings/errors to std::cerr for odd files; ours are the gb::Errors.
struct QuietGdcm {
  bool warn = gdcm::Trace::GetWarningFlag(), err = gdcm::Trace::GetErrorFlag();
  QuietGdcm() {
    gdcm::Trace::WarningOff();
    gdcm::Trace::ErrorOff();
  }
  ~QuietGdcm() {
    gdcm::Trace::SetWarning(warn);
    gdcm::Trace::SetError(err);
  }
};

std::string trim(const char* s) {
  if (!s) return "";
  std::string v(s);
  const auto keep = [](char ch) { return ch != ' ' && ch != '\0' && ch != '\t' && ch != '\r' && ch != '\n'; };
  while (!v.empty() && !keep(v.back())) v.pop_back();
  size_t b = 0;
  while (b < v.size() && !keep(v[b])) ++b;
  return v.substr(b);
}

// A DS/IS/US value "a\b\c" as exactly `count` finite numbers; empty when absent or malformed.
std::vector<double> numbers(const std::string& s, size_t count) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, '\\')) {
    const std::string t = trim(item.c_str());
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v)) return {};
    out.push_back(v);
  }
  if (out.size() != count) return {};
  return out;
}

struct Folder {
  std::vector<std::string> files;  // regular files, sorted
  gdcm::Scanner scan;              // header tags of those GDCM could read
};

void scan_folder(const std::string& folder, Folder& f) {
  std::error_code ec;
  if (!fs::exists(folder, ec)) fail(folder, ": no such folder");
  if (!fs::is_directory(folder, ec)) fail(folder, ": not a folder (point --in at a folder holding one DICOM series)");
  fs::directory_iterator it(folder, ec), end;
  if (ec) fail(folder, ": cannot list the folder: ", ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) fail(folder, ": cannot list the folder: ", ec.message());
    if (it->is_regular_file(ec)) f.files.push_back(it->path().string());
  }
  std::sort(f.files.begin(), f.files.end());
  for (const gdcm::Tag& t : {kSeriesUid, kModality, kDescription, kRows, kColumns, kFrames, kIpp, kIop,
                             kPixelSpacing, kThickness, kBetween})
    f.scan.AddTag(t);
  QuietGdcm quiet;
  gdcm::Directory::FilenamesType names(f.files.begin(), f.files.end());
  if (!f.scan.Scan(names)) fail(folder, ": GDCM could not scan the folder's files");
}

std::string value(const Folder& f, const std::string& file, const gdcm::Tag& t) {
  return trim(f.scan.GetValue(file.c_str(), t));
}

std::vector<DicomSeriesInfo> group_series(const Folder& f) {
  std::map<std::string, DicomSeriesInfo> by_uid;
  for (const std::string& file : f.files) {
    if (!f.scan.IsKey(file.c_str()) || !f.scan.GetValue(file.c_str(), kRows)) continue;  // not an image
    const std::string uid = value(f, file, kSeriesUid);
    DicomSeriesInfo& s = by_uid[uid];
    s.series_uid = uid;
    if (s.modality.empty()) s.modality = value(f, file, kModality);
    if (s.description.empty()) s.description = value(f, file, kDescription);
    s.files.push_back(file);
    s.num_files = (int64_t)s.files.size();
  }
  std::vector<DicomSeriesInfo> out;
  for (auto& kv : by_uid) out.push_back(std::move(kv.second));
  return out;
}

// Header geometry of one slice, checked.
struct Slice {
  std::string file;
  int64_t rows = 0, cols = 0;
  V3 ipp{}, r{}, c{};
  double dy = 0, dx = 0;  // PixelSpacing: row spacing (between rows, along c), column spacing (along r)
  double pos = 0;         // ipp · n
};

double dot(const V3& a, const V3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
V3 cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

Slice slice_geometry(const Folder& f, const std::string& file) {
  Slice s;
  s.file = file;
  const auto rows = numbers(value(f, file, kRows), 1), cols = numbers(value(f, file, kColumns), 1);
  if (rows.empty() || cols.empty() || rows[0] < 1 || cols[0] < 1)
    fail(file, ": missing or invalid Rows/Columns (0028,0010/0011)");
  s.rows = (int64_t)rows[0];
  s.cols = (int64_t)cols[0];
  const std::string frames = value(f, file, kFrames);
  if (!frames.empty() && frames != "1")
    fail(file, ": multi-frame image (NumberOfFrames ", frames, "); only single-frame slice series are supported");
  const auto ipp = numbers(value(f, file, kIpp), 3);
  if (ipp.empty()) fail(file, ": missing or invalid ImagePositionPatient (0020,0032); cannot place the slice");
  const auto iop = numbers(value(f, file, kIop), 6);
  if (iop.empty()) fail(file, ": missing or invalid ImageOrientationPatient (0020,0037); cannot orient the slice");
  const auto ps = numbers(value(f, file, kPixelSpacing), 2);
  if (ps.empty() || !(ps[0] > 0) || !(ps[1] > 0))
    fail(file, ": missing or invalid PixelSpacing (0028,0030) '", value(f, file, kPixelSpacing), "'");
  s.ipp = {ipp[0], ipp[1], ipp[2]};
  s.r = {iop[0], iop[1], iop[2]};
  s.c = {iop[3], iop[4], iop[5]};
  const double nr = std::sqrt(dot(s.r, s.r)), nc = std::sqrt(dot(s.c, s.c));
  if (std::fabs(nr - 1) > 1e-3 || std::fabs(nc - 1) > 1e-3 || std::fabs(dot(s.r, s.c)) > 1e-3)
    fail(file, ": ImageOrientationPatient '", value(f, file, kIop), "' is not two orthogonal unit vectors");
  for (int w = 0; w < 3; ++w) {  // remove rounding of the stored decimal strings
    s.r[w] /= nr;
    s.c[w] /= nc;
  }
  s.dy = ps[0];
  s.dx = ps[1];
  return s;
}

// Decodes one slice into dst (rows * cols floats, row-major), applying the slice's rescale.
void decode_slice(const Slice& s, float* dst) {
  QuietGdcm quiet;
  gdcm::ImageReader reader;
  reader.SetFileName(s.file.c_str());
  if (!reader.Read()) fail(s.file, ": GDCM cannot decode the image (damaged file or unsupported transfer syntax)");
  const gdcm::Image& img = reader.GetImage();
  const unsigned nd = img.GetNumberOfDimensions();
  if ((int64_t)img.GetColumns() != s.cols || (int64_t)img.GetRows() != s.rows || (nd == 3 && img.GetDimension(2) != 1))
    fail(s.file, ": decoded image size ", img.GetColumns(), "x", img.GetRows(), " disagrees with its header");
  const gdcm::PixelFormat pf = img.GetPixelFormat();
  if (pf.GetSamplesPerPixel() != 1)
    fail(s.file, ": ", pf.GetSamplesPerPixel(), " samples per pixel (colour image); a CT slice has 1");
  const auto pi = img.GetPhotometricInterpretation().GetType();
  if (pi != gdcm::PhotometricInterpretation::MONOCHROME1 && pi != gdcm::PhotometricInterpretation::MONOCHROME2)
    fail(s.file, ": photometric interpretation ", img.GetPhotometricInterpretation().GetString(),
         "; a CT slice is MONOCHROME2");
  const int64_t n = s.rows * s.cols;
  std::vector<char> buf(img.GetBufferLength());
  if (!img.GetBuffer(buf.data())) fail(s.file, ": GDCM could not decode the pixel data");
  const double slope = img.GetSlope(), inter = img.GetIntercept();
  if (!std::isfinite(slope) || !std::isfinite(inter) || slope == 0)
    fail(s.file, ": invalid RescaleSlope/RescaleIntercept ", slope, "/", inter);
  // Signed values stored in fewer bits than allocated: sign-extend from the stored high bit
  // (idempotent when the encoder already did).
  const int bits = pf.GetBitsStored();
  const bool extend = pf.GetPixelRepresentation() == 1 && bits > 0 && bits < pf.GetBitsAllocated() && bits < 32;
  auto put = [&](auto* src) {
    if ((int64_t)buf.size() < n * (int64_t)sizeof(*src))
      fail(s.file, ": pixel data holds ", buf.size(), " bytes, expected ", n * (int64_t)sizeof(*src));
    for (int64_t i = 0; i < n; ++i) {
      double v = (double)src[i];
      if (extend) {
        const int64_t m = int64_t(1) << bits, raw = (int64_t)src[i] & (m - 1);
        v = (double)(raw >= m / 2 ? raw - m : raw);
      }
      dst[i] = (float)(v * slope + inter);
    }
  };
  switch (pf.GetScalarType()) {
    case gdcm::PixelFormat::UINT8: put((const uint8_t*)buf.data()); break;
    case gdcm::PixelFormat::INT8: put((const int8_t*)buf.data()); break;
    case gdcm::PixelFormat::UINT16: put((const uint16_t*)buf.data()); break;
    case gdcm::PixelFormat::INT16: put((const int16_t*)buf.data()); break;
    case gdcm::PixelFormat::UINT32: put((const uint32_t*)buf.data()); break;
    case gdcm::PixelFormat::INT32: put((const int32_t*)buf.data()); break;
    default: fail(s.file, ": unsupported pixel type ", pf.GetScalarTypeAsString());
  }
}

// Slice step when there is only one slice: SpacingBetweenSlices, else SliceThickness, else 1 mm.
double single_slice_step(const Folder& f, const std::string& file) {
  for (const gdcm::Tag& t : {kBetween, kThickness}) {
    const auto v = numbers(value(f, file, t), 1);
    if (!v.empty() && v[0] > 0) return v[0];
  }
  return 1.0;
}

}  // namespace

std::vector<DicomSeriesInfo> list_dicom_series(const std::string& folder) {
  Folder f;
  scan_folder(folder, f);
  return group_series(f);
}

Volume read_dicom_series(const std::string& folder) {
  Folder f;
  scan_folder(folder, f);
  const std::vector<DicomSeriesInfo> series = group_series(f);
  if (f.files.empty()) fail(folder, ": empty folder, no DICOM files");
  if (series.empty()) {
    int dicom = 0;
    for (const auto& file : f.files) dicom += f.scan.IsKey(file.c_str()) ? 1 : 0;
    if (dicom == 0)
      fail(folder, ": no DICOM files among its ", f.files.size(), " files (GDCM cannot read e.g. '", f.files[0],
           "' as DICOM)");
    fail(folder, ": no DICOM image files among its ", f.files.size(), " files (", dicom,
         " DICOM files without an image, e.g. DICOMDIR or reports)");
  }
  if (series.size() > 1) {
    std::ostringstream uids;
    for (size_t i = 0; i < series.size(); ++i)
      uids << (i ? ", " : "") << (series[i].series_uid.empty() ? "<none>" : series[i].series_uid) << " ("
           << series[i].num_files << " files)";
    fail(folder, ": holds ", series.size(), " DICOM series (UIDs ", uids.str(), "); point --in at one series folder");
  }

  // Geometry of every slice; all must share size, orientation and pixel spacing.
  std::vector<Slice> sl;
  for (const std::string& file : series[0].files) sl.push_back(slice_geometry(f, file));
  const Slice& s0 = sl[0];
  for (const Slice& s : sl) {
    if (s.rows != s0.rows || s.cols != s0.cols)
      fail(folder, ": slices differ in size: '", s0.file, "' is ", s0.cols, "x", s0.rows, ", '", s.file, "' is ",
           s.cols, "x", s.rows);
    for (int w = 0; w < 3; ++w)
      if (std::fabs(s.r[w] - s0.r[w]) > 1e-4 || std::fabs(s.c[w] - s0.c[w]) > 1e-4)
        fail(folder, ": slices differ in orientation (ImageOrientationPatient of '", s0.file, "' and '", s.file, "')");
    if (std::fabs(s.dx - s0.dx) > 1e-4 * s0.dx || std::fabs(s.dy - s0.dy) > 1e-4 * s0.dy)
      fail(folder, ": slices differ in PixelSpacing ('", s0.file, "' ", s0.dy, "\\", s0.dx, ", '", s.file, "' ", s.dy,
           "\\", s.dx, ")");
  }
  const V3 nrm = cross(s0.r, s0.c);
  for (Slice& s : sl) s.pos = dot(s.ipp, nrm);
  std::stable_sort(sl.begin(), sl.end(), [](const Slice& a, const Slice& b) { return a.pos < b.pos; });

  // Uniform step along the normal, and no in-plane drift between slices (gantry tilt would need a
  // sheared affine). Each step is compared with the median step, so the message names the odd gap;
  // tolerance 1% of the step, at least 0.01 mm (decimal rounding of the tags). The affine uses the
  // mean step (first to last slice), which equals the median within that tolerance.
  const int64_t nz = (int64_t)sl.size();
  std::vector<double> steps;
  for (int64_t k = 1; k < nz; ++k) steps.push_back(sl[k].pos - sl[k - 1].pos);
  std::vector<double> sorted_steps = steps;
  std::nth_element(sorted_steps.begin(), sorted_steps.begin() + sorted_steps.size() / 2, sorted_steps.end());
  const double median = nz > 1 ? sorted_steps[sorted_steps.size() / 2] : 0;
  const double dz = nz > 1 ? (sl.back().pos - sl.front().pos) / double(nz - 1) : single_slice_step(f, s0.file);
  const double tol = std::max(0.01, 0.01 * median);
  for (int64_t k = 1; k < nz; ++k) {
    const double step = steps[k - 1];
    if (step < 1e-3)
      fail(folder, ": '", sl[k - 1].file, "' and '", sl[k].file,
           "' lie at the same slice position (duplicate slices, or two series sharing one SeriesInstanceUID)");
    if (std::fabs(step - median) > tol)
      fail(folder, ": non-uniform slice spacing: ", step, " mm between '", sl[k - 1].file, "' and '", sl[k].file,
           "', ", median, " mm between the other slices (missing slices?); resampling is not supported");
    V3 off;
    for (int w = 0; w < 3; ++w) off[w] = sl[k].ipp[w] - sl[0].ipp[w] - (sl[k].pos - sl[0].pos) * nrm[w];
    if (std::sqrt(dot(off, off)) > std::max(0.01, 0.01 * std::min(s0.dx, s0.dy)))
      fail(folder, ": slices are not stacked along their normal ('", sl[k].file, "' is shifted in-plane by ",
           std::sqrt(dot(off, off)), " mm; gantry tilt?); resampling is not supported");
  }

  // File grid: i = column (along r), j = row (along c), k = sorted slice (along n).
  Affine a{};
  for (int w = 0; w < 3; ++w) {
    const double to_ras = w < 2 ? -1.0 : 1.0;
    a[w][0] = to_ras * s0.r[w] * s0.dx;
    a[w][1] = to_ras * s0.c[w] * s0.dy;
    a[w][2] = to_ras * nrm[w] * dz;
    a[w][3] = to_ras * sl[0].ipp[w];
  }
  a[3][3] = 1;

  Tensor grid = Tensor::empty({nz, s0.rows, s0.cols}, DType::F32);  // [D, H, W] file grid
  float* p = grid.data<float>();
  for (int64_t k = 0; k < nz; ++k) decode_slice(sl[k], p + k * s0.rows * s0.cols);

  const nifti_detail::Orientation o = nifti_detail::canonical_orientation(a, folder);
  Volume v;
  v.data = nifti_detail::reorient_data(grid, o);
  v.affine = nifti_detail::reorient_affine(a, o, {s0.cols, s0.rows, nz});
  for (int k = 0; k < 3; ++k)
    v.spacing[k] = std::sqrt(v.affine[0][k] * v.affine[0][k] + v.affine[1][k] * v.affine[1][k] +
                             v.affine[2][k] * v.affine[2][k]);
  v.path = folder;
  return v;
}

}  // namespace gb::io

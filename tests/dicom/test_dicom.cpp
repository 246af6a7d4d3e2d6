// read_dicom_series / list_dicom_series on the real TotalSegmentator example series (shared data;
// skipped when absent) and on broken folders made from it.
//
// Geometry reference: example_seg_dicom.nii.gz lies on the series' own grid (512x512x20, 0.9765625 x
// 0.9765625 x 2 mm, same origin; its file grid has the rows flipped relative to DICOM, which the
// canonical reorientation undoes), so after read_nifti both must agree voxel for voxel. The affine
// is also checked against one computed here straight from each file's tags.
#include <gdcmAttribute.h>
#include <gdcmReader.h>
#include <gdcmWriter.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "io/dicom.h"
#include "pipeline/segment.h"
#include "io/nifti.h"

using namespace gb;
using namespace gb::io;
namespace fs = std::filesystem;

namespace {

std::string shared(const std::string& rel) {
  std::string d;
  if (const char* e = std::getenv("GLASSBOX_SHARED_DATA")) d = e;
#ifdef GB_SHARED_DATA_DIR
  if (d.empty()) d = GB_SHARED_DATA_DIR;
#endif
  const std::string p = d + "/totalseg-example/" + rel;
  return !d.empty() && fs::exists(p) ? p : "";
}
const std::string& series_dir() {
  static const std::string p = shared("example_ct_dicom");
  return p;
}
#define NEED_SERIES()                                                                            \
  if (series_dir().empty()) GTEST_SKIP() << "shared data totalseg-example/example_ct_dicom not found"

struct TempDir {
  std::string path;
  TempDir() {
    std::string t = ::testing::TempDir() + "gb_dicom_XXXXXX";
    if (!::mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& n) const { return path + "/" + n; }
};

std::vector<std::string> series_files() {
  std::vector<std::string> f;
  for (const auto& e : fs::directory_iterator(series_dir())) f.push_back(e.path().string());
  std::sort(f.begin(), f.end());
  return f;
}

// Copies the real series into `dst`; `edit(index, dataset)` may change tags (then GDCM rewrites it).
template <class F> void copy_series(const std::string& dst, F&& edit, const std::vector<int>& skip = {}) {
  const auto files = series_files();
  for (int i = 0; i < (int)files.size(); ++i) {
    if (std::find(skip.begin(), skip.end(), i) != skip.end()) continue;
    const std::string out = dst + "/" + fs::path(files[i]).filename().string();
    gdcm::Reader r;
    r.SetFileName(files[i].c_str());
    ASSERT_TRUE(r.Read()) << files[i];
    if (!edit(i, r.GetFile().GetDataSet())) {
      fs::copy_file(files[i], out);
      continue;
    }
    gdcm::Writer w;
    w.SetFile(r.GetFile());
    w.CheckFileMetaInformationOff();  // the anonymised files have an empty SOP Class UID: keep their meta header
    w.SetFileName(out.c_str());
    ASSERT_TRUE(w.Write()) << out;
  }
}

void set_series_uid(gdcm::DataSet& ds, const char* uid) {
  gdcm::Attribute<0x0020, 0x000e> at;
  at.SetValue(uid);
  ds.Replace(at.GetAsDataElement());
}

template <class F> std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const gb::Error& e) {
    return e.what();
  }
  return "(no gb::Error thrown)";
}

void expect_near_affine(const Affine& a, const Affine& b, double tol) {
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(a[r][c], b[r][c], tol) << "affine[" << r << "][" << c << "]";
}

}  // namespace

TEST(DicomReal, ListsOneAnonymisedCtSeries) {
  NEED_SERIES();
  const auto s = list_dicom_series(series_dir());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].num_files, 20);
  EXPECT_EQ(s[0].files.size(), 20u);
  EXPECT_EQ(s[0].modality, "CT");
  EXPECT_EQ(s[0].description, "CT Body 3.0");
  EXPECT_EQ(s[0].series_uid, "");  // the example is anonymised: SeriesInstanceUID present but empty
}

TEST(DicomReal, SameGridAsItsSegmentationNifti) {
  NEED_SERIES();
  const std::string seg_path = shared("example_seg_dicom.nii.gz");
  if (seg_path.empty()) GTEST_SKIP() << "shared data totalseg-example/example_seg_dicom.nii.gz not found";
  const Volume ct = read_dicom_series(series_dir());
  ReadOptions lo;
  lo.as_labels = true;
  const Volume seg = read_nifti(seg_path, lo);
  EXPECT_EQ(ct.data.dtype(), DType::F32);
  EXPECT_EQ(ct.data.shape(), (Shape{20, 512, 512}));
  EXPECT_EQ(ct.data.shape(), seg.data.shape());
  expect_near_affine(ct.affine, seg.affine, 1e-3);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(ct.spacing[k], seg.spacing[k], 1e-3);
  EXPECT_NEAR(ct.spacing[0], 0.9765625, 1e-6);
  EXPECT_NEAR(ct.spacing[2], 2.0, 1e-6);
  EXPECT_EQ(ct.path, series_dir());
  EXPECT_FALSE(ct.source);
  EXPECT_NO_THROW(check_same_geometry(ct, seg));

  // Voxel alignment, not just headers: labelled organs are soft tissue (mean well above air) and
  // the unlabelled voxels hold the air around the body. A flipped axis would mix the two.
  const auto hu = ct.data.to_vector();
  const auto lab = seg.data.to_vector();
  double in_sum = 0, out_air = 0;
  int64_t in_n = 0, out_n = 0;
  for (size_t i = 0; i < hu.size(); ++i) {
    if (lab[i] != 0) {
      in_sum += hu[i];
      ++in_n;
    } else {
      out_air += hu[i] < -900 ? 1 : 0;
      ++out_n;
    }
  }
  ASSERT_GT(in_n, 10000);
  EXPECT_GT(in_sum / in_n, -100.0) << "mean HU inside the labels";
  EXPECT_GT(out_air / out_n, 0.3) << "fraction of air outside the labels";
}

TEST(DicomReal, AffineMatchesTagsOfEachFile) {
  NEED_SERIES();
  const Volume ct = read_dicom_series(series_dir());
  // Independently: the tags of every file, sorted by z (this series is axial, IOP = 1\0\0\0\1\0, so
  // the slice normal is +z and the canonical grid equals DICOM's i, j with slices by increasing z).
  std::vector<std::array<double, 3>> ipp;
  double ps[2] = {0, 0};
  for (const auto& file : series_files()) {
    gdcm::Reader r;
    r.SetFileName(file.c_str());
    ASSERT_TRUE(r.Read());
    const gdcm::DataSet& ds = r.GetFile().GetDataSet();
    gdcm::Attribute<0x0020, 0x0032> p;
    p.Set(ds);
    gdcm::Attribute<0x0020, 0x0037> o;
    o.Set(ds);
    gdcm::Attribute<0x0028, 0x0030> s;
    s.Set(ds);
    const double axial[6] = {1, 0, 0, 0, 1, 0};
    for (int k = 0; k < 6; ++k) ASSERT_NEAR(o.GetValue(k), axial[k], 1e-6);
    ipp.push_back({p.GetValue(0), p.GetValue(1), p.GetValue(2)});
    ps[0] = s.GetValue(0);
    ps[1] = s.GetValue(1);
  }
  std::sort(ipp.begin(), ipp.end(), [](const auto& a, const auto& b) { return a[2] < b[2]; });
  const double dz = (ipp.back()[2] - ipp.front()[2]) / (ipp.size() - 1);
  const Affine want{{{-ps[1], 0, 0, -ipp[0][0]}, {0, -ps[0], 0, -ipp[0][1]}, {0, 0, dz, ipp[0][2]}, {0, 0, 0, 1}}};
  expect_near_affine(ct.affine, want, 1e-6);
  // Every slice k sits where its file says (LPS -> RAS: negate x and y).
  for (size_t k = 0; k < ipp.size(); ++k) {
    EXPECT_NEAR(ct.affine[0][3] + ct.affine[0][2] * k, -ipp[k][0], 1e-6);
    EXPECT_NEAR(ct.affine[1][3] + ct.affine[1][2] * k, -ipp[k][1], 1e-6);
    EXPECT_NEAR(ct.affine[2][3] + ct.affine[2][2] * k, ipp[k][2], 1e-6) << "slice " << k;
  }
}

TEST(DicomReal, HounsfieldRangeIsPlausible) {
  NEED_SERIES();
  const Volume ct = read_dicom_series(series_dir());
  const auto hu = ct.data.to_vector();
  const auto [mn, mx] = std::minmax_element(hu.begin(), hu.end());
  EXPECT_GE(*mn, -1100.f);  // stored 0..4095 (12 bits) with intercept -1024
  EXPECT_LE(*mn, -900.f);   // air
  EXPECT_GT(*mx, 300.f);    // bone
  EXPECT_LT(*mx, 4000.f);
  // The corner voxels are outside the scanner's field of view / in air.
  EXPECT_LT(hu[0], -900.f);
}

TEST(DicomReal, WriteNiftiKeepsTheGeometry) {
  NEED_SERIES();
  TempDir tmp;
  const Volume ct = read_dicom_series(series_dir());
  const std::string out = tmp / "ct.nii";
  write_nifti(out, ct);
  const Volume back = read_nifti(out);
  EXPECT_EQ(back.data.shape(), ct.data.shape());
  expect_near_affine(back.affine, ct.affine, 1e-3);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(back.spacing[k], ct.spacing[k], 1e-5);
  EXPECT_EQ(back.data.to_vector(), ct.data.to_vector());
}

// ---------------------------------------------------------------- bad input

TEST(DicomBad, MissingFolder) {
  const std::string p = "/nonexistent/gb_dicom_missing";
  const std::string e = error_of([&] { read_dicom_series(p); });
  EXPECT_NE(e.find(p + ": no such folder"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { list_dicom_series(p); }).find(p), std::string::npos);
}

TEST(DicomBad, FileInsteadOfFolder) {
  TempDir tmp;
  std::ofstream(tmp / "x.dcm") << "x";
  const std::string e = error_of([&] { read_dicom_series(tmp / "x.dcm"); });
  EXPECT_NE(e.find(tmp / "x.dcm" + ": not a folder"), std::string::npos) << e;
}

TEST(DicomBad, EmptyFolder) {
  TempDir tmp;
  const std::string e = error_of([&] { read_dicom_series(tmp.path); });
  EXPECT_EQ(e.rfind(tmp.path + ": empty folder", 0), 0u) << e;
  EXPECT_TRUE(list_dicom_series(tmp.path).empty());
}

TEST(DicomBad, FolderOfNonDicomFiles) {
  TempDir tmp;
  std::ofstream(tmp / "notes.txt") << "not a DICOM file\n";
  std::ofstream(tmp / "blob.dcm", std::ios::binary) << std::string(4096, '\x7f');
  const std::string e = error_of([&] { read_dicom_series(tmp.path); });
  EXPECT_EQ(e.rfind(tmp.path + ": no DICOM files among its 2 files", 0), 0u) << e;
  EXPECT_TRUE(list_dicom_series(tmp.path).empty());
}

TEST(DicomBad, TwoSeriesInOneFolder) {
  NEED_SERIES();
  TempDir tmp;
  copy_series(tmp.path, [](int i, gdcm::DataSet& ds) {
    set_series_uid(ds, i < 12 ? "1.2.826.0.1.3680043.2.1125.11" : "1.2.826.0.1.3680043.2.1125.22");
    return true;
  });
  const auto s = list_dicom_series(tmp.path);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].series_uid, "1.2.826.0.1.3680043.2.1125.11");
  EXPECT_EQ(s[0].num_files, 12);
  EXPECT_EQ(s[1].num_files, 8);
  const std::string e = error_of([&] { read_dicom_series(tmp.path); });
  EXPECT_EQ(e.rfind(tmp.path + ": holds 2 DICOM series (UIDs 1.2.826.0.1.3680043.2.1125.11 (12 files), "
                               "1.2.826.0.1.3680043.2.1125.22 (8 files)); point --in at one series folder",
                    0),
            0u)
      << e;
  // `glassbox segment --in` on that folder: refused at planning, before anything is written.
  const std::string out = tmp.path + "/seg";
  const std::string p = error_of([&] { gb::pipeline::plan_segmentation(tmp.path, out, {}); });
  EXPECT_NE(p.find(tmp.path + ": holds 2 DICOM series"), std::string::npos) << p;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(DicomBad, RewrittenSeriesStillReads) {  // the writer path used above keeps files readable
  NEED_SERIES();
  TempDir tmp;
  copy_series(tmp.path, [](int, gdcm::DataSet& ds) {
    set_series_uid(ds, "1.2.826.0.1.3680043.2.1125.33");
    return true;
  });
  std::ofstream(tmp / "README.txt") << "stray non-DICOM file, ignored\n";
  const auto s = list_dicom_series(tmp.path);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].series_uid, "1.2.826.0.1.3680043.2.1125.33");
  const Volume a = read_dicom_series(tmp.path), b = read_dicom_series(series_dir());
  EXPECT_EQ(a.data.to_vector(), b.data.to_vector());
  expect_near_affine(a.affine, b.affine, 1e-9);
}

TEST(DicomBad, MissingSliceIsNonUniformSpacing) {
  NEED_SERIES();
  TempDir tmp;
  copy_series(tmp.path, [](int, gdcm::DataSet&) { return false; }, {7});
  const std::string e = error_of([&] { read_dicom_series(tmp.path); });
  EXPECT_EQ(e.rfind(tmp.path + ": non-uniform slice spacing: 4 mm between ", 0), 0u) << e;
}

TEST(DicomBad, DifferentOrientations) {
  NEED_SERIES();
  TempDir tmp;
  copy_series(tmp.path, [](int i, gdcm::DataSet& ds) {
    if (i != 5) return false;
    gdcm::Attribute<0x0020, 0x0037> o;
    const double oblique[6] = {1, 0, 0, 0, 0.8, -0.6};
    o.SetValues(oblique);
    ds.Replace(o.GetAsDataElement());
    return true;
  });
  const std::string e = error_of([&] { read_dicom_series(tmp.path); });
  EXPECT_EQ(e.rfind(tmp.path + ": slices differ in orientation", 0), 0u) << e;
}

TEST(DicomBad, TruncatedFileIsNamed) {
  NEED_SERIES();
  TempDir tmp;
  const std::string src = series_files()[0], dst = tmp / "cut.dcm";
  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dst, std::ios::binary) << bytes.substr(0, bytes.size() / 3);  // header intact, pixels cut
  const std::string e = error_of([&] { read_dicom_series(tmp.path); });
  EXPECT_EQ(e.rfind(dst + ": ", 0), 0u) << e;
}

// Rows running towards the patient's right (IOP -1\0\0\0\1\0): the slice normal is then -z, so the
// files sort by decreasing z, and the canonical grid needs two flips (x and slices) to be LPS+. The
// result must be the original volume mirrored left-right, with slices still inferior -> superior.
TEST(DicomReal, MirroredOrientationIsReorientedToLps) {
  NEED_SERIES();
  TempDir tmp;
  copy_series(tmp.path, [](int, gdcm::DataSet& ds) {
    gdcm::Attribute<0x0020, 0x0037> o;
    const double mirrored[6] = {-1, 0, 0, 0, 1, 0};
    o.SetValues(mirrored);
    ds.Replace(o.GetAsDataElement());
    return true;
  });
  const Volume m = read_dicom_series(tmp.path), v = read_dicom_series(series_dir());
  ASSERT_EQ(m.data.shape(), v.data.shape());
  const int64_t D = v.data.size(0), H = v.data.size(1), W = v.data.size(2);
  const float* pm = m.data.data<float>();
  const float* pv = v.data.data<float>();
  int64_t bad = 0;
  for (int64_t k = 0; k < D; ++k)
    for (int64_t j = 0; j < H; ++j)
      for (int64_t i = 0; i < W; ++i) bad += pm[(k * H + j) * W + i] != pv[(k * H + j) * W + (W - 1 - i)];
  EXPECT_EQ(bad, 0) << "voxels that are not the left-right mirror";
  Affine want = v.affine;
  want[0][3] += (W - 1) * v.spacing[0];  // voxel i = 0 is now the file's last column
  expect_near_affine(m.affine, want, 1e-6);
}

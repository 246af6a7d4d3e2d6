// Real headers: the TotalSegmentator example CT (shared data; skipped when absent).
#include <algorithm>

#include "nifti_test_util.h"

using namespace gb;
using namespace gb::io;

namespace {

std::string example(const std::string& name) {
  const std::string d = gbt::shared_data_dir();
  if (d.empty()) return "";
  const std::string p = d + "/totalseg-example/" + name;
  return gbt::file_exists(p) ? p : "";
}

}  // namespace

TEST(NiftiReal, ExampleCtShapeSpacingAndHu) {
  const std::string p = example("example_ct.nii.gz");
  if (p.empty()) GTEST_SKIP() << "shared data (totalseg-example) not found";
  const Volume v = read_nifti(p);
  ASSERT_TRUE(v.source);
  EXPECT_EQ(v.source->datatype, DT_INT32);
  EXPECT_EQ(v.source->version, 1);
  EXPECT_GT(v.source->sform_code, 0);
  EXPECT_EQ(v.source->qform_code, 0);  // sform only
  EXPECT_EQ(v.source->dim[1], 122);
  EXPECT_EQ(v.source->dim[2], 101);
  EXPECT_EQ(v.source->dim[3], 112);
  EXPECT_EQ(v.data.numel(), 122 * 101 * 112);
  EXPECT_EQ(v.data.dtype(), DType::F32);
  for (double s : v.spacing) EXPECT_NEAR(s, 3.0, 1e-4);
  // canonical LPS+ grid
  EXPECT_LT(v.affine[0][0], 0);
  EXPECT_LT(v.affine[1][1], 0);
  EXPECT_GT(v.affine[2][2], 0);
  const auto hu = v.data.to_vector();
  const auto [mn, mx] = std::minmax_element(hu.begin(), hu.end());
  std::printf("example_ct: shape %s, HU range [%g, %g], perm (%d,%d,%d) flips (%d,%d,%d)\n",
              str(v.data.shape()).c_str(), *mn, *mx, v.source->perm[0], v.source->perm[1], v.source->perm[2],
              v.source->flip[0], v.source->flip[1], v.source->flip[2]);
  EXPECT_GE(*mn, -1300.0);  // measured -1207 (air, reconstruction undershoot below -1024)
  EXPECT_LE(*mn, -900.0);   // air is in the field of view
  EXPECT_GE(*mx, 200.0);   // bone
  EXPECT_LE(*mx, 4000.0);
}

TEST(NiftiReal, LiverMaskMatchesCtGeometryAndWritesBackExactly) {
  const std::string ct = example("example_ct.nii.gz"), liver = example("liver.nii.gz");
  if (ct.empty() || liver.empty()) GTEST_SKIP() << "shared data (totalseg-example) not found";
  const Volume img = read_nifti(ct);
  ReadOptions lo;
  lo.as_labels = true;
  const Volume lab = read_nifti(liver, lo);
  EXPECT_EQ(lab.source->datatype, DT_FLOAT64);
  EXPECT_EQ(lab.data.dtype(), DType::I32);
  EXPECT_NO_THROW(check_same_geometry(img, lab));
  const auto l = lab.data.to_vector_as<int32_t>();
  int64_t ones = 0;
  for (int32_t x : l) {
    ASSERT_TRUE(x == 0 || x == 1);
    ones += x;
  }
  EXPECT_GT(ones, 1000);  // a liver at 3 mm is thousands of voxels
  // Liver voxels are soft tissue in the CT (median HU well inside [0, 200]).
  const auto hu = img.data.to_vector();
  std::vector<double> in_liver;
  for (size_t i = 0; i < l.size(); ++i)
    if (l[i]) in_liver.push_back(hu[i]);
  std::nth_element(in_liver.begin(), in_liver.begin() + in_liver.size() / 2, in_liver.end());
  const double med = in_liver[in_liver.size() / 2];
  std::printf("liver: %lld voxels, median HU %g\n", (long long)ones, med);
  EXPECT_GT(med, 0);
  EXPECT_LT(med, 200);

  // The mask written for the CT has the CT's exact dims, pixdim, qform and sform.
  gbt::TempDir tmp;
  write_nifti_like(tmp / "liver_out.nii.gz", img, lab.data, {NiftiDType::U8, 1});
  const auto out = gbt::read_bytes(tmp / "liver_out.nii.gz");
  const auto in = gbt::read_bytes(ct);
  nifti_1_header a, b;
  std::memcpy(&a, in.data(), sizeof a);
  std::memcpy(&b, out.data(), sizeof b);
  EXPECT_EQ(std::memcmp(a.dim, b.dim, sizeof a.dim), 0);
  EXPECT_EQ(std::memcmp(a.pixdim, b.pixdim, sizeof a.pixdim), 0);
  EXPECT_EQ(a.qform_code, b.qform_code);
  EXPECT_EQ(a.sform_code, b.sform_code);
  EXPECT_EQ(std::memcmp(a.srow_x, b.srow_x, sizeof a.srow_x), 0);
  EXPECT_EQ(std::memcmp(a.srow_y, b.srow_y, sizeof a.srow_y), 0);
  EXPECT_EQ(std::memcmp(a.srow_z, b.srow_z, sizeof a.srow_z), 0);
  EXPECT_EQ(std::memcmp(&a.quatern_b, &b.quatern_b, 6 * sizeof(float)), 0);
  // and its voxels equal the original float64 mask voxel for voxel in the file's own order
  const auto orig = gbt::read_bytes(liver);
  nifti_1_header lh;
  std::memcpy(&lh, orig.data(), sizeof lh);
  const size_t n = 122 * 101 * 112;
  ASSERT_EQ(out.size(), 352 + n);
  for (size_t i = 0; i < n; ++i) {
    double x;
    std::memcpy(&x, orig.data() + (size_t)lh.vox_offset + 8 * i, 8);
    ASSERT_EQ((double)out[352 + i], x) << "voxel " << i;
  }
}

TEST(NiftiReal, ExampleCtSmallInt16Crop) {
  const std::string p = example("example_ct_sm.nii.gz");
  if (p.empty()) GTEST_SKIP() << "shared data (totalseg-example) not found";
  const Volume v = read_nifti(p);
  EXPECT_EQ(v.source->datatype, DT_INT16);
  std::printf("example_ct_sm: dims %lldx%lldx%lld, spacing %g %g %g\n", (long long)v.source->dim[1],
              (long long)v.source->dim[2], (long long)v.source->dim[3], v.spacing[0], v.spacing[1], v.spacing[2]);
  const auto hu = v.data.to_vector();
  const auto [mn, mx] = std::minmax_element(hu.begin(), hu.end());
  EXPECT_GE(*mn, -1300.0);
  EXPECT_LE(*mx, 4000.0);
  EXPECT_GT(*mx, *mn);
  // round trip in its own datatype keeps every voxel
  gbt::TempDir tmp;
  write_nifti_like(tmp / "sm.nii.gz", v, v.data, {NiftiDType::I16, 1});
  const Volume w = read_nifti(tmp / "sm.nii.gz");
  EXPECT_EQ(w.data.to_vector(), hu);
  EXPECT_NO_THROW(check_same_geometry(v, w));
}

TEST(NiftiReal, MultiOrganSegReadsAsLabels) {
  const std::string p = example("example_seg_dicom.nii.gz");
  if (p.empty()) GTEST_SKIP() << "shared data (totalseg-example) not found";
  ReadOptions lo;
  lo.as_labels = true;
  const Volume v = read_nifti(p, lo);
  EXPECT_EQ(v.data.dtype(), DType::I32);
  const auto l = v.data.to_vector_as<int32_t>();
  const auto [mn, mx] = std::minmax_element(l.begin(), l.end());
  std::printf("example_seg_dicom: %s %s, labels %d..%d, spacing %g %g %g\n", nifti_datatype_name(v.source->datatype).c_str(),
              str(v.data.shape()).c_str(), *mn, *mx, v.spacing[0], v.spacing[1], v.spacing[2]);
  EXPECT_EQ(*mn, 0);
  EXPECT_GT(*mx, 1);  // several organs
  EXPECT_LT(*mx, 1000);
}

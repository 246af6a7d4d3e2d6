// Round trips and geometry: every datatype x .nii/.nii.gz x NIfTI-1/-2, hand-made unusual headers,
// the canonical (LPS+) reorientation and write_nifti_like's exact restoration of the source header.
#include <cmath>
#include <tuple>

#include "nifti_test_util.h"

using namespace gb;
using namespace gb::io;
using gbt::TempDir;

namespace {

constexpr int64_t NX = 5, NY = 4, NZ = 3;

Affine make_affine(std::initializer_list<double> rows12) {
  Affine a{};
  auto it = rows12.begin();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) a[i][j] = *it++;
  a[3] = {0, 0, 0, 1};
  return a;
}

// Test values for a datatype code: spread over the type's range, exactly representable in f32.
std::vector<double> pattern(int dt, int64_t n) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) {
    switch (dt) {
      case DT_UINT8: v[i] = (double)((i * 37) % 256); break;
      case DT_INT8: v[i] = (double)((i * 37) % 256 - 128); break;
      case DT_INT16: v[i] = (double)(-1024 + (i * 997) % 4096); break;
      case DT_UINT16: v[i] = (double)((i * 4099) % 65536); break;
      case DT_INT32: v[i] = (double)(-100000 + i * 3571); break;
      case DT_FLOAT32: v[i] = -1000.5 + i * 17.25; break;
      default: v[i] = -3000.125 + i * 101.0625; break;
    }
  }
  return v;
}

template <class T> std::vector<unsigned char> as_bytes(const std::vector<double>& v) {
  std::vector<unsigned char> out(v.size() * sizeof(T));
  for (size_t i = 0; i < v.size(); ++i) {
    const T x = (T)v[i];
    std::memcpy(out.data() + i * sizeof(T), &x, sizeof(T));
  }
  return out;
}

std::vector<unsigned char> encode(int dt, const std::vector<double>& v) {
  switch (dt) {
    case DT_UINT8: return as_bytes<uint8_t>(v);
    case DT_INT8: return as_bytes<int8_t>(v);
    case DT_INT16: return as_bytes<int16_t>(v);
    case DT_UINT16: return as_bytes<uint16_t>(v);
    case DT_INT32: return as_bytes<int32_t>(v);
    case DT_FLOAT32: return as_bytes<float>(v);
    default: return as_bytes<double>(v);
  }
}

int nbyper(int dt) {
  switch (dt) {
    case DT_UINT8:
    case DT_INT8: return 1;
    case DT_INT16:
    case DT_UINT16: return 2;
    case DT_INT32:
    case DT_FLOAT32: return 4;
    default: return 8;
  }
}

NiftiDType to_ndt(int dt) {
  switch (dt) {
    case DT_UINT8: return NiftiDType::U8;
    case DT_INT8: return NiftiDType::I8;
    case DT_INT16: return NiftiDType::I16;
    case DT_UINT16: return NiftiDType::U16;
    case DT_INT32: return NiftiDType::I32;
    case DT_FLOAT32: return NiftiDType::F32;
    default: return NiftiDType::F64;
  }
}

// Writes a hand-made file (both versions through one template).
template <class H>
void write_case(const std::string& path, int dt, const std::vector<double>& vals, const Affine& sform, bool gz,
                int64_t nx = NX, int64_t ny = NY, int64_t nz = NZ) {
  H h = gbt::make_header<H>(nx, ny, nz, dt, nbyper(dt));
  gbt::set_sform(h, sform);
  const auto bytes = encode(dt, vals);
  gbt::write_bytes(path, gbt::file_bytes(h, bytes.data(), bytes.size()), gz);
}

void expect_affine_eq(const Affine& a, const Affine& b, double tol = 0) {
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_NEAR(a[i][j], b[i][j], tol) << "affine[" << i << "][" << j << "]";
}

// File-grid check: data [nz, ny, nx] equals vals (i fastest).
void expect_file_grid(const Tensor& t, const std::vector<double>& vals) {
  ASSERT_EQ(t.shape(), (Shape{NZ, NY, NX}));
  const auto got = t.to_vector();
  ASSERT_EQ(got.size(), vals.size());
  for (size_t i = 0; i < vals.size(); ++i) ASSERT_EQ(got[i], vals[i]) << "voxel " << i;
}

// Every canonical voxel holds the file voxel that sits at the same world position.
void expect_same_world(const Volume& canon, const Volume& file) {
  const auto& A = canon.affine;
  const auto& F = file.affine;
  const int64_t D = canon.data.size(0), H = canon.data.size(1), W = canon.data.size(2);
  ASSERT_EQ(canon.data.numel(), file.data.numel());
  // invert F's 3x3 by solving with Cramer's rule per point (small sizes)
  auto det = [](const double m[3][3]) {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  };
  double M[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) M[i][j] = F[i][j];
  const double d = det(M);
  ASSERT_GT(std::fabs(d), 1e-9);
  for (int64_t z = 0; z < D; ++z)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        double w[3];
        for (int i = 0; i < 3; ++i) w[i] = A[i][0] * x + A[i][1] * y + A[i][2] * z + A[i][3] - F[i][3];
        int64_t f[3];
        for (int c = 0; c < 3; ++c) {
          double Mc[3][3];
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) Mc[i][j] = j == c ? w[i] : M[i][j];
          const double v = det(Mc) / d;
          f[c] = std::llround(v);
          ASSERT_NEAR(v, (double)f[c], 1e-6);
        }
        ASSERT_EQ(canon.data.at({z, y, x}), file.data.at({f[2], f[1], f[0]})) << "canonical (" << x << "," << y << "," << z << ")";
      }
}

void expect_lps(const Affine& a) {
  // LPS+ grid: W towards -x (L), H towards -y (P), D towards +z (S); axis-aligned here.
  EXPECT_LT(a[0][0], 0);
  EXPECT_LT(a[1][1], 0);
  EXPECT_GT(a[2][2], 0);
}

const Affine kSform = make_affine({0.5, 0, 0, -10.25, 0, 0.75, 0, 20.5, 0, 0, 2.5, -30});

}  // namespace

// ------------------------------------------------------------------ datatype x gz x version
class NiftiRoundTrip : public ::testing::TestWithParam<std::tuple<int, bool, int>> {};

TEST_P(NiftiRoundTrip, ReadWriteReadIsExact) {
  const auto [dt, gz, version] = GetParam();
  TempDir tmp;
  const std::string ext = gz ? ".nii.gz" : ".nii";
  const std::string in = tmp / ("in" + ext), out = tmp / ("out" + ext), like = tmp / ("like" + ext);
  const auto vals = pattern(dt, NX * NY * NZ);
  if (version == 1) {
    write_case<nifti_1_header>(in, dt, vals, kSform, gz);
  } else {
    write_case<nifti_2_header>(in, dt, vals, kSform, gz);
  }
  ReadOptions keep;
  keep.reorient = false;
  const Volume v = read_nifti(in, keep);
  EXPECT_EQ(v.data.dtype(), DType::F32);
  expect_file_grid(v.data, vals);
  expect_affine_eq(v.affine, kSform);
  EXPECT_EQ(v.spacing, (std::array<double, 3>{0.5, 0.75, 2.5}));
  ASSERT_TRUE(v.source);
  EXPECT_EQ(v.source->version, version);
  EXPECT_EQ(v.source->datatype, dt);

  // write_nifti in the same datatype and version, read again: same values, same affine.
  write_nifti(out, v, {to_ndt(dt), version});
  const Volume w = read_nifti(out, keep);
  expect_file_grid(w.data, vals);
  expect_affine_eq(w.affine, kSform);
  EXPECT_EQ(w.source->version, version);
  EXPECT_EQ(w.source->datatype, dt);

  // Canonical read + write_nifti_like: the voxel bytes come back identical.
  const Volume c = read_nifti(in);
  expect_lps(c.affine);
  expect_same_world(c, v);
  write_nifti_like(like, c, c.data, {to_ndt(dt), version});
  const auto orig = gbt::read_bytes(in), back = gbt::read_bytes(like);
  const size_t hs = version == 1 ? 352 : 544;
  ASSERT_EQ(orig.size(), back.size());
  EXPECT_TRUE(std::equal(orig.begin() + hs, orig.end(), back.begin() + hs)) << "voxel bytes differ";
  // gzip output really is gzip, plain output really is plain
  std::ifstream raw(like, std::ios::binary);
  unsigned char b0 = 0;
  raw.read((char*)&b0, 1);
  EXPECT_EQ(b0 == 0x1f, gz);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, NiftiRoundTrip,
                         ::testing::Combine(::testing::Values(DT_UINT8, DT_INT8, DT_INT16, DT_UINT16, DT_INT32,
                                                              DT_FLOAT32, DT_FLOAT64),
                                            ::testing::Bool(), ::testing::Values(1, 2)));

// ------------------------------------------------------------------ unusual headers
TEST(NiftiHeaders, SformOnlyPermutedAndFlipped) {
  TempDir tmp;
  // i -> -y (2 mm), j -> +z (3 mm), k -> -x (1.5 mm): a permutation with two flips.
  const Affine a = make_affine({0, 0, -1.5, 40, -2, 0, 0, 60, 0, 3, 0, -70});
  const auto vals = pattern(DT_INT16, NX * NY * NZ);
  write_case<nifti_1_header>(tmp / "p.nii", DT_INT16, vals, a, false);
  ReadOptions keep;
  keep.reorient = false;
  const Volume f = read_nifti(tmp / "p.nii", keep);
  expect_affine_eq(f.affine, a);
  const Volume c = read_nifti(tmp / "p.nii");
  // canonical W = file k (x axis), H = file i (y axis), D = file j (z axis)
  EXPECT_EQ(c.data.shape(), (Shape{NY, NX, NZ}));
  EXPECT_EQ(c.spacing, (std::array<double, 3>{1.5, 2, 3}));
  expect_lps(c.affine);
  EXPECT_EQ(c.affine[0][1], 0);
  EXPECT_EQ(c.affine[1][0], 0);
  expect_same_world(c, f);
  EXPECT_EQ(c.source->perm, (std::array<int, 3>{1, 2, 0}));
  EXPECT_EQ(c.source->flip, (std::array<bool, 3>{false, false, false}));
}

TEST(NiftiHeaders, QformOnlyWithRotationAndQfac) {
  TempDir tmp;
  auto h = gbt::make_header<nifti_1_header>(NX, NY, NZ, DT_FLOAT32, 4);
  // 90 degrees about z, left-handed (qfac -1), voxel 0.8 x 0.9 x 4 mm
  h.qform_code = NIFTI_XFORM_SCANNER_ANAT;
  h.quatern_b = 0;
  h.quatern_c = 0;
  h.quatern_d = (float)std::sqrt(0.5);
  h.qoffset_x = 12;
  h.qoffset_y = -7;
  h.qoffset_z = 3;
  h.pixdim[0] = -1;
  h.pixdim[1] = 0.8f;
  h.pixdim[2] = 0.9f;
  h.pixdim[3] = 4;
  const auto vals = pattern(DT_FLOAT32, NX * NY * NZ);
  gbt::write_nifti_raw(tmp / "q.nii.gz", h, std::vector<float>(vals.begin(), vals.end()), true);
  const nifti_dmat44 q = nifti_quatern_to_dmat44(0, 0, h.quatern_d, 12, -7, 3, 0.8f, 0.9f, 4, -1);
  ReadOptions keep;
  keep.reorient = false;
  const Volume f = read_nifti(tmp / "q.nii.gz", keep);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(f.affine[i][j], q.m[i][j]);
  EXPECT_EQ(f.source->qform_code, NIFTI_XFORM_SCANNER_ANAT);
  EXPECT_EQ(f.source->sform_code, 0);
  const Volume c = read_nifti(tmp / "q.nii.gz");
  expect_lps(c.affine);
  expect_same_world(c, f);
  EXPECT_NEAR(c.spacing[0], 0.9, 1e-6);  // file j (y in file) points along world x after the rotation
  EXPECT_NEAR(c.spacing[1], 0.8, 1e-6);
  EXPECT_NEAR(c.spacing[2], 4.0, 1e-6);
}

TEST(NiftiHeaders, NeitherUsesPixdimAndSformWinsOverQform) {
  TempDir tmp;
  auto h = gbt::make_header<nifti_1_header>(NX, NY, NZ, DT_UINT8, 1);
  h.pixdim[1] = 2;
  h.pixdim[2] = 3;
  h.pixdim[3] = 4;
  const auto vals = pattern(DT_UINT8, NX * NY * NZ);
  std::vector<uint8_t> u8(vals.begin(), vals.end());
  gbt::write_nifti_raw(tmp / "n.nii", h, u8);
  ReadOptions keep;
  keep.reorient = false;
  expect_affine_eq(read_nifti(tmp / "n.nii", keep).affine, make_affine({2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4, 0}));
  // Canonical: i and j flipped, origin moves to the far corner.
  const Volume c = read_nifti(tmp / "n.nii");
  expect_affine_eq(c.affine, make_affine({-2, 0, 0, 2 * (NX - 1), 0, -3, 0, 3 * (NY - 1), 0, 0, 4, 0}));
  EXPECT_EQ(c.data.at({0, 0, 0}), vals[(NX - 1) + NX * (NY - 1)]);

  // qform says identity, sform says 7 mm: sform wins.
  h.qform_code = 1;
  gbt::set_sform(h, make_affine({7, 0, 0, 1, 0, 7, 0, 2, 0, 0, 7, 3}));
  gbt::write_nifti_raw(tmp / "b.nii", h, u8);
  const Volume b = read_nifti(tmp / "b.nii", keep);
  expect_affine_eq(b.affine, make_affine({7, 0, 0, 1, 0, 7, 0, 2, 0, 0, 7, 3}));
  EXPECT_EQ(b.source->qform[0][0], 2.0);  // qform kept too (pixdim 2 with identity rotation)
}

TEST(NiftiHeaders, ScaleSlopeAndInterceptAndSlopeZero) {
  TempDir tmp;
  auto h = gbt::make_header<nifti_1_header>(NX, NY, NZ, DT_INT16, 2);
  h.scl_slope = 2;
  h.scl_inter = -1024;
  std::vector<int16_t> raw(NX * NY * NZ);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = (int16_t)(i * 31);
  gbt::write_nifti_raw(tmp / "s.nii", h, raw);
  ReadOptions keep;
  keep.reorient = false;
  const auto v = read_nifti(tmp / "s.nii", keep).data.to_vector();
  for (size_t i = 0; i < raw.size(); ++i) ASSERT_EQ(v[i], 2.0 * raw[i] - 1024) << i;
  // labels with scaling: still integral
  ReadOptions lab = keep;
  lab.as_labels = true;
  const Volume l = read_nifti(tmp / "s.nii", lab);
  EXPECT_EQ(l.data.dtype(), DType::I32);
  EXPECT_EQ(l.data.at({0, 0, 1}), 2.0 * raw[1] - 1024);
  // slope 0 means "no scaling" even with an intercept
  h.scl_slope = 0;
  gbt::write_nifti_raw(tmp / "z.nii", h, raw);
  const auto z = read_nifti(tmp / "z.nii", keep).data.to_vector();
  for (size_t i = 0; i < raw.size(); ++i) ASSERT_EQ(z[i], raw[i]) << i;
}

TEST(NiftiHeaders, FourDimensionalWithDim4OneAndMetres) {
  TempDir tmp;
  auto h = gbt::make_header<nifti_2_header>(NX, NY, NZ, DT_FLOAT32, 4);
  h.dim[0] = 4;
  h.dim[4] = 1;
  h.xyzt_units = NIFTI_UNITS_METER;
  gbt::set_sform(h, make_affine({0.001, 0, 0, 0.1, 0, 0.002, 0, 0, 0, 0, 0.003, 0}));
  std::vector<float> vals(NX * NY * NZ, 5.0f);
  gbt::write_nifti_raw(tmp / "m.nii", h, vals);
  ReadOptions keep;
  keep.reorient = false;
  const Volume v = read_nifti(tmp / "m.nii", keep);
  EXPECT_EQ(v.data.shape(), (Shape{NZ, NY, NX}));
  EXPECT_NEAR(v.spacing[0], 1, 1e-9);  // metres -> mm
  EXPECT_NEAR(v.spacing[2], 3, 1e-9);
  EXPECT_NEAR(v.affine[0][3], 100, 1e-9);
  EXPECT_EQ(v.source->dim[0], 4);
  // write_nifti_like keeps dim[0] = 4 and the units
  write_nifti_like(tmp / "m2.nii", v, v.data, {NiftiDType::F32, 2});
  const auto bytes = gbt::read_bytes(tmp / "m2.nii");
  nifti_2_header back;
  std::memcpy(&back, bytes.data(), sizeof back);
  EXPECT_EQ(back.dim[0], 4);
  EXPECT_EQ(back.dim[4], 1);
  EXPECT_EQ(back.xyzt_units, NIFTI_UNITS_METER);
}

TEST(NiftiHeaders, BigEndianFile) {
  TempDir tmp;
  auto h = gbt::make_header<nifti_1_header>(NX, NY, NZ, DT_INT16, 2);
  gbt::set_sform(h, kSform);
  const auto vals = pattern(DT_INT16, NX * NY * NZ);
  std::vector<int16_t> raw(vals.begin(), vals.end());
  swap_nifti_header(&h, 1);
  nifti_swap_2bytes((int64_t)raw.size(), raw.data());
  gbt::write_nifti_raw(tmp / "be.nii", h, raw);
  ReadOptions keep;
  keep.reorient = false;
  const Volume v = read_nifti(tmp / "be.nii", keep);
  expect_file_grid(v.data, vals);
  expect_affine_eq(v.affine, kSform);
}

// ------------------------------------------------------------------ write_nifti_like exactness
TEST(NiftiWriteLike, RestoresExactHeaderOfPermutedFlippedFile) {
  TempDir tmp;
  auto h = gbt::make_header<nifti_1_header>(NX, NY, NZ, DT_INT16, 2);
  h.dim[0] = 4;
  h.dim[4] = 1;
  h.pixdim[1] = 1.5f;
  h.pixdim[2] = 2;
  h.pixdim[3] = 3;
  h.pixdim[0] = -1;
  h.qform_code = 1;
  h.quatern_b = 0.5f;  // some rotation (normalised by the reader)
  h.quatern_c = 0.5f;
  h.quatern_d = 0.5f;
  h.qoffset_x = 5;
  // a flipped/permuted sform, like many scanners: i -> -x, j -> +z, k -> -y
  gbt::set_sform(h, make_affine({-1.5, 0, 0, 90, 0, 0, -3, 100, 0, 2, 0, -50}), NIFTI_XFORM_ALIGNED_ANAT);
  h.scl_slope = 1;
  h.scl_inter = -1024;
  std::strcpy(h.descrip, "glassbox test");
  std::vector<int16_t> raw(NX * NY * NZ);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = (int16_t)(1000 + (i * 7919) % 2000);
  gbt::write_nifti_raw(tmp / "img.nii.gz", h, raw, true);

  const Volume c = read_nifti(tmp / "img.nii.gz");
  EXPECT_FALSE(c.source->perm == (std::array<int, 3>{0, 1, 2}));
  // A label map computed on the canonical grid: 1 where HU > 500.
  const auto hu = c.data.to_vector();
  std::vector<int32_t> lab(hu.size());
  for (size_t i = 0; i < hu.size(); ++i) lab[i] = hu[i] > 500 ? 1 : 0;
  const Tensor labels = Tensor::from_vector(lab, c.data.shape());
  write_nifti_like(tmp / "lab.nii.gz", c, labels, {NiftiDType::U8, 1});

  const auto out = gbt::read_bytes(tmp / "lab.nii.gz");
  ASSERT_EQ(out.size(), 352 + raw.size());
  nifti_1_header expect = h;  // the source header with only the storage fields changed
  expect.datatype = DT_UINT8;
  expect.bitpix = 8;
  expect.scl_slope = 1;
  expect.scl_inter = 0;
  expect.vox_offset = 352;
  EXPECT_EQ(std::memcmp(&expect, out.data(), 348), 0) << "header differs from the source header";
  // Voxels land in the file's own grid: label of file voxel i is (raw[i] - 1024 > 500).
  for (size_t i = 0; i < raw.size(); ++i) ASSERT_EQ(out[352 + i], raw[i] - 1024 > 500 ? 1 : 0) << "voxel " << i;

  // Read back as labels: same geometry as the image.
  ReadOptions lo;
  lo.as_labels = true;
  const Volume l = read_nifti(tmp / "lab.nii.gz", lo);
  EXPECT_NO_THROW(check_same_geometry(c, l));
  EXPECT_EQ(l.data.to_vector_as<int32_t>(), lab);

  // NIfTI-1 source written as NIfTI-2: geometry survives the conversion.
  write_nifti_like(tmp / "lab2.nii", c, labels, {NiftiDType::I16, 2});
  const Volume l2 = read_nifti(tmp / "lab2.nii", lo);
  EXPECT_EQ(l2.source->version, 2);
  EXPECT_NO_THROW(check_same_geometry(c, l2));
  EXPECT_EQ(l2.source->dim, c.source->dim);
  EXPECT_EQ(l2.data.to_vector_as<int32_t>(), lab);
}

TEST(NiftiWriteLike, RejectsWrongShapeAndGeneratedReference) {
  TempDir tmp;
  write_case<nifti_1_header>(tmp / "a.nii", DT_INT16, pattern(DT_INT16, NX * NY * NZ), kSform, false);
  const Volume c = read_nifti(tmp / "a.nii");
  gbt::expect_error([&] { write_nifti_like(tmp / "o.nii", c, Tensor::zeros({2, 2, 2}), {}); },
                    {tmp / "o.nii", "does not match"});
  Volume gen;
  gen.data = Tensor::zeros({2, 2, 2});
  gbt::expect_error([&] { write_nifti_like(tmp / "o.nii", gen, gen.data, {}); }, {tmp / "o.nii", "source header"});
  gbt::expect_error([&] { write_nifti(tmp / "o.txt", c, {}); }, {tmp / "o.txt", ".nii"});
  // A value that does not fit the output type is refused, and no file is left behind.
  Tensor big = Tensor::full(c.data.shape(), 300.0);
  gbt::expect_error([&] { write_nifti_like(tmp / "u8.nii", c, big, {NiftiDType::U8, 1}); }, {tmp / "u8.nii", "uint8"});
  EXPECT_FALSE(gbt::file_exists(tmp / "u8.nii"));
  // An unwritable destination is an error naming it.
  gbt::expect_error([&] { write_nifti(tmp / "no/such/dir/x.nii.gz", c, {}); }, {tmp / "no/such/dir/x.nii.gz", "cannot create"});
  // Writing over an existing file replaces it whole (temporary file + rename).
  write_nifti(tmp / "a.nii", c, {NiftiDType::F32, 2});
  EXPECT_EQ(read_nifti(tmp / "a.nii").source->version, 2);
}

TEST(NiftiWrite, GeneratedVolumeWithSpacingOnly) {
  TempDir tmp;
  Volume g;
  g.data = Tensor::full({3, 4, 5}, 7.0);
  g.spacing = {0.5, 0.5, 2.0};
  write_nifti(tmp / "g.nii.gz", g, {NiftiDType::I16, 1});
  ReadOptions keep;
  keep.reorient = false;
  const Volume r = read_nifti(tmp / "g.nii.gz", keep);
  EXPECT_EQ(r.spacing, g.spacing);
  EXPECT_EQ(r.source->sform_code, NIFTI_XFORM_ALIGNED_ANAT);
  EXPECT_EQ(r.source->qform_code, NIFTI_XFORM_ALIGNED_ANAT);
  expect_affine_eq(r.source->qform, r.source->sform, 1e-6);
  EXPECT_EQ(r.data.at({2, 3, 4}), 7.0);
}

TEST(NiftiGeometry, CheckSameGeometryNamesBothPathsAndTheDifference) {
  Volume a, b;
  a.path = "image.nii.gz";
  b.path = "label.nii.gz";
  a.data = Tensor::zeros({3, 4, 5});
  b.data = Tensor::zeros({3, 4, 5}, DType::I32);
  EXPECT_NO_THROW(check_same_geometry(a, b));
  b.data = Tensor::zeros({3, 4, 6}, DType::I32);
  gbt::expect_error([&] { check_same_geometry(a, b); }, {"image.nii.gz", "label.nii.gz", "shape", "[3,4,5]", "[3,4,6]"});
  b.data = Tensor::zeros({3, 4, 5}, DType::I32);
  b.affine[0][0] = 2;
  b.spacing = {2, 1, 1};
  gbt::expect_error([&] { check_same_geometry(a, b); }, {"image.nii.gz", "label.nii.gz", "affine[0][0]", "spacing"});
  b.affine[0][0] = 1;
  b.affine[2][3] = 0.5;
  gbt::expect_error([&] { check_same_geometry(a, b); }, {"image.nii.gz", "label.nii.gz", "origin"});
  b.affine[2][3] = 1e-6;  // float32 noise is tolerated
  EXPECT_NO_THROW(check_same_geometry(a, b));
}

// ------------------------------------------------------------------ orientation internals
#include "io/nifti_internal.h"

TEST(NiftiOrient, AllFortyEightOrientationsInvertExactly) {
  using namespace gb::io::nifti_detail;
  std::vector<float> vals(NX * NY * NZ);
  for (size_t i = 0; i < vals.size(); ++i) vals[i] = (float)i;
  const Tensor file = Tensor::from_vector(vals, {NZ, NY, NX});
  const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  int tested = 0;
  for (const auto& p : perms)
    for (int f = 0; f < 8; ++f) {
      Orientation o;
      o.perm = {p[0], p[1], p[2]};
      o.flip = {(f & 1) != 0, (f & 2) != 0, (f & 4) != 0};
      const Tensor c = reorient_data(file, o);
      // canonical sizes follow the permutation
      for (int a = 0; a < 3; ++a) EXPECT_EQ(c.size(2 - o.perm[a]), file.size(2 - a));
      EXPECT_EQ(unreorient_data(c, o).to_vector(), file.to_vector());
      // the affine of the canonical grid maps each canonical voxel to the world point of its file voxel
      const Affine a = make_affine({0.5, 0, 0, 1, 0, 2, 0, 2, 0, 0, 3, 3});
      const Affine ra = reorient_affine(a, o, {NX, NY, NZ});
      const auto plan = reorient_plan(o, {NX, NY, NZ});
      for (int64_t z = 0; z < plan.ndst[2]; ++z)
        for (int64_t x = 0; x < plan.ndst[0]; ++x) {
          const int64_t fi = plan.base + x * plan.step[0] + z * plan.step[2];
          const int64_t fx = fi % NX, fy = (fi / NX) % NY, fz = fi / (NX * NY);
          for (int r = 0; r < 3; ++r)
            ASSERT_DOUBLE_EQ(ra[r][0] * x + ra[r][2] * z + ra[r][3], a[r][0] * fx + a[r][1] * fy + a[r][2] * fz + a[r][3]);
          ASSERT_EQ(c.at({z, 0, x}), file.at({fz, fy, fx}));
        }
      ++tested;
    }
  EXPECT_EQ(tested, 48);
}

TEST(NiftiOrient, CanonicalOrientationOfAnObliqueAffine) {
  using namespace gb::io::nifti_detail;
  // 20 degrees about z, stored RAS: still i -> x (flipped to L), j -> y (flipped to P), k -> z.
  const double c = std::cos(0.349), s = std::sin(0.349);
  const Affine a = make_affine({c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0});
  const Orientation o = canonical_orientation(a, "x");
  EXPECT_EQ(o.perm, (std::array<int, 3>{0, 1, 2}));
  EXPECT_EQ(o.flip, (std::array<bool, 3>{true, true, false}));
  // 70 degrees: i is now closer to y, j to -x
  const double c7 = std::cos(1.22), s7 = std::sin(1.22);
  const Orientation o7 = canonical_orientation(make_affine({c7, -s7, 0, 0, s7, c7, 0, 0, 0, 0, 1, 0}), "x");
  EXPECT_EQ(o7.perm, (std::array<int, 3>{1, 0, 2}));
  EXPECT_EQ(o7.flip, (std::array<bool, 3>{true, false, false}));
}

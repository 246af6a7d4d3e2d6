// Bad input: each case must be a gb::Error naming the file and the problem, never a crash or exit.
// Also replays tests/nifti/corpus/ (fuzzer finds and hand-made bad headers).
#include <dirent.h>

#include <cmath>
#include <limits>

#include "nifti_test_util.h"

using namespace gb;
using namespace gb::io;
using gbt::TempDir;

namespace {

nifti_1_header good_header() {
  auto h = gbt::make_header<nifti_1_header>(4, 3, 2, DT_INT16, 2);
  gbt::set_sform(h, {{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}});
  return h;
}

std::vector<unsigned char> good_bytes(const nifti_1_header& h) {
  std::vector<int16_t> d(24);
  for (int i = 0; i < 24; ++i) d[i] = (int16_t)i;
  return gbt::file_bytes(h, d.data(), d.size() * 2);
}

}  // namespace

TEST(NiftiBad, GoodFileReads) {
  // The baseline the other cases break: must read fine.
  TempDir tmp;
  gbt::write_bytes(tmp / "ok.nii", good_bytes(good_header()), false);
  EXPECT_EQ(read_nifti(tmp / "ok.nii").data.numel(), 24);
}

TEST(NiftiBad, MissingFileAndDirectory) {
  TempDir tmp;
  gbt::expect_error([&] { read_nifti(tmp / "nope.nii.gz"); }, {tmp / "nope.nii.gz", "No such file"});
  gbt::expect_error([&] { read_nifti(tmp.path); }, {tmp.path, "directory"});
}

TEST(NiftiBad, TruncatedPlainAndGzip) {
  TempDir tmp;
  auto bytes = good_bytes(good_header());
  for (bool gz : {false, true}) {
    const std::string p = tmp / (gz ? "t.nii.gz" : "t.nii");
    // cut inside the data
    gbt::write_bytes(p, std::vector<unsigned char>(bytes.begin(), bytes.end() - 10), gz);
    gbt::expect_error([&] { read_nifti(p); }, {p, "truncated", "need 400 bytes"});
    // cut inside the header
    gbt::write_bytes(p, std::vector<unsigned char>(bytes.begin(), bytes.begin() + 200), gz);
    gbt::expect_error([&] { read_nifti(p); }, {p, "truncated", "header"});
    // empty
    gbt::write_bytes(p, {}, gz);
    gbt::expect_error([&] { read_nifti(p); }, {p, "truncated"});
  }
  // a gzip stream cut in the middle (not a complete shorter stream)
  gbt::write_bytes(tmp / "full.nii.gz", bytes, true);
  std::ifstream f(tmp / "full.nii.gz", std::ios::binary);
  std::vector<char> gzb((std::istreambuf_iterator<char>(f)), {});
  gzb.resize(gzb.size() / 2);
  gbt::write_bytes(tmp / "cut.nii.gz", std::vector<unsigned char>(gzb.begin(), gzb.end()), false);
  gbt::expect_error([&] { read_nifti(tmp / "cut.nii.gz"); }, {tmp / "cut.nii.gz", "truncated"});
}

TEST(NiftiBad, WrongMagicAndSizeofHdr) {
  TempDir tmp;
  auto h = good_header();
  std::memcpy(h.magic, "abc\0", 4);
  gbt::write_bytes(tmp / "m.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "m.nii"); }, {tmp / "m.nii", "bad magic", "abc"});
  h = good_header();
  std::memcpy(h.magic, "ni1\0", 4);
  gbt::write_bytes(tmp / "p.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "p.nii"); }, {tmp / "p.nii", ".hdr/.img"});
  h = good_header();
  h.sizeof_hdr = 1234;
  gbt::write_bytes(tmp / "s.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "s.nii"); }, {tmp / "s.nii", "not a NIfTI file", "1234"});
}

TEST(NiftiBad, AbsurdDims) {
  TempDir tmp;
  auto h = good_header();
  h.dim[1] = 32767;
  h.dim[2] = 32767;
  h.dim[3] = 32767;
  gbt::write_bytes(tmp / "a.nii.gz", good_bytes(h), true);
  gbt::expect_error([&] { read_nifti(tmp / "a.nii.gz"); }, {tmp / "a.nii.gz", "absurd dimensions", "32767x32767x32767"});
  h = good_header();
  h.dim[2] = -3;
  gbt::write_bytes(tmp / "n.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "n.nii"); }, {tmp / "n.nii", "dim[2]=-3"});
  h = good_header();
  h.dim[0] = 9;
  gbt::write_bytes(tmp / "d.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "d.nii"); }, {tmp / "d.nii", "dim[0]=9"});
  h = good_header();
  h.dim[0] = 4;
  h.dim[4] = 3;
  gbt::write_bytes(tmp / "t.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "t.nii"); }, {tmp / "t.nii", "dim[4]=3", "3-D"});
  // NIfTI-2: 64-bit dims
  auto h2 = gbt::make_header<nifti_2_header>(1, 1, 1, DT_UINT8, 1);
  h2.dim[1] = int64_t(1) << 40;
  std::vector<uint8_t> one(1, 0);
  gbt::write_nifti_raw(tmp / "big2.nii", h2, one);
  gbt::expect_error([&] { read_nifti(tmp / "big2.nii"); }, {tmp / "big2.nii", "absurd dimensions"});
  // a gzip file whose header claims more than its stream holds: clean truncation error
  h = good_header();
  h.dim[1] = 1000;
  h.dim[2] = 1000;
  h.dim[3] = 1000;
  gbt::write_bytes(tmp / "lie.nii.gz", good_bytes(h), true);
  gbt::expect_error([&] { read_nifti(tmp / "lie.nii.gz"); }, {tmp / "lie.nii.gz", "truncated", "decompressed"});
}

TEST(NiftiBad, UnsupportedDatatypeAndBitpix) {
  TempDir tmp;
  auto h = good_header();
  h.datatype = DT_COMPLEX64;
  h.bitpix = 64;
  gbt::write_bytes(tmp / "c.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "c.nii"); }, {tmp / "c.nii: unsupported NIfTI datatype 32 (complex64)"});
  h.datatype = 12345;
  gbt::write_bytes(tmp / "u.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "u.nii"); }, {tmp / "u.nii", "unsupported NIfTI datatype 12345 (unknown)"});
  h = good_header();
  h.bitpix = 32;
  gbt::write_bytes(tmp / "b.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "b.nii"); }, {tmp / "b.nii", "bitpix 32", "int16"});
}

TEST(NiftiBad, VoxOffsetAndSingularAffine) {
  TempDir tmp;
  auto h = good_header();
  h.vox_offset = 100;
  gbt::write_bytes(tmp / "v.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "v.nii"); }, {tmp / "v.nii", "vox_offset"});
  h.vox_offset = std::numeric_limits<float>::quiet_NaN();
  gbt::write_bytes(tmp / "vn.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "vn.nii"); }, {tmp / "vn.nii", "vox_offset"});
  h = good_header();
  gbt::set_sform(h, {{{1, 1, 0, 0}, {1, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}});
  gbt::write_bytes(tmp / "sg.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "sg.nii"); }, {tmp / "sg.nii", "singular"});
  ReadOptions keep;
  keep.reorient = false;
  EXPECT_NO_THROW(read_nifti(tmp / "sg.nii", keep));  // orientation is only needed to reorient
  h.srow_x[0] = std::numeric_limits<float>::infinity();
  gbt::write_bytes(tmp / "si.nii", good_bytes(h), false);
  gbt::expect_error([&] { read_nifti(tmp / "si.nii", keep); }, {tmp / "si.nii", "sform", "non-finite"});
}

TEST(NiftiBad, NonFiniteVoxelsErrorOrRepair) {
  TempDir tmp;
  auto h = gbt::make_header<nifti_1_header>(4, 3, 2, DT_FLOAT32, 4);
  std::vector<float> d(24, 40.0f);
  d[1 + 4 * 2 + 12 * 1] = std::numeric_limits<float>::quiet_NaN();  // (i=1, j=2, k=1)
  d[23] = std::numeric_limits<float>::infinity();
  gbt::write_nifti_raw(tmp / "nan.nii", h, d);
  gbt::expect_error([&] { read_nifti(tmp / "nan.nii"); }, {tmp / "nan.nii", "2 non-finite", "(i=1, j=2, k=1)"});
  ReadOptions rep;
  rep.repair_nonfinite = true;
  rep.reorient = false;
  const Volume v = read_nifti(tmp / "nan.nii", rep);
  EXPECT_EQ(v.data.at({1, 2, 1}), -1000.0);
  EXPECT_EQ(v.data.at({1, 2, 3}), -1000.0);
  EXPECT_EQ(v.data.at({0, 0, 0}), 40.0);
  ReadOptions lab;
  lab.as_labels = true;
  lab.repair_nonfinite = true;
  gbt::expect_error([&] { read_nifti(tmp / "nan.nii", lab); }, {tmp / "nan.nii", "non-finite"});
  // labels must be whole numbers
  std::vector<float> f(24, 1.0f);
  f[5] = 0.5f;
  gbt::write_nifti_raw(tmp / "frac.nii", h, f);
  gbt::expect_error([&] { read_nifti(tmp / "frac.nii", lab); }, {tmp / "frac.nii", "non-integral value 0.5"});
}

TEST(NiftiBad, ImageAndLabelOfDifferentGeometry) {
  TempDir tmp;
  auto h = good_header();
  gbt::write_bytes(tmp / "img.nii", good_bytes(h), false);
  h.srow_x[3] = 5;  // shifted origin
  gbt::write_bytes(tmp / "lab.nii", good_bytes(h), false);
  ReadOptions lo;
  lo.as_labels = true;
  const Volume img = read_nifti(tmp / "img.nii"), lab = read_nifti(tmp / "lab.nii", lo);
  gbt::expect_error([&] { check_same_geometry(img, lab); }, {tmp / "img.nii", tmp / "lab.nii", "origin"});
  auto h3 = gbt::make_header<nifti_1_header>(4, 3, 3, DT_UINT8, 1);
  gbt::set_sform(h3, {{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}});
  gbt::write_nifti_raw(tmp / "lab3.nii", h3, std::vector<uint8_t>(36, 1));
  const Volume lab3 = read_nifti(tmp / "lab3.nii", lo);
  gbt::expect_error([&] { check_same_geometry(img, lab3); }, {tmp / "img.nii", tmp / "lab3.nii", "shape"});
}

// Every file in tests/nifti/corpus/ must give a clean gb::Error or a valid volume.
TEST(NiftiCorpus, EveryFileIsAnErrorOrAVolume) {
  const std::string dir = std::string(GB_SOURCE_DIR) + "/tests/nifti/corpus";
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  int files = 0, errors = 0;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name == "README.md") continue;
    const std::string p = dir + "/" + name;
    ++files;
    try {
      const Volume v = read_nifti(p);
      EXPECT_EQ(v.data.dim(), 3) << p;
      EXPECT_GT(v.data.numel(), 0) << p;
    } catch (const gb::Error& err) {
      ++errors;
      EXPECT_EQ(std::string(err.what()).rfind(p, 0), 0u) << "message should start with the path: " << err.what();
    }
  }
  closedir(d);
  EXPECT_GT(files, 0);
  std::printf("corpus: %d files, %d clean errors, %d volumes\n", files, errors, files - errors);
}

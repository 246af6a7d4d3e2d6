// Helpers for the NIfTI tests: a scratch folder, hand-made headers written byte by byte (so the tests
// do not depend on the writer under test), and the location of the shared real data.
#pragma once
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include "io/nifti.h"
#include "nifti2_io.h"

namespace gbt {

// A fresh folder per test, removed afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "gb_nifti_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* p = ::mkdtemp(buf.data());
    if (!p) throw std::runtime_error("mkdtemp failed");
    path = p;
  }
  ~TempDir() {
    const std::string cmd = "rm -rf '" + path + "'";
    if (std::system(cmd.c_str()) != 0) {
    }
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes, bool gz) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    if (!bytes.empty()) {
      ASSERT_EQ(gzwrite(f, bytes.data(), (unsigned)bytes.size()), (int)bytes.size());
    }
    ASSERT_EQ(gzclose(f), Z_OK);
  } else {
    std::ofstream f(path, std::ios::binary);
    f.write((const char*)bytes.data(), (std::streamsize)bytes.size());
    ASSERT_TRUE(f.good());
  }
}

inline std::vector<unsigned char> read_bytes(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::vector<unsigned char> out;
  if (!f) return out;
  unsigned char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  gzclose(f);
  return out;
}

// A hand-made header: dims (nx, ny, nz), datatype, unit pixdim, no qform/sform, no scaling.
template <class H> H make_header(int64_t nx, int64_t ny, int64_t nz, int datatype, int nbyper) {
  H h;
  std::memset(&h, 0, sizeof h);
  h.sizeof_hdr = sizeof(H);
  h.dim[0] = 3;
  h.dim[1] = (std::remove_reference_t<decltype(h.dim[0])>)nx;
  h.dim[2] = (std::remove_reference_t<decltype(h.dim[0])>)ny;
  h.dim[3] = (std::remove_reference_t<decltype(h.dim[0])>)nz;
  for (int i = 4; i < 8; ++i) h.dim[i] = 1;
  h.datatype = (decltype(h.datatype))datatype;
  h.bitpix = (decltype(h.bitpix))(8 * nbyper);
  for (int i = 0; i < 8; ++i) h.pixdim[i] = 1;
  if constexpr (sizeof(H) == 348) {
    h.vox_offset = 352;
    std::memcpy(h.magic, "n+1\0", 4);
  } else {
    h.vox_offset = 544;
    const char m[8] = {'n', '+', '2', '\0', '\r', '\n', '\032', '\n'};
    std::memcpy(h.magic, m, 8);
  }
  h.xyzt_units = NIFTI_UNITS_MM;
  return h;
}

template <class H> void set_sform(H& h, const gb::io::Affine& a, int code = NIFTI_XFORM_SCANNER_ANAT) {
  for (int j = 0; j < 4; ++j) {
    h.srow_x[j] = (std::remove_reference_t<decltype(h.srow_x[0])>)a[0][j];
    h.srow_y[j] = (std::remove_reference_t<decltype(h.srow_y[0])>)a[1][j];
    h.srow_z[j] = (std::remove_reference_t<decltype(h.srow_z[0])>)a[2][j];
  }
  h.sform_code = (decltype(h.sform_code))code;
}

// header + 4-byte extension flag + data
template <class H> std::vector<unsigned char> file_bytes(const H& h, const void* data, size_t nbytes) {
  std::vector<unsigned char> out(sizeof(H) + 4 + nbytes, 0);
  std::memcpy(out.data(), &h, sizeof(H));
  if (nbytes) std::memcpy(out.data() + sizeof(H) + 4, data, nbytes);
  return out;
}

template <class H, class T>
void write_nifti_raw(const std::string& path, const H& h, const std::vector<T>& data, bool gz = false) {
  write_bytes(path, file_bytes(h, data.data(), data.size() * sizeof(T)), gz);
}

// Shared real data: $GLASSBOX_SHARED_DATA, else the build's GB_SHARED_DATA_DIR. Empty if missing.
inline std::string shared_data_dir() {
  std::string d;
  if (const char* e = std::getenv("GLASSBOX_SHARED_DATA")) d = e;
#ifdef GB_SHARED_DATA_DIR
  if (d.empty()) d = GB_SHARED_DATA_DIR;
#endif
  struct stat st {};
  if (d.empty() || ::stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return "";
  return d;
}

inline bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// gtest: expects `fn` to throw gb::Error whose message contains every string in `parts`.
template <class F> void expect_error(F&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected a gb::Error containing '" << (parts.empty() ? "" : parts[0]) << "'";
  } catch (const gb::Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "message: " << msg << "\nmissing: " << p;
  }
}

}  // namespace gbt

// Validation of a NIfTI file before anything trusts it.
//
// nifticlib never ends the process (Debian's libnifti2.so imports neither exit nor abort: checked
// with nm -D), but its reader (nifti_image_read) reports problems only on stderr, is lenient about
// sizes and allocates what the header claims before it knows the data is there. So the bytes are read here, once,
// through zlib (gzopen reads plain and gzip files alike), and checked in this order:
//   1. the path exists, is a regular file (not a directory) and can be opened;
//   2. sizeof_hdr is 348 (NIfTI-1) or 540 (NIfTI-2), in either byte order; the whole header is there;
//   3. magic is "n+1\0" / "n+2\0\r\n\032\n" (single-file .nii; .hdr/.img pairs are refused);
//   4. dim[0] is 1..7, dim[1..dim[0]] > 0, dimensions past the third are 1 (3-D volumes only), and
//      the voxel count is at most 2^31;
//   5. the datatype is one we read (uint8, int8, int16, uint16, int32, float32, float64) and bitpix
//      agrees with it;
//   6. vox_offset is a whole number >= the header size;
//   7. the file holds vox_offset + nvox * bytes-per-voxel bytes: from its size for plain files,
//      by decompressing (in bounded chunks, stopping at the needed size) for gzip files.
// Only then is the header handed to nifticlib (io/nifti.cpp) to decode qform and sform.
#include <sys/stat.h>
#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>

#include "io/nifti_internal.h"
#include "nifti2_io.h"

namespace gb::io::nifti_detail {
namespace {

constexpr int64_t kMaxVoxels = int64_t(1) << 31;
constexpr int64_t kMaxVoxOffset = int64_t(1) << 32;  // extensions beyond 4 GiB are not credible

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

// Reads up to n bytes; returns how many arrived (fewer at end of file). A zlib error (corrupt or
// cut-off gzip stream) is an error naming the path.
int64_t read_up_to(gzFile gz, unsigned char* dst, int64_t n, int64_t already, const std::string& path) {
  int64_t got = 0;
  while (got < n) {
    const unsigned chunk = (unsigned)std::min<int64_t>(n - got, int64_t(1) << 24);
    const int r = gzread(gz, dst + got, chunk);
    if (r < 0) {
      int errnum = 0;
      const char* msg = gzerror(gz, &errnum);
      fail(path, ": truncated or corrupt gzip data after ", already + got, " decompressed bytes (",
           msg ? msg : "zlib error", ")");
    }
    if (r == 0) break;
    got += r;
  }
  return got;
}

std::string printable(const char* s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    const unsigned char c = (unsigned char)s[i];
    if (c >= 32 && c < 127) {
      out += (char)c;
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    }
  }
  return out;
}

uint32_t bswap32(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

// Fields shared by both header versions, copied out as wide types.
template <class H> void take_fields(const H& h, RawNifti& r) {
  for (int i = 0; i < 8; ++i) r.dim[i] = (int64_t)h.dim[i];
  r.datatype = h.datatype;
  r.scl_slope = (double)h.scl_slope;
  r.scl_inter = (double)h.scl_inter;
}

}  // namespace

int supported_nbyper(int datatype) {
  switch (datatype) {
    case DT_UINT8:
    case DT_INT8: return 1;
    case DT_INT16:
    case DT_UINT16: return 2;
    case DT_INT32:
    case DT_FLOAT32: return 4;
    case DT_FLOAT64: return 8;
    default: return 0;
  }
}

RawNifti read_raw(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, ": cannot open: ", std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(path, ": is a directory, not a NIfTI file");
  if (!S_ISREG(st.st_mode)) fail(path, ": is not a regular file");
  errno = 0;
  GzPtr gz(gzopen(path.c_str(), "rb"));
  if (!gz) fail(path, ": cannot open: ", errno ? std::strerror(errno) : "zlib could not open it");
  gzbuffer(gz.get(), 1 << 17);

  RawNifti r;
  unsigned char hbuf[540] = {};
  int64_t got = read_up_to(gz.get(), hbuf, 348, 0, path);
  r.gzipped = gzdirect(gz.get()) == 0;
  if (got < 4) fail(path, ": truncated: ", got, " bytes, too short for a NIfTI header");
  uint32_t sz;
  std::memcpy(&sz, hbuf, 4);
  if (sz == 348 || bswap32(sz) == 348) {
    r.version = 1;
  } else if (sz == 540 || bswap32(sz) == 540) {
    r.version = 2;
  } else {
    fail(path, ": not a NIfTI file (sizeof_hdr is ", (int32_t)sz, ", expected 348 or 540)");
  }
  r.swapped = sz != 348 && sz != 540;
  const int64_t hsize = r.version == 1 ? 348 : 540;
  if (got == 348 && hsize > 348) got += read_up_to(gz.get(), hbuf + 348, hsize - 348, 348, path);
  if (got < hsize)
    fail(path, ": truncated: the NIfTI-", r.version, " header needs ", hsize, " bytes but the file has ", got);
  if (r.swapped) swap_nifti_header(hbuf, r.version);
  r.header.assign(hbuf, hbuf + hsize);

  double vox_offset = 0;
  if (r.version == 1) {
    nifti_1_header h;
    std::memcpy(&h, hbuf, sizeof h);
    if (std::memcmp(h.magic, "ni1\0", 4) == 0)
      fail(path, ": header-only NIfTI-1 (magic \"ni1\"): separate .hdr/.img pairs are not supported");
    if (std::memcmp(h.magic, "n+1\0", 4) != 0)
      fail(path, ": bad magic \"", printable(h.magic, 4), "\" (expected \"n+1\" for a NIfTI-1 .nii file)");
    take_fields(h, r);
    vox_offset = (double)h.vox_offset;
    if (h.bitpix != 8 * supported_nbyper(h.datatype) && supported_nbyper(h.datatype) > 0)
      fail(path, ": bitpix ", h.bitpix, " does not match datatype ", nifti_datatype_name(h.datatype), " (",
           8 * supported_nbyper(h.datatype), " bits)");
  } else {
    nifti_2_header h;
    std::memcpy(&h, hbuf, sizeof h);
    static const char kMagic2[8] = {'n', '+', '2', '\0', '\r', '\n', '\032', '\n'};
    if (std::memcmp(h.magic, "ni2\0", 4) == 0)
      fail(path, ": header-only NIfTI-2 (magic \"ni2\"): separate .hdr/.img pairs are not supported");
    if (std::memcmp(h.magic, kMagic2, 8) != 0)
      fail(path, ": bad magic \"", printable(h.magic, 8), "\" (expected \"n+2\\0\\r\\n\\x1a\\n\" for NIfTI-2)");
    take_fields(h, r);
    vox_offset = (double)h.vox_offset;
    if (h.bitpix != 8 * supported_nbyper(h.datatype) && supported_nbyper(h.datatype) > 0)
      fail(path, ": bitpix ", h.bitpix, " does not match datatype ", nifti_datatype_name(h.datatype), " (",
           8 * supported_nbyper(h.datatype), " bits)");
  }

  // Dimensions.
  const int64_t ndim = r.dim[0];
  if (ndim < 1 || ndim > 7) fail(path, ": dim[0]=", ndim, " (the number of dimensions must be 1..7)");
  for (int i = 1; i <= ndim; ++i)
    if (r.dim[i] < 1) fail(path, ": dim[", i, "]=", r.dim[i], " (sizes must be positive)");
  for (int i = (int)ndim + 1; i < 8; ++i) r.dim[i] = 1;  // unused entries: the standard says ignore
  for (int i = 4; i <= ndim; ++i)
    if (r.dim[i] != 1)
      fail(path, ": ", ndim, "-D image with dim[", i, "]=", r.dim[i], " is not supported (expected a 3-D volume)");
  r.nvox = 1;
  for (int a = 0; a < 3; ++a) {
    r.n[a] = r.dim[a + 1];
    if (r.n[a] > kMaxVoxels || r.nvox > kMaxVoxels / r.n[a])
      fail(path, ": absurd dimensions ", r.dim[1], "x", r.dim[2], "x", r.dim[3], " (more than 2^31 voxels)");
    r.nvox *= r.n[a];
  }

  // Datatype (bitpix was checked above against it).
  r.nbyper = supported_nbyper(r.datatype);
  if (r.nbyper == 0)
    fail(path, ": unsupported NIfTI datatype ", r.datatype, " (", nifti_datatype_name(r.datatype),
         "); supported: uint8, int8, int16, uint16, int32, float32, float64");

  // Where the voxels start.
  if (!std::isfinite(vox_offset) || vox_offset < (double)hsize || vox_offset > (double)kMaxVoxOffset ||
      vox_offset != std::floor(vox_offset))
    fail(path, ": vox_offset ", vox_offset, " is invalid (must be a whole number >= ", hsize, ")");
  r.vox_offset = (int64_t)vox_offset;

  // Size: header + extensions + data.
  const int64_t nbytes = r.nvox * r.nbyper;
  const int64_t need = r.vox_offset + nbytes;
  if (!r.gzipped && (int64_t)st.st_size < need)
    fail(path, ": truncated: header and data need ", need, " bytes (", r.dim[1], "x", r.dim[2], "x", r.dim[3],
         " ", nifti_datatype_name(r.datatype), " from offset ", r.vox_offset, ") but the file has ",
         (int64_t)st.st_size);
  // Skip extensions in small steps (bounded memory even for an absurd offset in a gzip file).
  int64_t pos = hsize;
  {
    std::vector<unsigned char> scratch((size_t)std::min<int64_t>(r.vox_offset - hsize, 1 << 16) + 1);
    while (pos < r.vox_offset) {
      const int64_t want = std::min<int64_t>(r.vox_offset - pos, (int64_t)scratch.size());
      const int64_t g = read_up_to(gz.get(), scratch.data(), want, pos, path);
      pos += g;
      if (g < want) break;
    }
  }
  // Data: plain files are known to be long enough; gzip data grows chunk by chunk so a header that
  // lies about its size cannot make us allocate more than the stream really holds.
  if (pos == r.vox_offset) {
    if (!r.gzipped) {
      r.data.resize((size_t)nbytes);
      pos += read_up_to(gz.get(), r.data.data(), nbytes, pos, path);
    } else {
      const int64_t chunk = int64_t(1) << 24;
      int64_t have = 0;
      while (have < nbytes) {
        const int64_t want = std::min(chunk, nbytes - have);
        r.data.resize((size_t)(have + want));
        const int64_t g = read_up_to(gz.get(), r.data.data() + have, want, pos, path);
        have += g;
        pos += g;
        if (g < want) break;
      }
    }
  }
  if (pos < need)
    fail(path, ": truncated: header and data need ", need, " bytes (", r.dim[1], "x", r.dim[2], "x", r.dim[3], " ",
         nifti_datatype_name(r.datatype), " from offset ", r.vox_offset, ") but the ",
         r.gzipped ? "decompressed stream has " : "file has ", pos);
  r.data.resize((size_t)nbytes);
  if (r.swapped && r.nbyper > 1) nifti_swap_Nbytes(r.nvox, r.nbyper, r.data.data());
  return r;
}

}  // namespace gb::io::nifti_detail

// libFuzzer target: arbitrary bytes as a NIfTI file (plain or gzip: the reader sniffs the content).
// Every input must end in a volume or a gb::Error; anything else (crash, ASan report, exit, other
// exception, hang, huge allocation) is a bug. See tests/fuzz/README.md.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "io/nifti.h"
#include "io/nifti_internal.h"

namespace {

// One scratch file per fuzzing process (libFuzzer -jobs/-workers run separate processes).
const std::string& scratch_path() {
  static const std::string p = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/gb_fuzz_nifti_" + std::to_string((long)::getpid()) + ".nii";
  }();
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const gb::io::Volume v = gb::io::read_nifti(path);
    if (v.data.numel() <= 0 || !v.source) std::abort();  // a volume must have voxels and a source
    // Property: the canonical grid is a pure permutation/flip of the file grid.
    gb::io::ReadOptions keep;
    keep.reorient = false;
    const gb::io::Volume f = gb::io::read_nifti(path, keep);
    gb::io::nifti_detail::Orientation o;
    o.perm = v.source->perm;
    o.flip = v.source->flip;
    const gb::Tensor back = gb::io::nifti_detail::unreorient_data(v.data, o);
    if (back.shape() != f.data.shape() ||
        std::memcmp(back.raw_data(), f.data.raw_data(), (size_t)back.numel() * sizeof(float)) != 0)
      std::abort();
  } catch (const gb::Error&) {
  }
  try {
    gb::io::ReadOptions o;
    o.as_labels = true;
    o.reorient = false;
    gb::io::read_nifti(path, o);
  } catch (const gb::Error&) {
  }
  return 0;
}

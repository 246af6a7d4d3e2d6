// libFuzzer target: arbitrary bytes as a NIfTI file (plain or gzip: the reader sniffs the content).
// Every input must end in a volume or a gb::Error; anything else (crash, ASan report, exit, other
// exception, hang, huge allocation) is a bug. See tests/fuzz/README.md.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/nifti.h"

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
    gb::io::Volume v = gb::io::read_nifti(path);
    if (v.data.numel() <= 0) std::abort();  // a volume must have voxels
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

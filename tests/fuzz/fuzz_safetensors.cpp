// libFuzzer target: arbitrary bytes as a safetensors file (from memory and through the file path).
// Every input must end in tensors or a gb::Error; anything else is a bug. See tests/fuzz/README.md.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/safetensors.h"

namespace {

const std::string& scratch_path() {
  static const std::string p = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/gb_fuzz_safetensors_" + std::to_string((long)::getpid()) +
           ".safetensors";
  }();
  return p;
}

void check(const gb::io::SafetensorsData& d) {
  for (auto& [name, t] : d.tensors)
    if (!t.defined() || t.numel() < 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    check(gb::io::parse_safetensors(data, size, "fuzz.safetensors"));
  } catch (const gb::Error&) {
  }
  const std::string& path = scratch_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    check(gb::io::read_safetensors(path));
  } catch (const gb::Error&) {
  }
  return 0;
}

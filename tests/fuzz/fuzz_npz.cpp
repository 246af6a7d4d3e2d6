// libFuzzer target: arbitrary bytes as a .npz archive and as a single .npy array. Every input must
// end in tensors or a gb::Error (never pickle, never a crash). See tests/fuzz/README.md.
#include <cstdint>
#include <cstdlib>

#include "io/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    for (auto& [name, t] : gb::io::parse_npz(data, size, "fuzz.npz"))
      if (!t.defined()) std::abort();
  } catch (const gb::Error&) {
  }
  try {
    gb::Tensor t = gb::io::parse_npy(data, size, "fuzz.npy");
    if (!t.defined()) std::abort();
  } catch (const gb::Error&) {
  }
  return 0;
}

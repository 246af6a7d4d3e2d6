// Scanning byte masks fast: most rows of a CT mask are background, so whole-zero runs are skipped
// 8 bytes at a time. Shared by the surface and lesion code.
#pragma once
#include <cstdint>
#include <cstring>

namespace gb::eval {

// True when bytes [p, p + n) are all zero.
inline bool all_zero(const uint8_t* p, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w) return false;
  }
  for (; i < n; ++i)
    if (p[i]) return false;
  return true;
}

}  // namespace gb::eval

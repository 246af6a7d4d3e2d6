#include "tensor/philox.h"

#include <cmath>

#include "tensor/cpu/parallel.h"
#include "tensor/dispatch.h"

namespace gb {

std::array<uint32_t, 4> Generator::block(uint64_t b) const {
  const uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), (uint32_t)stream_, (uint32_t)(stream_ >> 32)};
  const uint32_t key[2] = {(uint32_t)seed_, (uint32_t)(seed_ >> 32)};
  std::array<uint32_t, 4> out;
  philox4x32_10(ctr, key, out.data());
  return out;
}

template <class F> static void fill_words(Generator& g, Tensor& t, const char* op, F&& f) {
  check_cpu(t, op);
  GB_CHECK(t.is_contiguous(), op, ": tensor must be contiguous, got ", t.desc());
  const int64_t n = t.numel();
  const uint64_t base = g.offset();
  // Element i takes word i % 4 of counter block base + i / 4 whoever computes it (counter-based), so
  // the blocks can be split over threads and the values stay the same for any thread count.
  const int64_t blocks = (n + 3) / 4;
  GB_DISPATCH_FLOAT(t.dtype(), op, {
    T* p = t.data<T>();
    cpu::parallel_for(blocks, 4096, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        auto w = g.block(base + b);
        f(p, b * 4, std::min<int64_t>(4, n - b * 4), w);
      }
    });
  });
  g.set_offset(base + (uint64_t)blocks);
}

void Generator::uniform_(Tensor& t, double lo, double hi) {
  fill_words(*this, t, "uniform_", [&](auto* p, int64_t i0, int64_t m, const std::array<uint32_t, 4>& w) {
    using T = std::remove_pointer_t<decltype(p)>;
    for (int64_t k = 0; k < m; ++k) p[i0 + k] = (T)(lo + (hi - lo) * (double)philox_u01(w[k]));
  });
}

void Generator::normal_(Tensor& t, double mean, double std) {
  fill_words(*this, t, "normal_", [&](auto* p, int64_t i0, int64_t m, const std::array<uint32_t, 4>& w) {
    using T = std::remove_pointer_t<decltype(p)>;
    for (int pair = 0; pair < 2; ++pair) {
      // u1 in (0, 1] so log(u1) is finite.
      double u1 = 1.0 - (double)philox_u01(w[2 * pair]);
      double u2 = (double)philox_u01(w[2 * pair + 1]);
      double r = std::sqrt(-2.0 * std::log(u1)), th = 2.0 * M_PI * u2;
      if (2 * pair < m) p[i0 + 2 * pair] = (T)(mean + std * r * std::cos(th));
      if (2 * pair + 1 < m) p[i0 + 2 * pair + 1] = (T)(mean + std * r * std::sin(th));
    }
  });
}

void Generator::bernoulli_(Tensor& t, double prob) {
  fill_words(*this, t, "bernoulli_", [&](auto* p, int64_t i0, int64_t m, const std::array<uint32_t, 4>& w) {
    using T = std::remove_pointer_t<decltype(p)>;
    for (int64_t k = 0; k < m; ++k) p[i0 + k] = (T)((double)philox_u01(w[k]) < prob ? 1 : 0);
  });
}

uint32_t Generator::next_u32() { return block(offset_++)[0]; }
double Generator::next_uniform() {
  auto w = block(offset_++);
  // 53-bit double in [0, 1).
  uint64_t bits = ((uint64_t)(w[0] >> 5) << 26) | (w[1] >> 6);
  return (double)bits * (1.0 / 9007199254740992.0);
}
int64_t Generator::next_int(int64_t lo, int64_t hi) {
  GB_CHECK(hi > lo, "Generator::next_int: empty range [", lo, ", ", hi, ")");
  return lo + (int64_t)(next_uniform() * (double)(hi - lo));
}

}  // namespace gb

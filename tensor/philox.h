// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
// Counter-based: the value of draw element i depends only on (seed, stream, offset, i), never on
// thread count or device, so one seed names one training run on the CPU and on CUDA alike.
//   key     = {seed lo, seed hi}
//   counter = {block lo, block hi, stream lo, stream hi}, block = offset + i/4
// Each block yields 4 u32 words; element i takes word i%4.
#pragma once
#include <array>
#include <cstdint>

#include "tensor/tensor.h"

namespace gb {

#if defined(__CUDACC__)
#define GB_HD __host__ __device__
#else
#define GB_HD
#endif

GB_HD inline void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  hi = (uint32_t)(p >> 32);
  lo = (uint32_t)p;
}

// One Philox4x32-10 block: out = bijection_key(ctr).
GB_HD inline void philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
  uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
  uint32_t k0 = key_in[0], k1 = key_in[1];
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(0xD2511F53u, c0, hi0, lo0);
    philox_mulhilo(0xCD9E8D57u, c2, hi1, lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

// u32 -> uniform in [0, 1) with 24 bits (exactly representable in f32).
GB_HD inline float philox_u01(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

// A stream of draws. Each fill call consumes ceil(n/4) blocks and advances `offset`, so successive
// calls give fresh numbers and a (seed, stream, offset) triple can be saved and restored exactly.
class Generator {
 public:
  explicit Generator(uint64_t seed = 1234, uint64_t stream = 0) : seed_(seed), stream_(stream) {}
  uint64_t seed() const { return seed_; }
  uint64_t stream() const { return stream_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t o) { offset_ = o; }

  // The 4 words of block `block` (absolute, ignoring offset).
  std::array<uint32_t, 4> block(uint64_t block) const;
  // Fill a contiguous f32/f64 tensor in place. uniform in [lo, hi); normal via Box-Muller (pairs of
  // words give two normals); bernoulli gives 1 with probability p.
  void uniform_(Tensor& t, double lo = 0.0, double hi = 1.0);
  void normal_(Tensor& t, double mean = 0.0, double std = 1.0);
  void bernoulli_(Tensor& t, double p);
  // Scalars for host-side decisions (augmentation choices); each consumes one block.
  double next_uniform();
  uint32_t next_u32();
  int64_t next_int(int64_t lo, int64_t hi_exclusive);

 private:
  uint64_t seed_, stream_, offset_ = 0;
};

}  // namespace gb

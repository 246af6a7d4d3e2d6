#include "eval/distance_transform.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace gb::eval {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// Scratch of one 1-D transform of up to n samples.
struct Line {
  std::vector<double> g, z, d, inv;  // g[p] = f[p] + s²p², breakpoints, output, inv[k] = 1/k
  std::vector<int64_t> v;           // roots of the envelope's parabolas
  explicit Line(int64_t n) : g(n), z(n + 1), d(n), inv(n + 1), v(n) {
    for (int64_t k = 1; k <= n; ++k) inv[k] = 1.0 / (double)k;
  }
};

// The envelope of one line (see squared_edt_1d), with the divisions by q - p taken from a table of
// reciprocals: the breakpoints only choose which parabola is lowest, and each output is then
// evaluated exactly from its parabola, so a breakpoint off by an ulp changes nothing but ties.
void edt_line(const double* f, int64_t n, double step, double* out, Line& L) {
  const double s2 = step * step, inv2s2 = 0.5 / s2;
  double* g = L.g.data();
  double* z = L.z.data();
  int64_t* v = L.v.data();
  const double* inv = L.inv.data();
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (f[q] == kInf) continue;
    g[q] = f[q] + s2 * (double)q * (double)q;
    if (k < 0) {
      k = 0, v[0] = q, z[0] = -kInf, z[1] = kInf;
      continue;
    }
    // Where parabola q overtakes the last one of the envelope; those it overtakes before their own
    // interval starts are nowhere lowest and leave. z[0] = -inf stops the loop at k = 0.
    double x = (g[q] - g[v[k]]) * inv2s2 * inv[q - v[k]];
    while (x <= z[k]) {
      --k;
      x = (g[q] - g[v[k]]) * inv2s2 * inv[q - v[k]];
    }
    ++k;
    v[k] = q, z[k] = x, z[k + 1] = kInf;
  }
  if (k < 0) {
    std::fill(out, out + n, kInf);
    return;
  }
  int64_t j = 0;
  for (int64_t q = 0; q < n; ++q) {
    while (z[j + 1] < (double)q) ++j;
    const double dq = (double)(q - v[j]);
    out[q] = s2 * dq * dq + f[v[j]];
  }
}

}  // namespace

void squared_edt_1d(const double* f, int64_t n, double step, double* d, int64_t* v, double* z) {
  // The reference form with true divisions (kept for tests and readers):
  // v[0..k] the envelope's roots, z[j], z[j + 1] the interval where parabola v[j] is lowest.
  const double s2 = step * step;
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (f[q] == kInf) continue;
    if (k < 0) {
      k = 0, v[0] = q, z[0] = -kInf, z[1] = kInf;
      continue;
    }
    const double fq = f[q] + s2 * (double)q * (double)q;
    auto cross = [&](int64_t p) { return (fq - (f[p] + s2 * (double)p * (double)p)) / (2.0 * s2 * (double)(q - p)); };
    double x = cross(v[k]);
    while (x <= z[k]) x = cross(v[--k]);
    ++k;
    v[k] = q, z[k] = x, z[k + 1] = kInf;
  }
  if (k < 0) {
    std::fill(d, d + n, kInf);
    return;
  }
  int64_t j = 0;
  for (int64_t q = 0; q < n; ++q) {
    while (z[j + 1] < (double)q) ++j;
    const double dq = (double)(q - v[j]);
    d[q] = s2 * dq * dq + f[v[j]];
  }
}

void squared_edt(const uint8_t* feature, const std::array<int64_t, 3>& dims, const std::array<double, 3>& sp,
                 double* out, const uint8_t* query) {
  const int64_t D = dims[0], H = dims[1], W = dims[2];
  if (D * H * W == 0) return;
  const int64_t longest = std::max({D, H, W});
  Line L(longest);
  // Line-major scratch of a block of kBlock neighbouring lines [kBlock, len]: a strided read then
  // takes kBlock consecutive doubles (whole cache lines) rather than one per line.
  constexpr int64_t kBlock = 16;
  std::vector<double> blk(kBlock * longest), res(longest);

  // Transforms the lines base + j (j < nb) of length len and stride `stride`, in place; `wanted`
  // (optional, [nb]) says which lines are needed.
  auto block = [&](double* base, int64_t nb, int64_t len, int64_t stride, double step, const uint8_t* wanted) {
    if (wanted && std::find(wanted, wanted + nb, 1) == wanted + nb) return;
    for (int64_t i = 0; i < len; ++i) {
      const double* src = base + i * stride;
      for (int64_t j = 0; j < nb; ++j) blk[j * len + i] = src[j];
    }
    for (int64_t j = 0; j < nb; ++j) {
      double* line = &blk[j * len];
      if (wanted && !wanted[j]) continue;
      bool any = false;
      for (int64_t i = 0; i < len && !any; ++i) any = line[i] != kInf;
      if (!any) continue;  // a line with no finite value stays +inf
      edt_line(line, len, step, res.data(), L);
      std::copy_n(res.data(), len, line);
    }
    for (int64_t i = 0; i < len; ++i) {
      double* dst = base + i * stride;
      for (int64_t j = 0; j < nb; ++j) dst[j] = blk[j * len + i];
    }
  };

  const double sw2 = sp[2] * sp[2];
  for (int64_t zi = 0; zi < D; ++zi) {
    double* slice = out + zi * H * W;
    const uint8_t* fs = feature + zi * H * W;
    // Pass 1, along W (contiguous): the feature is binary, so two sweeps give the distance in
    // voxels to the nearest feature of the row; squared and scaled by the W spacing.
    bool slice_any = false;
    for (int64_t y = 0; y < H; ++y) {
      const uint8_t* fr = fs + y * W;
      double* o = slice + y * W;
      int64_t last = -1;  // last feature index seen sweeping right
      for (int64_t x = 0; x < W; ++x) {
        if (fr[x]) last = x;
        o[x] = last < 0 ? kInf : (double)(x - last);
      }
      if (last < 0) continue;  // no feature in the row: +inf throughout
      slice_any = true;
      last = -1;
      for (int64_t x = W - 1; x >= 0; --x) {
        if (fr[x]) last = x;
        if (last >= 0) o[x] = std::min(o[x], (double)(last - x));
        o[x] = o[x] == kInf ? kInf : sw2 * o[x] * o[x];
      }
    }
    // Pass 2, along H (stride W), while the slice is still in cache.
    if (H > 1 && slice_any)
      for (int64_t x0 = 0; x0 < W; x0 += kBlock) block(slice + x0, std::min(kBlock, W - x0), H, W, sp[1], nullptr);
  }
  // Pass 3, along D (stride H*W), only over the columns that hold a query voxel when asked.
  if (D > 1) {
    std::vector<uint8_t> column;  // [H*W]: the column (y, x) holds a query voxel
    if (query) {
      column.assign(H * W, 0);
      for (int64_t zi = 0; zi < D; ++zi)
        for (int64_t i = 0; i < H * W; ++i) column[i] |= query[zi * H * W + i] != 0;
    }
    for (int64_t i0 = 0; i0 < H * W; i0 += kBlock)
      block(out + i0, std::min(kBlock, H * W - i0), D, H * W, sp[0], query ? &column[i0] : nullptr);
  }
}

}  // namespace gb::eval

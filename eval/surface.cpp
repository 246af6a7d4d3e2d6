#include "eval/surface.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "eval/distance_transform.h"
#include "eval/stats.h"
#include "eval/mask_scan.h"

namespace gb::eval {

namespace {

struct Box {
  int64_t z0, z1, y0, y1, x0, x1;  // half-open
  int64_t d() const { return z1 - z0; }
  int64_t h() const { return y1 - y0; }
  int64_t w() const { return x1 - x0; }
  bool empty() const { return z1 <= z0; }
};


// Bounding box of the non-zero voxels of m.
Box bounding_box(const uint8_t* m, const std::array<int64_t, 3>& dims) {
  const int64_t D = dims[0], H = dims[1], W = dims[2];
  Box b{D, 0, H, 0, W, 0};
  for (int64_t z = 0; z < D; ++z)
    for (int64_t y = 0; y < H; ++y) {
      const uint8_t* row = m + (z * H + y) * W;
      if (all_zero(row, W)) continue;
      int64_t first = 0, last = W - 1;
      while (!row[first]) ++first;
      while (!row[last]) --last;
      b.z0 = std::min(b.z0, z), b.z1 = std::max(b.z1, z + 1);
      b.y0 = std::min(b.y0, y), b.y1 = std::max(b.y1, y + 1);
      b.x0 = std::min(b.x0, first), b.x1 = std::max(b.x1, last + 1);
    }
  if (b.z1 <= b.z0) b = {0, 0, 0, 0, 0, 0};
  return b;
}

// Border of m restricted to box bx, written into out [bx.d, bx.h, bx.w]. Everything outside the box
// is background (the box holds all foreground) or outside the volume: both count as background.
// ndim 2: no neighbours along D.
void border_in_box(const uint8_t* m, const std::array<int64_t, 3>& dims, const Box& bx, int ndim, uint8_t* out) {
  const int64_t H = dims[1], W = dims[2];
  const int64_t bd = bx.d(), bh = bx.h(), bw = bx.w();
  for (int64_t z = 0; z < bd; ++z)
    for (int64_t y = 0; y < bh; ++y) {
      const uint8_t* row = m + ((bx.z0 + z) * H + (bx.y0 + y)) * W + bx.x0;
      uint8_t* o = out + (z * bh + y) * bw;
      for (int64_t x = 0; x < bw; ++x) {
        if (!row[x]) {
          o[x] = 0;
          continue;
        }
        bool edge = x == 0 || x == bw - 1 || !row[x - 1] || !row[x + 1] || y == 0 || y == bh - 1 || !row[x - W] ||
                    !row[x + W];
        if (!edge && ndim == 3) edge = z == 0 || z == bd - 1 || !row[x - H * W] || !row[x + H * W];
        o[x] = edge ? 1 : 0;
      }
    }
}

}  // namespace

std::vector<uint8_t> border_mask(const uint8_t* m, const std::array<int64_t, 3>& dims, int ndim) {
  std::vector<uint8_t> out(dims[0] * dims[1] * dims[2], 0);
  Box bx = bounding_box(m, dims);
  if (bx.empty()) return out;
  std::vector<uint8_t> in(bx.d() * bx.h() * bx.w());
  border_in_box(m, dims, bx, ndim, in.data());
  for (int64_t z = 0; z < bx.d(); ++z)
    for (int64_t y = 0; y < bx.h(); ++y)
      std::copy_n(&in[(z * bx.h() + y) * bx.w()], bx.w(), &out[((bx.z0 + z) * dims[1] + bx.y0 + y) * dims[2] + bx.x0]);
  return out;
}

DirectedDistances surface_distances(const uint8_t* a, const uint8_t* b, const std::array<int64_t, 3>& dims, int ndim,
                                    const std::array<double, 3>& sp) {
  GB_CHECK(ndim == 3 || (ndim == 2 && dims[0] == 1), "surface_distances: a 2-D image must have D = 1");
  DirectedDistances r;
  Box ba = bounding_box(a, dims), bb = bounding_box(b, dims);
  if (ba.empty() || bb.empty()) return r;
  r.defined = true;
  // The union box: both borders inside. All buffers below are [bx.d, bx.h, bx.w].
  Box bx{std::min(ba.z0, bb.z0), std::max(ba.z1, bb.z1), std::min(ba.y0, bb.y0),
         std::max(ba.y1, bb.y1), std::min(ba.x0, bb.x0), std::max(ba.x1, bb.x1)};
  const std::array<int64_t, 3> bd{bx.d(), bx.h(), bx.w()};
  const int64_t n = bd[0] * bd[1] * bd[2];
  std::vector<uint8_t> border_a(n), border_b(n);
  border_in_box(a, dims, bx, ndim, border_a.data());
  border_in_box(b, dims, bx, ndim, border_b.data());
  std::vector<double> dt(n);
  auto directed = [&](const std::vector<uint8_t>& from, const std::vector<uint8_t>& to, std::vector<double>& out) {
    squared_edt(to.data(), bd, sp, dt.data(), from.data());
    for (int64_t i = 0; i < n; ++i)
      if (from[i]) out.push_back(std::sqrt(dt[i]));
  };
  directed(border_a, border_b, r.a_to_b);
  directed(border_b, border_a, r.b_to_a);
  return r;
}

DirectedDistances surface_distances(const Tensor& a, const Tensor& b, const std::array<double, 3>& spacing_xyz) {
  GB_CHECK(a.defined() && b.defined() && a.shape() == b.shape() && (a.dim() == 2 || a.dim() == 3),
           "surface_distances: expected two masks of one shape [H,W] or [D,H,W], got ", a.defined() ? a.desc() : "undefined",
           " and ", b.defined() ? b.desc() : "undefined");
  const int ndim = (int)a.dim();
  const std::array<int64_t, 3> dims{ndim == 3 ? a.size(0) : 1, a.size(ndim - 2), a.size(ndim - 1)};
  auto to_u8 = [](const Tensor& t) {
    std::vector<uint8_t> m;
    m.reserve(t.numel());
    for (int32_t v : t.to_vector_as<int32_t>()) m.push_back(v != 0);
    return m;
  };
  const auto ma = to_u8(a), mb = to_u8(b);
  return surface_distances(ma.data(), mb.data(), dims, ndim, {spacing_xyz[2], spacing_xyz[1], spacing_xyz[0]});
}

SurfaceMetrics summarise_surface(const std::vector<double>& ab, const std::vector<double>& ba) {
  SurfaceMetrics s;
  s.border_a = (int64_t)ab.size(), s.border_b = (int64_t)ba.size();
  if (ab.empty() || ba.empty()) return s;
  s.defined = true;
  double sum = 0, mx = 0;
  for (double d : ab) sum += d, mx = std::max(mx, d);
  for (double d : ba) sum += d, mx = std::max(mx, d);
  s.assd = sum / (double)(ab.size() + ba.size());
  s.msd = mx;
  std::vector<double> both(ab);
  both.insert(both.end(), ba.begin(), ba.end());
  s.hd95 = percentile(std::move(both), 95.0);
  return s;
}

}  // namespace gb::eval

// Masks for the eval tests: boxes and the integer ellipsoids of scripts/make_eval_golden.py (same
// integer formula, so the golden file needs no mask data).
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensor/tensor.h"

namespace gbtest {

// i32 [D, H, W] zeros.
inline gb::Tensor zeros3(int64_t D, int64_t H, int64_t W) { return gb::Tensor::zeros({D, H, W}, gb::DType::I32); }

// Sets voxels [z0, z1) x [y0, y1) x [x0, x1) of an i32 [D, H, W] (or [H, W] with z ignored) to v.
inline void fill_box(gb::Tensor& t, int64_t z0, int64_t z1, int64_t y0, int64_t y1, int64_t x0, int64_t x1, int32_t v = 1) {
  const bool is3 = t.dim() == 3;
  const int64_t H = t.size(t.dim() - 2), W = t.size(t.dim() - 1);
  int32_t* p = t.data<int32_t>();
  if (!is3) z0 = 0, z1 = 1;
  for (int64_t z = z0; z < z1; ++z)
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x) p[(z * H + y) * W + x] = v;
}

// The ellipsoid "blob" of make_eval_golden.py, or-ed into m (i32 [D, H, W]).
inline void add_blob(gb::Tensor& m, const int64_t c[3], const int64_t r[3], int64_t bumps) {
  const int64_t D = m.size(0), H = m.size(1), W = m.size(2);
  int32_t* p = m.data<int32_t>();
  auto inside = [&](int64_t z, int64_t y, int64_t x, int64_t rz, int64_t ry, int64_t rx) {
    const int64_t a = (z - c[0]) * ry * rx, b = (y - c[1]) * rz * rx, e = (x - c[2]) * rz * ry, R = rz * ry * rx;
    return a * a + b * b + e * e <= R * R;
  };
  for (int64_t z = 0; z < D; ++z)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        bool in = inside(z, y, x, r[0], r[1], r[2]);
        if (!in && bumps > 0) {
          const int64_t h = (x * 73856093) ^ (y * 19349663) ^ (z * 83492791);
          in = inside(z, y, x, r[0] + 1, r[1] + 1, r[2] + 1) && h % bumps == 0;
        }
        if (in) p[(z * H + y) * W + x] = 1;
      }
}

// A mask of the golden file: dims [D, H, W] and a list of {"c", "r", "bumps"} blobs.
inline gb::Tensor golden_mask(const nlohmann::json& dims, const nlohmann::json& blobs) {
  gb::Tensor m = zeros3(dims[0], dims[1], dims[2]);
  for (const auto& b : blobs) {
    const int64_t c[3] = {b["c"][0], b["c"][1], b["c"][2]}, r[3] = {b["r"][0], b["r"][1], b["r"][2]};
    add_blob(m, c, r, b.value("bumps", 0));
  }
  return m;
}

}  // namespace gbtest

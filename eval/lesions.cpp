#include "eval/lesions.h"
#include "eval/mask_scan.h"

#include <cmath>
#include <cstring>
#include <unordered_map>

#include <algorithm>

namespace gb::eval {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

void LesionScore::add(const LesionScore& o) {
  truth += o.truth, pred += o.pred, found += o.found;
  lesion_dice.insert(lesion_dice.end(), o.lesion_dice.begin(), o.lesion_dice.end());
  lesion_voxels.insert(lesion_voxels.end(), o.lesion_voxels.begin(), o.lesion_voxels.end());
}
double LesionScore::recall() const { return truth ? (double)found / (double)truth : kNaN; }
double LesionScore::precision() const { return pred ? (double)found / (double)pred : kNaN; }
double LesionScore::f1() const {
  const double p = precision(), r = recall();
  if (std::isnan(p) || std::isnan(r)) return kNaN;
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}
double LesionScore::mean_lesion_dice() const {
  if (lesion_dice.empty()) return kNaN;
  double s = 0;
  for (double d : lesion_dice) s += d;
  return s / (double)lesion_dice.size();
}

namespace {

// Connected components of m inside box [z0, z1) x [y0, y1) x [x0, x1) of a [D, H, W] buffer, by
// two raster passes with union-find (each voxel looks only at its already visited neighbours: 13
// in 3-D, 4 in 2-D). lab: i32 [bd * bh * bw] box-local, 0 background, 1.. numbered by first voxel
// in scan order (as eval/components.h numbers them); returns the component sizes.
std::vector<int64_t> label_in_box(const uint8_t* m, const std::array<int64_t, 3>& dims, const std::array<int64_t, 6>& box,
                                  int ndim, std::vector<int32_t>& lab) {
  const int64_t H = dims[1], W = dims[2];
  const int64_t z0 = box[0], y0 = box[2], x0 = box[4];
  const int64_t bd = box[1] - box[0], bh = box[3] - box[2], bw = box[5] - box[4];
  lab.assign(bd * bh * bw, 0);
  std::vector<int32_t> parent{0};  // provisional label -> parent; 0 unused
  auto find = [&](int32_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  };
  auto unite = [&](int32_t a, int32_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  };
  for (int64_t z = 0; z < bd; ++z)
    for (int64_t y = 0; y < bh; ++y) {
      const uint8_t* row = m + ((z0 + z) * H + (y0 + y)) * W + x0;
      int32_t* lrow = &lab[(z * bh + y) * bw];
      for (int64_t x = 0; x < bw; ++x) {
        if (!row[x]) continue;
        int32_t l = 0;
        auto see = [&](int64_t dz, int64_t dy, int64_t dx) {
          const int64_t zz = z + dz, yy = y + dy, xx = x + dx;
          if (zz < 0 || yy < 0 || yy >= bh || xx < 0 || xx >= bw) return;
          const int32_t n = lab[(zz * bh + yy) * bw + xx];
          if (!n) return;
          if (!l) l = n;
          else if (n != l) unite(l, n);
        };
        // Visited neighbours: the previous voxel of the row, the 3 of the previous row, and (3-D)
        // the 9 of the previous slice.
        see(0, 0, -1);
        for (int64_t dx = -1; dx <= 1; ++dx) see(0, -1, dx);
        if (ndim == 3)
          for (int64_t dy = -1; dy <= 1; ++dy)
            for (int64_t dx = -1; dx <= 1; ++dx) see(-1, dy, dx);
        if (!l) {
          l = (int32_t)parent.size();
          parent.push_back(l);
        }
        lrow[x] = l;
      }
    }
  // Roots -> final ids in order of first appearance; sizes.
  std::vector<int32_t> final_id(parent.size(), 0);
  std::vector<int64_t> sizes;
  for (auto& v : lab) {
    if (!v) continue;
    const int32_t r = find(v);
    if (!final_id[r]) {
      sizes.push_back(0);
      final_id[r] = (int32_t)sizes.size();
    }
    v = final_id[r];
    ++sizes[v - 1];
  }
  return sizes;
}

}  // namespace

LesionScore detect_lesions(const uint8_t* pred, const uint8_t* truth, const std::array<int64_t, 3>& dims, int ndim,
                           double iou_threshold) {
  GB_CHECK(ndim == 3 || (ndim == 2 && dims[0] == 1), "detect_lesions: a 2-D image must have D = 1");
  const int64_t D = dims[0], H = dims[1], W = dims[2];
  // Bounding box of both masks.
  std::array<int64_t, 6> box{D, 0, H, 0, W, 0};
  for (int64_t z = 0; z < D; ++z)
    for (int64_t y = 0; y < H; ++y) {
      const int64_t r = (z * H + y) * W;
      if (all_zero(pred + r, W) && all_zero(truth + r, W)) continue;
      for (int64_t x = 0; x < W; ++x)
        if (pred[r + x] | truth[r + x]) {
          box[0] = std::min(box[0], z), box[1] = std::max(box[1], z + 1);
          box[2] = std::min(box[2], y), box[3] = std::max(box[3], y + 1);
          box[4] = std::min(box[4], x), box[5] = std::max(box[5], x + 1);
        }
    }
  LesionScore s;
  if (box[1] <= box[0]) return s;
  std::vector<int32_t> lp, lt;
  const std::vector<int64_t> sp = label_in_box(pred, dims, box, ndim, lp), st = label_in_box(truth, dims, box, ndim, lt);
  s.truth = (int64_t)st.size(), s.pred = (int64_t)sp.size();
  // inter[(g, p)] = |g ∩ p| over pairs that overlap at all (few, however large the volume).
  std::unordered_map<uint64_t, int64_t> inter;
  for (size_t i = 0; i < lp.size(); ++i)
    if (lp[i] && lt[i]) ++inter[((uint64_t)lt[i] << 32) | (uint32_t)lp[i]];
  std::vector<int64_t> hit(s.truth, 0), pred_touching(s.truth, 0);
  std::vector<bool> found(s.truth, false);
  for (const auto& [key, n] : inter) {
    const int64_t g = (int64_t)(key >> 32) - 1, p = (int64_t)(key & 0xffffffffu) - 1;
    const int64_t uni = st[g] + sp[p] - n;
    if ((double)n / (double)uni > iou_threshold) found[g] = true;
    hit[g] += n, pred_touching[g] += sp[p];
  }
  for (int64_t g = 0; g < s.truth; ++g) {
    s.found += found[g];
    s.lesion_dice.push_back(2.0 * (double)hit[g] / (double)(st[g] + pred_touching[g]));
    s.lesion_voxels.push_back(st[g]);
  }
  return s;
}

LesionScore detect_lesions(const Tensor& pred, const Tensor& truth, double iou_threshold) {
  GB_CHECK(pred.defined() && truth.defined() && pred.shape() == truth.shape() && (pred.dim() == 2 || pred.dim() == 3),
           "detect_lesions: expected two masks of one shape [H,W] or [D,H,W], got ",
           pred.defined() ? pred.desc() : "undefined", " and ", truth.defined() ? truth.desc() : "undefined");
  const int ndim = (int)pred.dim();
  const std::array<int64_t, 3> dims{ndim == 3 ? pred.size(0) : 1, pred.size(ndim - 2), pred.size(ndim - 1)};
  auto to_u8 = [](const Tensor& t) {
    std::vector<uint8_t> m;
    m.reserve(t.numel());
    for (int32_t v : t.to_vector_as<int32_t>()) m.push_back(v != 0);
    return m;
  };
  const auto mp = to_u8(pred), mt = to_u8(truth);
  return detect_lesions(mp.data(), mt.data(), dims, ndim, iou_threshold);
}

}  // namespace gb::eval

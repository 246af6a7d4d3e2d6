#include "eval/components.h"

#include <algorithm>
#include <deque>

namespace gb::eval {

Components connected_components(const Tensor& mask) {
  GB_CHECK(mask.defined() && (mask.dim() == 2 || mask.dim() == 3), "connected_components: expected [H,W] or [D,H,W], got ",
           mask.defined() ? mask.desc() : "undefined");
  Tensor m = mask.to(DType::I32).contiguous();
  const bool is3d = m.dim() == 3;
  const int64_t D = is3d ? m.size(0) : 1, H = m.size(m.dim() - 2), W = m.size(m.dim() - 1);
  Components c;
  c.labels = Tensor::zeros(m.shape(), DType::I32);
  const int32_t* in = m.data<int32_t>();
  int32_t* lab = c.labels.data<int32_t>();
  std::deque<int64_t> q;
  const int64_t dz = is3d ? 1 : 0;
  for (int64_t start = 0; start < D * H * W; ++start) {
    if (!in[start] || lab[start]) continue;
    const int32_t id = (int32_t)c.sizes.size() + 1;
    int64_t n = 0;
    lab[start] = id;
    q.push_back(start);
    while (!q.empty()) {
      const int64_t v = q.front();
      q.pop_front();
      ++n;
      const int64_t z = v / (H * W), y = (v / W) % H, x = v % W;
      for (int64_t a = -dz; a <= dz; ++a)
        for (int64_t b = -1; b <= 1; ++b)
          for (int64_t e = -1; e <= 1; ++e) {
            const int64_t zz = z + a, yy = y + b, xx = x + e;
            if (zz < 0 || zz >= D || yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            const int64_t u = (zz * H + yy) * W + xx;
            if (in[u] && !lab[u]) lab[u] = id, q.push_back(u);
          }
    }
    c.sizes.push_back(n);
  }
  return c;
}

Tensor keep_largest_liver(const Tensor& labels) {
  GB_CHECK(labels.defined() && labels.dtype() == DType::I32, "keep_largest_liver: expected i32 labels, got ",
           labels.defined() ? labels.desc() : "undefined");
  Tensor x = labels.contiguous();
  Tensor fg = Tensor::empty(x.shape(), DType::I32);
  const int32_t* p = x.data<int32_t>();
  int32_t* f = fg.data<int32_t>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) f[i] = p[i] >= 1 ? 1 : 0;
  Components c = connected_components(fg);
  Tensor out = Tensor::zeros(x.shape(), DType::I32);
  if (c.sizes.empty()) return out;
  const int32_t keep = (int32_t)(std::max_element(c.sizes.begin(), c.sizes.end()) - c.sizes.begin()) + 1;
  const int32_t* cl = c.labels.data<int32_t>();
  int32_t* o = out.data<int32_t>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) o[i] = cl[i] == keep ? p[i] : 0;
  return out;
}

}  // namespace gb::eval

#include "xai/saliency_baselines.h"

#include <algorithm>
#include <cmath>

#include "tensor/philox.h"

namespace gb::xai {

Tensor random_map(const Shape& shape, uint64_t seed, uint64_t stream) {
  Tensor t = Tensor::empty(shape, DType::F64);
  Generator g(seed, stream);
  g.uniform_(t, 0.0, 1.0);
  return t;
}

Tensor sobel_edge_map(const Tensor& image, int64_t spatial_dims) {
  GB_CHECK(spatial_dims == 2 || spatial_dims == 3, "sobel_edge_map: spatial_dims must be 2 or 3, got ", spatial_dims);
  GB_CHECK(image.defined() && image.dim() >= spatial_dims, "sobel_edge_map: image ",
           image.defined() ? image.desc() : std::string("undefined"), " has fewer than ", spatial_dims, " dimensions");
  check_float(image, "sobel_edge_map", "image");
  const int64_t lead = image.dim() - spatial_dims;
  // A 2-D image is a volume of depth 1 whose z axis is neither differentiated nor smoothed.
  const int64_t D = spatial_dims == 3 ? image.size(lead) : 1;
  const int64_t H = image.size(image.dim() - 2), W = image.size(image.dim() - 1);
  const int64_t plane = D * H * W, C = plane ? image.numel() / plane : 0;
  const std::vector<double> x = image.to(Device::CPU).to_vector();  // [C, D, H, W]
  std::vector<double> g2(plane, 0.0);                               // [D, H, W] sum of squared gradients
  const int axes0 = spatial_dims == 3 ? 0 : 1;  // first differentiated axis (z only in 3-D)
  const double w[3] = {1, 2, 1};
  auto clamp = [](int64_t i, int64_t hi) { return std::min(std::max<int64_t>(i, 0), hi - 1); };
  for (int64_t c = 0; c < C; ++c) {
    const double* xc = x.data() + c * plane;
    auto at = [&](int64_t z, int64_t y, int64_t xx) { return xc[(clamp(z, D) * H + clamp(y, H)) * W + clamp(xx, W)]; };
    for (int64_t z = 0; z < D; ++z)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t xx = 0; xx < W; ++xx) {
          const int64_t p[3] = {z, y, xx};
          double sum2 = 0;
          for (int a = axes0; a < 3; ++a) {
            // the other spatial axes, smoothed [1, 2, 1] (z is not an axis in 2-D)
            int o[2], no = 0;
            for (int b = axes0; b < 3; ++b)
              if (b != a) o[no++] = b;
            double g = 0;
            const int r1 = 1, r2 = no == 2 ? 1 : 0;
            for (int i = -r1; i <= r1; ++i)
              for (int j = -r2; j <= r2; ++j) {
                int64_t q[3] = {p[0], p[1], p[2]};
                q[o[0]] += i;
                if (no == 2) q[o[1]] += j;
                const double wt = w[i + 1] * (no == 2 ? w[j + 1] : 1.0);
                int64_t qp[3] = {q[0], q[1], q[2]}, qm[3] = {q[0], q[1], q[2]};
                qp[a] += 1;
                qm[a] -= 1;
                g += wt * (at(qp[0], qp[1], qp[2]) - at(qm[0], qm[1], qm[2]));
              }
            sum2 += g * g;
          }
          g2[(z * H + y) * W + xx] += sum2;
        }
  }
  for (double& e : g2) e = std::sqrt(e);
  Shape s(image.shape().end() - spatial_dims, image.shape().end());
  return Tensor::from_vector(g2, s);
}

ChanceScores score_chance_maps(const Tensor& image, const Tensor& mask, const SaliencyOptions& opt, uint64_t seed,
                               const PerturbationProbe* probe) {
  GB_CHECK(mask.defined(), "score_chance_maps: mask is undefined");
  GB_CHECK(image.defined() && image.dim() >= mask.dim(), "score_chance_maps: image does not match the mask ",
           mask.desc());
  const int64_t sd = mask.dim();
  Shape tail(image.shape().end() - sd, image.shape().end());
  GB_CHECK(tail == mask.shape(), "score_chance_maps: image ", image.desc(), " does not end in the mask's shape ",
           mask.desc());
  ChanceScores r;
  Tensor rnd = random_map(mask.shape(), seed), edge = sobel_edge_map(image, sd);
  if (probe) {
    r.random = score_map(rnd, mask, *probe, opt);
    r.edge = score_map(edge, mask, *probe, opt);
  } else {
    r.random = score_map(rnd, mask, opt);
    r.edge = score_map(edge, mask, opt);
  }
  return r;
}

}  // namespace gb::xai

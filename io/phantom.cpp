#include "io/phantom.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>

#include "io/nifti.h"
#include "tensor/cpu/parallel.h"
#include "tensor/philox.h"

namespace gb::io {
namespace {

using V3 = std::array<double, 3>;  // (u, v, z) mm: u toward patient left, v posterior, z superior

double uni(Generator& g, double lo, double hi) { return lo + (hi - lo) * g.next_uniform(); }

// Smooth value noise in [-1, 1]: random values on a G^3 lattice spanning [-1.5, 1.5]^3 of a shape's
// normalised coordinates, interpolated with smoothstep weights (C1, no visible lattice creases).
struct Noise3 {
  static constexpr int G = 6;
  float v[G][G][G];
  void init(Generator& g) {
    for (auto& a : v)
      for (auto& b : a)
        for (float& c : b) c = (float)(2.0 * g.next_uniform() - 1.0);
  }
  double operator()(double x, double y, double z) const {
    double t[3] = {x, y, z};
    int i0[3];
    double w[3];
    for (int d = 0; d < 3; ++d) {
      double s = std::clamp((t[d] + 1.5) / 3.0 * (G - 1), 0.0, (double)(G - 1) - 1e-9);
      i0[d] = (int)s;
      double f = s - i0[d];
      w[d] = f * f * (3 - 2 * f);
    }
    double acc = 0;
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 2; ++c) {
          double wt = (a ? w[0] : 1 - w[0]) * (b ? w[1] : 1 - w[1]) * (c ? w[2] : 1 - w[2]);
          acc += wt * v[i0[0] + a][i0[1] + b][i0[2] + c];
        }
    return acc;
  }
};

// A deformed ellipsoid: inside when |q| + amp * noise(q) < 1, q = (p - c) / a.
struct Blob {
  V3 c{}, a{1, 1, 1};
  double amp = 0;
  Noise3 n;
  void init(Generator& g, V3 centre, V3 axes, double amplitude) {
    c = centre;
    a = axes;
    amp = amplitude;
    n.init(g);
  }
  // Normalised radius (< 1 inside); large when clearly outside the bounding box.
  double r(const V3& p) const {
    double q[3];
    for (int d = 0; d < 3; ++d) {
      q[d] = (p[d] - c[d]) / a[d];
      if (std::fabs(q[d]) > 1.0 + amp + 0.05) return 10.0;
    }
    return std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]) + amp * n(q[0], q[1], q[2]);
  }
  bool inside(const V3& p) const { return r(p) < 1.0; }
};

struct Tube {  // a vessel segment with a radius tapering from r0 at p0 to r1 at p1
  V3 p0{}, p1{};
  double r0 = 1, r1 = 1, hu = 150;
  bool inside(const V3& p) const {
    V3 d{p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]};
    double len2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    double t = len2 > 0 ? ((p[0] - p0[0]) * d[0] + (p[1] - p0[1]) * d[1] + (p[2] - p0[2]) * d[2]) / len2 : 0;
    t = std::clamp(t, 0.0, 1.0);
    double rr = r0 + t * (r1 - r0), dist2 = 0;
    for (int k = 0; k < 3; ++k) {
      double e = p[k] - (p0[k] + t * d[k]);
      dist2 += e * e;
    }
    return dist2 < rr * rr;
  }
};

struct Tumour {
  Blob shape;
  double hu = 30;
};

struct Anatomy {
  double body_a, body_b, body_amp;
  Noise3 body_noise, texture;
  double liver_hu, spleen_hu, kidney_hu, vessel_hu;
  Blob liver, lobe, spleen, kidney_l, kidney_r;
  std::vector<Tube> vessels;
  std::vector<Tumour> tumours;
};

inline double ellipse2(double u, double v, double cu, double cv, double a, double b) {
  double x = (u - cu) / a, y = (v - cv) / b;
  return x * x + y * y;
}

// One voxel: HU and label from the sharp geometry.
inline void paint(const Anatomy& A, const V3& p, float& hu, int32_t& lab) {
  const double u = p[0], v = p[1], z = p[2];
  lab = 0;
  double rb = std::sqrt(ellipse2(u, v, 0, 0, A.body_a, A.body_b)) +
              A.body_amp * A.body_noise(u / A.body_a, v / A.body_b, z / 200.0);
  if (rb > 1.0) { hu = -1000.f; return; }           // air
  if (rb > 0.90) { hu = -100.f; return; }           // subcutaneous fat
  if (rb > 0.84) { hu = 50.f; return; }             // abdominal wall muscle
  // Interior: visceral fat / bowel texture.
  hu = A.texture(u / 120.0, v / 100.0, z / 150.0) > 0.2 ? -90.f : 30.f;
  // Spine: vertebral body (cortex ring, cancellous core, discs every 30 mm), canal, posterior arch.
  double rv = ellipse2(u, v, 0, 55, 16, 16);
  bool disc = std::fmod(std::fabs(z + 1000.0), 30.0) < 5.0;
  if (rv < 1.0) { hu = disc ? 80.f : (rv > 0.64 ? 800.f : 300.f); return; }
  if (ellipse2(u, v, 0, 80, 8, 8) < 1.0) { hu = 20.f; return; }
  if (ellipse2(u, v, 0, 95, 22, 8) < 1.0) { hu = disc ? 50.f : 500.f; return; }
  if (ellipse2(u, v, -35, 85, 25, 18) < 1.0 || ellipse2(u, v, 35, 85, 25, 18) < 1.0) { hu = 50.f; return; }
  if (ellipse2(u, v, 15, 28, 10, 10) < 1.0) { hu = 180.f; return; }   // aorta
  if (ellipse2(u, v, -22, 25, 11, 11) < 1.0) { hu = 150.f; return; }  // inferior vena cava
  if (A.kidney_l.inside(p) || A.kidney_r.inside(p)) { hu = (float)A.kidney_hu; return; }
  if (rb < 0.84 && (A.liver.inside(p) || A.lobe.inside(p))) {
    lab = 1;
    hu = (float)A.liver_hu;
    for (const Tube& t : A.vessels)
      if (t.inside(p)) { hu = (float)A.vessel_hu; break; }
    for (const Tumour& t : A.tumours)
      if (t.shape.inside(p)) { hu = (float)t.hu; lab = 2; break; }
    return;
  }
  if (A.spleen.inside(p)) hu = (float)A.spleen_hu;
}

// In-place separable Gaussian along one axis of a [D, H, W] volume (edges clamped). Each output
// line is computed from its own input line, so threads never share outputs.
void blur_axis(std::vector<float>& vol, int64_t D, int64_t H, int64_t W, int axis, double sigma) {
  if (sigma <= 0) return;
  const int R = std::max(1, (int)std::ceil(3 * sigma));
  std::vector<float> k((size_t)(2 * R + 1));
  double s = 0;
  for (int i = -R; i <= R; ++i) s += (k[(size_t)(i + R)] = (float)std::exp(-0.5 * i * i / (sigma * sigma)));
  for (float& x : k) x = (float)(x / s);
  const int64_t n = axis == 0 ? D : (axis == 1 ? H : W);
  const int64_t stride = axis == 0 ? H * W : (axis == 1 ? W : 1);
  const int64_t lines = D * H * W / n;
  std::vector<float> src = vol;
  cpu::parallel_for(lines, 64, [&](int64_t b, int64_t e) {
    for (int64_t l = b; l < e; ++l) {
      // Base offset of line l: enumerate the two other axes.
      int64_t base;
      if (axis == 2) base = l * W;
      else if (axis == 1) base = (l / W) * H * W + (l % W);
      else base = l;
      for (int64_t i = 0; i < n; ++i) {
        float acc = 0;
        for (int t = -R; t <= R; ++t) {
          int64_t j = std::clamp<int64_t>(i + t, 0, n - 1);
          acc += k[(size_t)(t + R)] * src[(size_t)(base + j * stride)];
        }
        vol[(size_t)(base + i * stride)] = acc;
      }
    }
  });
}

}  // namespace

PhantomCase make_phantom(uint64_t seed, int64_t index, const PhantomOptions& opt) {
  GB_CHECK(opt.width >= 8 && opt.height >= 8 && opt.depth >= 1, "make_phantom: size must be at least 8x8x1, got ",
           opt.width, "x", opt.height, "x", opt.depth);
  GB_CHECK(opt.min_tumour_mm > 0 && opt.max_tumour_mm >= opt.min_tumour_mm, "make_phantom: bad tumour radius range [",
           opt.min_tumour_mm, ", ", opt.max_tumour_mm, "] mm");
  GB_CHECK(opt.min_tumours >= 0 && opt.max_tumours >= opt.min_tumours, "make_phantom: bad tumour count range [",
           opt.min_tumours, ", ", opt.max_tumours, "]");
  GB_CHECK(index >= 0, "make_phantom: index must be >= 0, got ", index);
  const int64_t W = opt.width, H = opt.height, D = opt.depth;
  Generator g(seed, 2 * (uint64_t)index);
  const double sx = opt.pixel_mm > 0 ? opt.pixel_mm : uni(g, 0.7, 0.8) * 512.0 / (double)W;
  static const double kSlices[4] = {2.5, 3.0, 4.0, 5.0};
  const double sz = opt.slice_mm > 0 ? opt.slice_mm : kSlices[g.next_int(0, 4)];
  const double z_half = 0.5 * (double)(D - 1) * sz;

  Anatomy A;
  A.body_a = uni(g, 140, 165);
  A.body_b = uni(g, 105, 120);
  A.body_amp = 0.04;
  A.body_noise.init(g);
  A.texture.init(g);
  A.liver_hu = uni(g, 56, 64);
  A.spleen_hu = uni(g, 44, 50);
  A.kidney_hu = uni(g, 140, 170);
  A.vessel_hu = uni(g, 150, 200);
  const V3 lc{uni(g, -65, -55), uni(g, -10, 0), uni(g, -10, 10)};
  A.liver.init(g, lc, {uni(g, 70, 85), uni(g, 60, 75), uni(g, 70, 90)}, 0.18);
  A.lobe.init(g, {lc[0] + 65, lc[1] - 30, lc[2] + 20}, {uni(g, 40, 55), uni(g, 24, 32), uni(g, 35, 45)}, 0.15);
  A.spleen.init(g, {uni(g, 75, 85), 25, lc[2] + 15}, {40, 28, 50}, 0.15);
  A.kidney_l.init(g, {62, 45, lc[2] - 50}, {26, 24, 50}, 0.08);
  A.kidney_r.init(g, {-62, 45, lc[2] - 55}, {26, 24, 50}, 0.08);

  auto in_liver = [&](const V3& p, double margin) {
    return std::min(A.liver.r(p), A.lobe.r(p)) < margin &&
           std::sqrt(ellipse2(p[0], p[1], 0, 0, A.body_a, A.body_b)) < 0.8;
  };
  if (opt.vessels) {
    // Portal/hepatic branches fanning out from the hilum (medial, posterior side of the liver).
    const V3 hilum{lc[0] + 25, lc[1] + 10, lc[2] - 5};
    const int nb = (int)g.next_int(4, 8);
    for (int b = 0; b < nb; ++b) {
      V3 d{uni(g, -1, 0.3), uni(g, -1, 1), uni(g, -1, 1)};
      double nd = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) + 1e-9;
      double len = uni(g, 35, 70), r0 = uni(g, 3, 5.5);
      Tube t;
      t.p0 = hilum;
      for (int k = 0; k < 3; ++k) t.p1[k] = hilum[k] + d[k] / nd * len;
      t.r0 = r0;
      t.r1 = r0 * 0.6;
      A.vessels.push_back(t);
      V3 d2{d[0] / nd + uni(g, -0.7, 0.7), d[1] / nd + uni(g, -0.7, 0.7), d[2] / nd + uni(g, -0.7, 0.7)};
      double n2 = std::sqrt(d2[0] * d2[0] + d2[1] * d2[1] + d2[2] * d2[2]) + 1e-9, len2 = uni(g, 20, 40);
      Tube c;
      c.p0 = t.p1;
      for (int k = 0; k < 3; ++k) c.p1[k] = t.p1[k] + d2[k] / n2 * len2;
      c.r0 = t.r1;
      c.r1 = t.r1 * 0.6;
      A.vessels.push_back(c);
    }
  }
  // Tumours: centres by rejection sampling inside the liver and inside the scanned slab.
  const int nt = (int)g.next_int(opt.min_tumours, opt.max_tumours + 1);
  for (int t = 0; t < nt; ++t) {
    double rad = opt.min_tumour_mm + (opt.max_tumour_mm - opt.min_tumour_mm) * std::pow(g.next_uniform(), 2.0);
    V3 c{};
    bool ok = false;
    for (int tries = 0; tries < 200 && !ok; ++tries) {
      c = {uni(g, lc[0] - 90, lc[0] + 110), uni(g, lc[1] - 80, lc[1] + 80),
           uni(g, -z_half + 0.3 * std::min(rad, z_half), z_half - 0.3 * std::min(rad, z_half))};
      ok = in_liver(c, 0.8);
    }
    if (!ok) continue;
    Tumour tu;
    V3 ax{rad * uni(g, 0.8, 1.2), rad * uni(g, 0.8, 1.2), rad * uni(g, 0.8, 1.2)};
    tu.shape.init(g, c, ax, 0.1);
    tu.hu = g.next_uniform() < 0.65 ? uni(g, 20, 40) : uni(g, 90, 120);
    A.tumours.push_back(tu);
  }

  // Paint [D, H, W] voxel by voxel; slices are independent, so threads split slices.
  std::vector<float> hu((size_t)(D * H * W));
  Tensor label = Tensor::empty({D, H, W}, DType::I32);
  int32_t* lab = label.data<int32_t>();
  const double cx = 0.5 * (double)(W - 1), cy = 0.5 * (double)(H - 1), cz = 0.5 * (double)(D - 1);
  cpu::parallel_for(D, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k)
      for (int64_t j = 0; j < H; ++j)
        for (int64_t i = 0; i < W; ++i) {
          V3 p{((double)i - cx) * sx, ((double)j - cy) * sx, ((double)k - cz) * sz};
          size_t o = (size_t)((k * H + j) * W + i);
          paint(A, p, hu[o], lab[o]);
        }
  });
  // Partial-volume blur, then scanner noise, then whole HU.
  blur_axis(hu, D, H, W, 2, opt.blur_sigma_xy);
  blur_axis(hu, D, H, W, 1, opt.blur_sigma_xy);
  blur_axis(hu, D, H, W, 0, opt.blur_sigma_z);
  Tensor image = Tensor::empty({D, H, W}, DType::F32);
  if (opt.noise_sd > 0) {
    Generator gn(seed, 2 * (uint64_t)index + 1);
    gn.normal_(image, 0.0, opt.noise_sd);
  } else {
    image.fill(0.0);
  }
  float* im = image.data<float>();
  for (size_t o = 0; o < hu.size(); ++o) im[o] = std::nearbyint(std::max(hu[o] + im[o], -1024.f));

  PhantomCase pc;
  pc.id = "volume-" + std::to_string(index);
  pc.tumours = (int)A.tumours.size();
  Affine aff{{{-sx, 0, 0, cx * sx}, {0, -sx, 0, cy * sx}, {0, 0, sz, -cz * sz}, {0, 0, 0, 1}}};
  pc.image.data = image;
  pc.label.data = label;
  for (Volume* v : {&pc.image, &pc.label}) {
    v->spacing = {sx, sx, sz};
    v->affine = aff;
  }
  return pc;
}

std::vector<std::string> write_phantom_dataset(const std::string& folder, uint64_t seed, int64_t count,
                                               const PhantomOptions& opt, int64_t first) {
  GB_CHECK(count >= 1, folder, ": write_phantom_dataset: count must be >= 1, got ", count);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) fail(folder, ": cannot create the phantom folder (", ec.message(), ")");
  std::vector<std::string> paths;
  for (int64_t i = first; i < first + count; ++i) {
    PhantomCase pc = make_phantom(seed, i, opt);
    const std::string n = std::to_string(i);
    const std::string img = (std::filesystem::path(folder) / ("volume-" + n + ".nii.gz")).string();
    const std::string seg = (std::filesystem::path(folder) / ("segmentation-" + n + ".nii.gz")).string();
    WriteOptions wi, wl;
    wi.dtype = NiftiDType::I16;
    wl.dtype = NiftiDType::U8;
    write_nifti(img, pc.image, wi);
    write_nifti(seg, pc.label, wl);
    paths.push_back(img);
  }
  return paths;
}

}  // namespace gb::io

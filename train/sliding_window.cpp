#include "train/sliding_window.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "autograd/node.h"
#include "autograd/ops.h"

namespace gb::train {

std::vector<int64_t> window_starts(int64_t size, int64_t patch, double overlap) {
  GB_CHECK(patch >= 1 && size >= patch, "sliding window: axis of ", size, " voxels cannot hold a window of ", patch);
  GB_CHECK(overlap >= 0 && overlap < 1, "sliding window: overlap must be in [0, 1), got ", overlap);
  if (size == patch) return {0};
  // At least one voxel per step, so rounded origins stay distinct.
  const double target = std::max(1.0, (double)patch * (1.0 - overlap));
  const int64_t n = (int64_t)std::ceil((double)(size - patch) / target) + 1;
  const double step = (double)(size - patch) / (double)(n - 1);
  std::vector<int64_t> s((size_t)n);
  for (int64_t i = 0; i < n; ++i) s[(size_t)i] = (int64_t)std::llround(step * (double)i);
  s.back() = size - patch;  // exact despite rounding
  return s;
}

Tensor gaussian_importance(const std::array<int64_t, 3>& patch, double sigma_scale) {
  GB_CHECK(sigma_scale > 0, "sliding window: sigma_scale must be > 0, got ", sigma_scale);
  std::array<std::vector<double>, 3> g;
  for (int a = 0; a < 3; ++a) {
    GB_CHECK(patch[a] >= 1, "sliding window: window size must be positive, got ", patch[a]);
    const double c = (double)(patch[a] - 1) / 2.0, sd = sigma_scale * (double)patch[a];
    for (int64_t x = 0; x < patch[a]; ++x) g[a].push_back(std::exp(-((double)x - c) * ((double)x - c) / (2 * sd * sd)));
  }
  Tensor w = Tensor::empty({patch[0], patch[1], patch[2]}, DType::F32);
  float* p = w.data<float>();
  for (int64_t z = 0; z < patch[0]; ++z)
    for (int64_t y = 0; y < patch[1]; ++y)
      for (int64_t x = 0; x < patch[2]; ++x)
        // Never 0 in f32 (e^-24 at a corner for sigma = 1/8): every voxel of a window counts.
        *p++ = (float)std::max(g[0][(size_t)z] * g[1][(size_t)y] * g[2][(size_t)x], 1e-30);
  return w;
}

Tensor predict_volume_3d(models::SegmentationModel& model, const io::Volume& image, const SlidingWindowOptions& opt,
                         Tensor* probabilities) {
  const char* op = "predict_volume_3d";
  const std::string what = image.path.empty() ? "image" : image.path;
  const Tensor& vol = image.data;
  GB_CHECK(vol.defined() && vol.dim() == 3, op, ": ", what, " must be [D,H,W], got ",
           vol.defined() ? vol.desc() : "an undefined tensor");
  const models::ModelConfig& mc = model.config();
  std::array<int64_t, 3> p = opt.patch;
  if (p[0] == 0 && p[1] == 0 && p[2] == 0) {
    GB_CHECK(mc.size.size() == 3, op, ": model '", mc.name, "' is not a 3-D model (size has ", mc.size.size(),
             " values); set SlidingWindowOptions::patch");
    p = {mc.size[0], mc.size[1], mc.size[2]};
  }
  GB_CHECK(p[0] >= 1 && p[1] >= 1 && p[2] >= 1, op, ": window size must be positive, got ", p[0], "x", p[1], "x", p[2]);
  GB_CHECK(mc.in_channels == 1, op, ": model '", mc.name, "' takes ", mc.in_channels, " channels; 3-D input has 1");
  GB_CHECK(opt.batch >= 1, op, ": batch must be >= 1, got ", opt.batch);
  const int64_t C = mc.classes;
  const std::array<int64_t, 3> n{vol.size(0), vol.size(1), vol.size(2)};
  std::array<int64_t, 3> P{}, before{};  // padded size, padding before the volume
  for (int a = 0; a < 3; ++a) {
    GB_CHECK(n[a] >= 1, op, ": ", what, " is empty: ", vol.desc());
    P[a] = std::max(n[a], p[a]);
    before[a] = (P[a] - n[a]) / 2;
  }
  // Windowed, padded volume f32 [P0, P1, P2].
  Tensor x = Tensor::zeros({P[0], P[1], P[2]}, DType::F32);
  x.view_slice(0, before[0], before[0] + n[0])
      .view_slice(1, before[1], before[1] + n[1])
      .view_slice(2, before[2], before[2] + n[2])
      .copy_from(io::to_unit_range(vol.to(DType::F32), opt.units, opt.window));
  const float* xs = x.data<float>();

  std::array<std::vector<int64_t>, 3> st;
  for (int a = 0; a < 3; ++a) st[a] = window_starts(P[a], p[a], opt.overlap);
  std::vector<std::array<int64_t, 3>> wins;
  for (int64_t z : st[0])
    for (int64_t y : st[1])
      for (int64_t w : st[2]) wins.push_back({z, y, w});
  const int64_t total = (int64_t)wins.size(), pn = p[0] * p[1] * p[2], Pn = P[0] * P[1] * P[2];

  Tensor imp = opt.gaussian ? gaussian_importance(p, opt.sigma_scale) : Tensor::ones({p[0], p[1], p[2]});
  const float* iw = imp.data<float>();
  Tensor acc = Tensor::zeros({C, P[0], P[1], P[2]}, DType::F32), wsum = Tensor::zeros({P[0], P[1], P[2]}, DType::F32);
  float* A = acc.data<float>();
  float* S = wsum.data<float>();

  DType dt = DType::F32;
  for (auto& [name, t] : model.named_parameters()) {
    dt = t.dtype();
    break;
  }
  NoGradGuard ng;
  nn::ParameterCacheScope weights_fixed;  // one weight standardisation for all windows
  const bool was_training = model.is_training();
  model.eval();
  try {
    for (int64_t w0 = 0; w0 < total; w0 += opt.batch) {
      const int64_t b = std::min(opt.batch, total - w0);
      // Windows of this batch: f32 [b, 1, pd, ph, pw].
      Tensor in = Tensor::empty({b, 1, p[0], p[1], p[2]}, DType::F32);
      float* ip = in.data<float>();
      for (int64_t k = 0; k < b; ++k) {
        const auto& o = wins[(size_t)(w0 + k)];
        for (int64_t z = 0; z < p[0]; ++z)
          for (int64_t y = 0; y < p[1]; ++y)
            std::memcpy(ip + (k * p[0] + z) * p[1] * p[2] + y * p[2], xs + ((o[0] + z) * P[1] + o[1] + y) * P[2] + o[2],
                        sizeof(float) * (size_t)p[2]);
      }
      Tensor logits = model.forward(in.to(dt).to(model.device()));
      GB_CHECK(logits.shape() == (Shape{b, C, p[0], p[1], p[2]}), op, ": model '", mc.name, "' gave ", logits.desc(),
               " for windows ", in.desc(), "; expected [", b, ",", C, ",", p[0], ",", p[1], ",", p[2], "]");
      // Softmax on the model's device, accumulated on the host.
      Tensor prob = softmax(logits, 1).to(DType::F32).to(Device::CPU).contiguous();  // [b, C, pd, ph, pw]
      const float* pp = prob.data<float>();
      for (int64_t k = 0; k < b; ++k) {
        const auto& o = wins[(size_t)(w0 + k)];
        for (int64_t z = 0; z < p[0]; ++z)
          for (int64_t y = 0; y < p[1]; ++y) {
            const int64_t dst = ((o[0] + z) * P[1] + o[1] + y) * P[2] + o[2], src = (z * p[1] + y) * p[2];
            for (int64_t xx = 0; xx < p[2]; ++xx) S[dst + xx] += iw[src + xx];
            for (int64_t c = 0; c < C; ++c) {
              const float* pc = pp + (k * C + c) * pn + src;
              float* ac = A + c * Pn + dst;
              for (int64_t xx = 0; xx < p[2]; ++xx) ac[xx] += pc[xx] * iw[src + xx];
            }
          }
      }
      if (opt.progress) opt.progress(w0 + b, total);
    }
  } catch (...) {
    model.train(was_training);
    throw;
  }
  model.train(was_training);

  // Normalise, crop the padding, argmax (first maximum wins ties, as gb::argmax).
  Tensor labels = Tensor::empty({n[0], n[1], n[2]}, DType::I32);
  Tensor probs = probabilities ? Tensor::empty({C, n[0], n[1], n[2]}, DType::F32) : Tensor();
  int32_t* L = labels.data<int32_t>();
  float* Q = probabilities ? probs.data<float>() : nullptr;
  const int64_t vn = n[0] * n[1] * n[2];
  for (int64_t z = 0; z < n[0]; ++z)
    for (int64_t y = 0; y < n[1]; ++y)
      for (int64_t xx = 0; xx < n[2]; ++xx) {
        const int64_t src = ((z + before[0]) * P[1] + y + before[1]) * P[2] + xx + before[2];
        const int64_t dst = (z * n[1] + y) * n[2] + xx;
        const float s = S[src];  // > 0: every voxel lies in a window with positive weights
        int32_t best = 0;
        float bv = 0;
        for (int64_t c = 0; c < C; ++c) {
          const float v = A[c * Pn + src] / s;
          if (Q) Q[c * vn + dst] = v;
          if (c == 0 || v > bv) {
            bv = v;
            best = (int32_t)c;
          }
        }
        L[dst] = best;
      }
  if (probabilities) *probabilities = probs;
  return labels;
}

}  // namespace gb::train

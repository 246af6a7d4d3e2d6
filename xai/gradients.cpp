#include "xai/gradients.h"

#include <algorithm>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"

namespace gb::xai {

FrozenParameters::FrozenParameters(nn::Module& m) {
  for (auto& [name, p] : m.named_parameters()) {
    saved_.push_back({p, p.meta() && p.meta()->requires_grad});
    Tensor t = p;
    if (t.is_leaf()) t.set_requires_grad(false);
  }
}

FrozenParameters::~FrozenParameters() {
  for (auto& [p, r] : saved_) {
    Tensor t = p;
    if (t.is_leaf()) t.set_requires_grad(r);
  }
}

Tensor input_on_model_device(const nn::Module& model, const Tensor& x) {
  const Device d = model.device();
  return x.device() == d ? x.contiguous().clone() : x.to(d);
}

namespace {
// Rows [s0, s1) as one batch [n, C, *spatial], on `dev` (built where make() builds, moved once).
Tensor make_batch(int64_t s0, int64_t s1, const MakeInput& make, Device dev) {
  std::vector<Tensor> rows;
  for (int64_t s = s0; s < s1; ++s) {
    Tensor r = make(s).to(Device::CPU);
    Shape sh = r.shape();
    sh.insert(sh.begin(), 1);
    rows.push_back(r.contiguous().view_reshape(sh));
  }
  Tensor b;
  if (rows.size() == 1) {
    b = rows[0];
  } else {
    NoGradGuard ng;
    b = concat(rows, 0).contiguous();
  }
  return dev == Device::CPU ? b.clone() : b.to(dev);  // a fresh leaf either way
}
// The target of rows [s0, s1): a shared region as is, a per-sample one sliced.
Target rows_of(const Target& t, int64_t s0, int64_t s1, int64_t spatial_dims) {
  if (t.mask.dim() == spatial_dims) return t;
  Target r = t;
  r.mask = t.mask.view_slice(0, s0, s1).contiguous();
  return r;
}
}  // namespace

void input_gradients(models::SegmentationModel& model, int64_t S, const MakeInput& make, const Target& target,
                     int64_t batch, const UseGradient& use) {
  GB_CHECK(batch >= 1, "input_gradients: batch must be >= 1, got ", batch);
  EvalGuard eg(model);
  FrozenParameters fp(model);
  const Device dev = model.device();
  for (int64_t s0 = 0; s0 < S; s0 += batch) {
    const int64_t s1 = std::min(S, s0 + batch);
    Tensor x = make_batch(s0, s1, make, dev);
    x.set_requires_grad(true);
    Tensor logits = model.forward(x);  // [n, classes, *spatial]
    Tensor T = target_scores(logits, rows_of(target, s0, s1, x.dim() - 2));  // [n]
    std::vector<double> tv = T.to_vector();
    sum(T).backward();
    Tensor g = x.grad();
    GB_CHECK(g.defined(), "input_gradients: no gradient reached the input");
    g = g.to(Device::CPU);  // the batch's gradient comes back once; rows are sliced on the host
    for (int64_t s = s0; s < s1; ++s) {
      Tensor gs = g.view_slice(0, s - s0, s - s0 + 1);
      Shape sh(gs.shape().begin() + 1, gs.shape().end());
      use(s, tv[s - s0], gs.contiguous().view_reshape(sh));
    }
  }
}

std::vector<double> target_values(models::SegmentationModel& model, int64_t S, const MakeInput& make,
                                  const Target& target, int64_t batch) {
  GB_CHECK(batch >= 1, "target_values: batch must be >= 1, got ", batch);
  EvalGuard eg(model);
  NoGradGuard ng;
  const Device dev = model.device();
  std::vector<double> out;
  for (int64_t s0 = 0; s0 < S; s0 += batch) {
    const int64_t s1 = std::min(S, s0 + batch);
    Tensor x = make_batch(s0, s1, make, dev);
    Tensor T = target_scores(model.forward(x), rows_of(target, s0, s1, x.dim() - 2));
    for (double v : T.to_vector()) out.push_back(v);
  }
  return out;
}

double bytes_per_sample(models::SegmentationModel& model, const Tensor& x, bool forward_only) {
  EvalGuard eg(model);
  FrozenParameters fp(model);
  double bytes = 0;
  {
    trace::TraceSession ts;
    Tensor xi = input_on_model_device(model, x);
    xi.set_requires_grad(!forward_only);
    Tensor y = model.forward(xi);
    for (const auto& r : ts.records()) {
      if (r.phase != "forward") continue;
      double n = 1;
      for (int64_t d : r.output) n *= (double)d;
      bytes += n * (double)dtype_size(x.dtype());
    }
  }
  return (forward_only ? 1.0 : 3.0) * std::max(bytes, 1.0);
}

int64_t batch_for_budget(double memory_mb, double bps, int64_t max_batch) {
  GB_CHECK(memory_mb > 0, "memory budget must be > 0 MB, got ", memory_mb);
  const double n = memory_mb * 1024.0 * 1024.0 / std::max(bps, 1.0);
  return std::max<int64_t>(1, std::min<int64_t>(max_batch, (int64_t)n));
}

int64_t gradient_batch(Device dev, double memory_mb, double cpu_pass_mb, double bps, int64_t max_batch) {
  const int64_t b = batch_for_budget(memory_mb, bps, max_batch);
  if (dev != Device::CPU) return b;
  GB_CHECK(cpu_pass_mb > 0, "CPU pass size must be > 0 MB, got ", cpu_pass_mb);
  return std::min(b, batch_for_budget(cpu_pass_mb, bps, max_batch));
}

}  // namespace gb::xai

#include "tests/harness/harness.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <sstream>

#include "autograd/backends.h"
#include "autograd/node.h"
#include "tensor/backend.h"
#include "tensor/backend_testing.h"
#include "tests/harness/cuda_emu.h"
#include "tensor/cpu/conv.h"
#include "tensor/cpu/kernel_mode.h"
#include "tensor/dispatch.h"

namespace gb::harness {

std::vector<OpCase>& registry() {
  static std::vector<OpCase> r;
  return r;
}
Registrar::Registrar(std::vector<OpCase> cs) {
  for (auto& c : cs) registry().push_back(std::move(c));
}

// A column of the optimised CPU kernels with every convolution pass given to one algorithm.
static HarnessBackend cpu_with_conv_algo(const char* name, cpu::ConvAlgo a) {
  return {name, [] { return true; },
          [a](const std::function<void()>& f) {
            cpu::ReferenceKernelsGuard g(false);
            cpu::ConvAlgoGuard algo(a);
            f();
          },
          Device::CPU};
}

std::vector<HarnessBackend>& backends() {
  static std::vector<HarnessBackend> b = {
      {"cpu-opt", [] { return true; },
       [](const std::function<void()>& f) {
         cpu::ReferenceKernelsGuard g(false);
         f();
       },
       Device::CPU},
      // The optimised kernels with convolutions forced onto vol2col + gemm: the shape rule sends
      // the small cases to the direct kernels (cpu-opt), and both algorithms stay checked.
      cpu_with_conv_algo("cpu-im2col", cpu::ConvAlgo::Im2col),
      // Convolutions forced onto Winograd F(2x2, 3x3) wherever it applies (2-D 3x3 stride 1, forward
      // and input gradient; vol2col + gemm for the rest): opt-in, the shape rule never picks it.
      cpu_with_conv_algo("cpu-winograd", cpu::ConvAlgo::Winograd),
      // The CUDA backend's kernels run on the CPU (tests/harness/cuda_emu.h): the arithmetic a GPU
      // would run, checked on every machine. Installed as the CPU backend for the run.
      {"cuda-emu", [] { return true; },
       [](const std::function<void()>& f) {
         struct Swap {
           Swap() { override_cpu_backend(&cuda::cuda_emu_backend()); }
           ~Swap() { override_cpu_backend(nullptr); }
         } swap;
         f();
       },
       Device::CPU, &cuda::cuda_emu_backend()},
      {"cuda", [] { static bool ok = init_backends().cuda_available; return ok; },
       [](const std::function<void()>& f) { f(); }, Device::CUDA},
  };
  return b;
}

// ---------------------------------------------------------------- inputs
Inputs make_inputs(const OpCase& c, DType dt, uint64_t seed, bool requires_grad) {
  Inputs r;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const InputSpec& s = c.inputs[i];
    Generator g(seed, 1000 + i);
    if (s.label_classes > 0) {
      Tensor u = Tensor::empty(s.shape, DType::F64);
      g.uniform_(u, 0, (double)s.label_classes);
      std::vector<int32_t> v(u.numel());
      auto uv = u.to_vector();
      for (size_t k = 0; k < v.size(); ++k) v[k] = std::min<int32_t>((int32_t)uv[k], (int32_t)s.label_classes - 1);
      if (s.ignore_value != 0)
        for (size_t k = 0; k < v.size(); k += 5) v[k] = s.ignore_value;
      Tensor t = Tensor::from_vector(v, s.shape);
      r.leaves.push_back(t);
      r.args.push_back(t);
      continue;
    }
    // Sample in f64 so the f32 and f64 runs see the same values (up to rounding).
    Shape leaf_shape = s.shape;
    if (s.noncontig) {
      GB_CHECK(s.shape.size() >= 2, "harness: noncontig input needs >= 2 dims");
      std::swap(leaf_shape[leaf_shape.size() - 1], leaf_shape[leaf_shape.size() - 2]);
    }
    Tensor u = Tensor::empty(leaf_shape, DType::F64);
    g.uniform_(u, s.lo, s.hi);
    if (s.distinct) {
      // A shuffled grid: rank of each uniform draw -> evenly spaced level. Gaps (hi-lo)/n >> fd eps.
      auto v = u.to_vector();
      std::vector<size_t> idx(v.size());
      for (size_t k = 0; k < idx.size(); ++k) idx[k] = k;
      std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
      double* p = u.data<double>();
      const double n = (double)v.size();
      for (size_t rank = 0; rank < idx.size(); ++rank) p[idx[rank]] = s.lo + (s.hi - s.lo) * (rank + 0.5) / n;
    }
    Tensor leaf = u.to(dt);
    if (requires_grad && s.grad) leaf.set_requires_grad(true);
    r.leaves.push_back(leaf);
    if (s.noncontig) {
      const int64_t nd = (int64_t)s.shape.size();
      r.args.push_back(transpose(leaf, nd - 1, nd - 2));
    } else {
      r.args.push_back(leaf);
    }
  }
  return r;
}

namespace {

std::string fmt_idx(int64_t flat, const Shape& s) {
  std::vector<int64_t> idx(s.size());
  for (int i = (int)s.size() - 1; i >= 0; --i) {
    idx[i] = s[i] ? flat % s[i] : 0;
    flat = s[i] ? flat / s[i] : 0;
  }
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < idx.size(); ++i) os << (i ? "," : "") << idx[i];
  os << ']';
  return os.str();
}

// Compares got vs ref: |got - ref| <= atol + rtol |ref|. Returns "" when all close, else the worst.
std::string compare(const std::vector<double>& got, const std::vector<double>& ref, const Shape& shape,
                    double rtol, double atol, const std::string& what) {
  if (got.size() != ref.size()) return what + ": size mismatch";
  double worst = -1;
  int64_t wi = -1;
  for (size_t i = 0; i < ref.size(); ++i) {
    double err = std::fabs(got[i] - ref[i]);
    double lim = atol + rtol * std::fabs(ref[i]);
    double ratio = std::isfinite(err) ? err / lim : INFINITY;
    if (!(ratio <= 1.0) && (wi < 0 || !(ratio <= worst))) {
      worst = ratio;
      wi = (int64_t)i;
    }
  }
  if (wi < 0) return "";
  std::ostringstream os;
  os.precision(10);
  os << what << " worst at " << fmt_idx(wi, shape) << ": got " << got[wi] << " want " << ref[wi]
     << " (|err| " << std::fabs(got[wi] - ref[wi]) << " > " << atol << " + " << rtol << "*|want|)";
  return os.str();
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

// Fixed projection r for L = sum(r * y).
Tensor projection(const Shape& s, DType dt, uint64_t seed) {
  Tensor r = Tensor::empty(s, DType::F64);
  Generator g(seed, 7);
  g.uniform_(r, -1, 1);
  return r.to(dt);
}

double loss_value(const Tensor& y, const Tensor& r) {
  auto a = y.to_vector(), b = r.to_vector();
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

template <class F> CheckResult guarded(F&& f) {
  CheckResult r;
  r.ran = true;
  try {
    r.detail = f();
    r.ok = r.detail.empty();
  } catch (const std::exception& e) {
    r.ok = false;
    r.detail = std::string("exception: ") + e.what();
  }
  return r;
}

bool any_grad_input(const OpCase& c) {
  for (auto& s : c.inputs)
    if (s.grad && s.label_classes == 0) return true;
  return false;
}

// Runs fn on fresh inputs and back-propagates r; returns (output, grads of grad-checked leaves).
struct Run {
  Tensor y;
  std::vector<Tensor> grads;  // per input; undefined where not checked
};
Run forward_backward(const OpCase& c, DType dt, uint64_t seed, Device dev, bool do_backward) {
  Inputs in = make_inputs(c, dt, seed, do_backward);
  if (dev != Device::CPU) {
    // Move leaves to the device, keeping them leaves; rebuild noncontig views there.
    for (size_t i = 0; i < in.leaves.size(); ++i) {
      Tensor d = in.leaves[i].detach().to(dev);
      if (in.leaves[i].requires_grad()) d.set_requires_grad(true);
      in.leaves[i] = d;
      const int64_t nd = (int64_t)c.inputs[i].shape.size();
      in.args[i] = c.inputs[i].noncontig ? transpose(d, nd - 1, nd - 2) : d;
    }
  }
  Run r;
  r.y = c.fn(in.args);
  if (do_backward && r.y.requires_grad()) {
    Tensor proj = projection(r.y.shape(), dt, seed).to(dev);
    r.y.backward(proj);
  }
  r.grads.resize(in.leaves.size());
  for (size_t i = 0; i < in.leaves.size(); ++i)
    if (in.leaves[i].requires_grad()) {
      Tensor g = in.leaves[i].grad();
      if (g.defined()) {
        // Report gradients in the op's argument layout (transpose back for noncontig inputs).
        const int64_t nd = (int64_t)c.inputs[i].shape.size();
        if (c.inputs[i].noncontig) g = g.view_permute([&] {
          std::vector<int64_t> p(nd);
          for (int64_t k = 0; k < nd; ++k) p[k] = k;
          std::swap(p[nd - 1], p[nd - 2]);
          return p;
        }());
        r.grads[i] = g.to(Device::CPU).contiguous();
      }
    }
  r.y = r.y.detach().to(Device::CPU);
  return r;
}

}  // namespace

CheckResult check_forward(const OpCase& c, uint64_t seed) {
  return guarded([&]() -> std::string {
    for (DType dt : {DType::F32, DType::F64}) {
      Run a = forward_backward(c, dt, seed, Device::CPU, false);
      Run b = forward_backward(c, dt, seed, Device::CPU, false);
      auto va = a.y.to_vector(), vb = b.y.to_vector();
      for (size_t i = 0; i < va.size(); ++i) {
        if (!std::isfinite(va[i])) return std::string("non-finite output in ") + dtype_name(dt);
        if (std::memcmp(&va[i], &vb[i], sizeof(double)) != 0)
          return std::string("not bitwise reproducible in ") + dtype_name(dt);
      }
    }
    return "";
  });
}

CheckResult check_grad(const OpCase& c, uint64_t seed) {
  if (!c.check_grad || !any_grad_input(c)) return CheckResult{};
  return guarded([&]() -> std::string {
    Inputs in = make_inputs(c, DType::F64, seed, true);
    Tensor y = c.fn(in.args);
    if (!y.requires_grad()) return "output does not require grad although inputs do";
    Tensor r = projection(y.shape(), DType::F64, seed);
    y.backward(r);
    for (size_t i = 0; i < in.leaves.size(); ++i) {
      if (!c.inputs[i].grad || c.inputs[i].label_classes) continue;
      Tensor leaf = in.leaves[i];
      Tensor g = leaf.grad();
      std::vector<double> analytic = g.defined() ? g.to_vector() : std::vector<double>(leaf.numel(), 0.0);
      std::vector<double> numeric(leaf.numel());
      NoGradGuard ng;
      double* p = leaf.data<double>();  // leaves are contiguous
      for (int64_t k = 0; k < leaf.numel(); ++k) {
        const double keep = p[k];
        p[k] = keep + c.fd_eps;
        double lp = loss_value(c.fn(in.args), r);
        p[k] = keep - c.fd_eps;
        double lm = loss_value(c.fn(in.args), r);
        p[k] = keep;
        numeric[k] = (lp - lm) / (2 * c.fd_eps);
      }
      std::string e = compare(analytic, numeric, leaf.shape(), c.grad_rtol, c.grad_atol,
                              "input " + std::to_string(i) + " analytic vs numeric");
      if (!e.empty()) return e;
    }
    return "";
  });
}

CheckResult check_accumulate(const OpCase& c, uint64_t seed) {
  if (!c.check_grad || !any_grad_input(c)) return CheckResult{};
  return guarded([&]() -> std::string {
    Inputs in = make_inputs(c, DType::F64, seed, true);
    Tensor y = c.fn(in.args);
    Tensor r = projection(y.shape(), DType::F64, seed);
    // 1. The op's own backward, called directly: into zeroed buffers (G), then into buffers
    //    pre-filled with P. The contract says the second gives P + G: it must add, never assign.
    //    (Through the engine alone an assigning op with a single consumer would go unnoticed.)
    if (const auto& node = y.grad_fn(); node && node->backward) {
      std::vector<Tensor> zero(node->inputs.size()), filled(node->inputs.size()), prefill(node->inputs.size());
      for (size_t i = 0; i < node->inputs.size(); ++i) {
        const Edge& e = node->inputs[i];
        if (!e.meta) continue;
        zero[i] = Tensor::zeros(e.shape, e.dtype);
        prefill[i] = Tensor::empty(e.shape, e.dtype);
        Generator g(seed, 500 + i);
        g.uniform_(prefill[i], -1, 1);
        filled[i] = prefill[i].clone();
      }
      node->backward(r, zero);
      node->backward(r, filled);
      for (size_t i = 0; i < zero.size(); ++i) {
        if (!zero[i].defined()) continue;
        auto got = filled[i].to_vector(), p = prefill[i].to_vector(), gz = zero[i].to_vector();
        std::vector<double> want(got.size());
        for (size_t k = 0; k < want.size(); ++k) want[k] = p[k] + gz[k];
        std::string e = compare(got, want, zero[i].shape(), 1e-12, 1e-12,
                                "op '" + node->op + "' backward into a pre-filled gradient of input " +
                                    std::to_string(i) + " (must add)");
        if (!e.empty()) return e;
      }
    }
    // 2. Through the engine: two backward passes give exactly twice the leaf gradients.
    y.backward(r, /*retain_graph=*/true);
    std::vector<std::vector<double>> once;
    for (auto& l : in.leaves) once.push_back(l.requires_grad() && l.grad().defined() ? l.grad().to_vector() : std::vector<double>{});
    y.backward(r);
    for (size_t i = 0; i < in.leaves.size(); ++i) {
      if (once[i].empty()) continue;
      auto twice = in.leaves[i].grad().to_vector();
      std::vector<double> want(once[i].size());
      for (size_t k = 0; k < want.size(); ++k) want[k] = 2 * once[i][k];
      std::string e = compare(twice, want, in.leaves[i].shape(), 1e-12, 1e-14,
                              "input " + std::to_string(i) + " after two backward passes");
      if (!e.empty()) return e;
    }
    return "";
  });
}

const char* status_name(BackendCheck::Status s) {
  switch (s) {
    case BackendCheck::Status::passes: return "passes";
    case BackendCheck::Status::fails: return "fails";
    case BackendCheck::Status::not_supported: return "not supported";
    case BackendCheck::Status::not_available: return "n/a";
  }
  return "?";
}

namespace {
// Turns the overflow sentinels on for one scope; what they caught is read with take_overflow_reports.
struct GuardScope {
  GuardScope() : prev(overflow_guards()) { set_overflow_guards(true); }
  ~GuardScope() { set_overflow_guards(prev); }
  bool prev;
};
std::string overflow_detail(const std::string& who) {
  auto reps = take_overflow_reports();
  if (reps.empty()) return "";
  std::string d = who + ": " + reps[0];
  if (reps.size() > 1) d += " (and " + std::to_string(reps.size() - 1) + " more)";
  return d;
}
}  // namespace

std::vector<BackendCheck> check_backends_each(const OpCase& c, uint64_t seed) {
  std::vector<BackendCheck> out;
  Run ref;
  std::set<KernelUse> uses;
  std::string ref_error;
  take_overflow_reports();  // start clean
  try {
    GuardScope gs;
    KernelUseRecorder rec;
    cpu::ReferenceKernelsGuard g(true);
    ref = forward_backward(c, DType::F32, seed, Device::CPU, c.check_grad);
    uses = rec.uses();
  } catch (const std::exception& e) {
    ref_error = std::string("cpu-ref: exception: ") + e.what();
  }
  // The reference's outputs are kept for the comparison; its other buffers are freed by now.
  if (ref_error.empty()) ref_error = overflow_detail("cpu-ref");
  for (auto& be : backends()) {
    BackendCheck bc;
    bc.backend = be.name;
    if (!ref_error.empty()) {
      bc.status = BackendCheck::Status::fails;
      bc.detail = ref_error;
      out.push_back(bc);
      continue;
    }
    if (!be.available()) {
      out.push_back(bc);
      continue;
    }
    if (be.device != Device::CPU || be.emulates) {
      auto missing = be.emulates ? unsupported_ops(uses, *be.emulates) : unsupported_ops(uses, be.device);
      if (!missing.empty()) {
        bc.status = BackendCheck::Status::not_supported;
        for (size_t i = 0; i < missing.size(); ++i) bc.detail += (i ? "; " : "") + missing[i];
        out.push_back(bc);
        continue;
      }
    }
    std::string e;
    try {
      GuardScope gs;
      Run got;
      be.scope([&] { got = forward_backward(c, DType::F32, seed, be.device, c.check_grad); });
      auto rv = ref.y.to_vector();
      e = compare(got.y.to_vector(), rv, ref.y.shape(), c.f32_rtol, c.f32_atol * std::max(1.0, max_abs(rv)),
                  be.name + " forward");
      for (size_t i = 0; e.empty() && i < ref.grads.size(); ++i) {
        if (!ref.grads[i].defined()) continue;
        if (!got.grads[i].defined()) {
          e = be.name + ": missing gradient for input " + std::to_string(i);
          break;
        }
        auto gv = ref.grads[i].to_vector();
        e = compare(got.grads[i].to_vector(), gv, ref.grads[i].shape(), c.f32_rtol,
                    c.f32_atol * std::max(1.0, max_abs(gv)), be.name + " grad of input " + std::to_string(i));
      }
    } catch (const std::exception& ex) {
      e = be.name + ": exception: " + ex.what();
    }
    const std::string ov = overflow_detail(be.name);  // `got` is freed: its guards are checked
    if (e.empty()) e = ov;
    bc.status = e.empty() ? BackendCheck::Status::passes : BackendCheck::Status::fails;
    bc.detail = e;
    out.push_back(bc);
  }
  // The reference's own outputs (kept for the comparisons) are checked as they are freed.
  ref = Run();
  const std::string tail = overflow_detail("cpu-ref");
  if (!tail.empty())
    for (auto& bc : out) {
      bc.status = BackendCheck::Status::fails;
      bc.detail = tail;
    }
  return out;
}

CheckResult backend_verdict(const std::vector<BackendCheck>& each) {
  CheckResult r;
  r.ran = true;
  r.ok = true;
  for (const auto& b : each)
    if (b.status == BackendCheck::Status::fails) {
      r.ok = false;
      r.detail = b.detail;
      break;
    }
  return r;
}

CheckResult check_backends(const OpCase& c, uint64_t seed) { return backend_verdict(check_backends_each(c, seed)); }

CaseReport run_case(const OpCase& c, uint64_t seed) {
  CaseReport r;
  r.forward = check_forward(c, seed);
  r.grad = check_grad(c, seed);
  r.accumulate = check_accumulate(c, seed);
  r.backends = check_backends_each(c, seed);
  r.backend = backend_verdict(r.backends);
  return r;
}

}  // namespace gb::harness

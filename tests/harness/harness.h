// The op harness (after ggml's test-backend-ops): every op registered once as a table of cases;
// each case is run through the same checks:
//   forward    runs in f32 and f64, output finite, bitwise identical when run twice
//   grad       central differences in f64 vs the analytic backward, for every input that takes a
//              gradient (L = sum(r * y) with a fixed random r, so every output element matters)
//   accumulate backward twice (retain_graph) gives exactly twice the gradient (the += contract)
//   backend    every other backend (optimised CPU kernels as chosen, "cpu-opt", and with convolutions
//              forced onto vol2col + gemm, "cpu-im2col"; the CUDA kernels' code run on the CPU,
//              "cuda-emu" (tests/harness/cuda_emu.h); CUDA when present) vs the CPU reference
//              kernels, forward output and every input gradient, in f32. Per backend the case
//              "passes", "fails" (worst element), or is "not supported": the kernels the case
//              calls (recorded on the reference run) are not all ported there (tensor/backend.h
//              supports()); that is reported, never failed, so a backend can be ported op by op.
//              Every run has overflow sentinels around every buffer it allocates
//              (set_overflow_guards): a kernel writing outside its output fails the case.
// Register cases from tests/harness/ops_<family>.cpp with GB_HARNESS_CASES.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "tensor/backend.h"

namespace gb::harness {

struct InputSpec {
  Shape shape;
  bool grad = true;         // gradient-check this input
  bool noncontig = false;   // hand the op a transposed (non-contiguous) view of the leaf
  double lo = -1, hi = 1;   // uniform sampling range
  bool distinct = false;    // values on a shuffled grid: no ties, away from kinks (max, relu)
  int64_t label_classes = 0;  // > 0: an i32 label tensor with values in [0, label_classes)
  int32_t ignore_value = 0;   // with labels: when != 0, a few labels are set to this (ignore_index)
  bool positive_definite = false;  // reserved
};

inline InputSpec in(Shape s) { return InputSpec{std::move(s)}; }
inline InputSpec in_nc(Shape s) { InputSpec i{std::move(s)}; i.noncontig = true; return i; }
inline InputSpec in_range(Shape s, double lo, double hi) { InputSpec i{std::move(s)}; i.lo = lo; i.hi = hi; return i; }
inline InputSpec in_distinct(Shape s) { InputSpec i{std::move(s)}; i.distinct = true; return i; }
inline InputSpec in_const(Shape s) { InputSpec i{std::move(s)}; i.grad = false; return i; }
inline InputSpec in_labels(Shape s, int64_t classes) {
  InputSpec i{std::move(s)}; i.grad = false; i.label_classes = classes; return i;
}

struct OpCase {
  std::string op;     // op name as in autograd/ops.h, e.g. "conv2d"
  std::string label;  // variant, e.g. "3x3 stride 2 pad 1"
  std::vector<InputSpec> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  double grad_rtol = 1e-5, grad_atol = 1e-7;  // f64 central differences with eps = fd_eps
  double fd_eps = 1e-6;
  double f32_rtol = 2e-4, f32_atol = 1e-5;     // backend comparisons in f32 (atol scaled by max|ref|)
  bool check_grad = true;                      // false only for non-differentiable ops
  std::string name() const { return op + " / " + label; }
};

struct CheckResult {
  bool ran = false, ok = false;
  std::string detail;  // worst element or exception
};
// One backend's verdict on one case.
struct BackendCheck {
  enum class Status { passes, fails, not_supported, not_available };
  std::string backend;
  Status status = Status::not_available;
  std::string detail;  // the worst element (fails), the missing kernels (not supported)
};
const char* status_name(BackendCheck::Status s);  // "passes", "fails", "not supported", "n/a"

struct CaseReport {
  CheckResult forward, grad, accumulate, backend;  // backend: ok unless some backend fails
  std::vector<BackendCheck> backends;              // one per entry of backends(), in order
};

std::vector<OpCase>& registry();
struct Registrar {
  explicit Registrar(std::vector<OpCase> cs);
};

// Backends other than the CPU reference. Each runs `fn` with inputs already converted for it and
// returns the output and input gradients moved back to the CPU.
struct HarnessBackend {
  std::string name;
  std::function<bool()> available;
  std::function<void(const std::function<void()>&)> scope;  // e.g. turns reference kernels off
  Device device = Device::CPU;
  const Backend* emulates = nullptr;  // a backend run on the CPU: its own support table decides
};
std::vector<HarnessBackend>& backends();

CaseReport run_case(const OpCase& c, uint64_t seed = 1234);
CheckResult check_forward(const OpCase& c, uint64_t seed);
CheckResult check_grad(const OpCase& c, uint64_t seed);
CheckResult check_accumulate(const OpCase& c, uint64_t seed);
CheckResult check_backends(const OpCase& c, uint64_t seed);
// Per backend, with the reference run's own sentinel check folded into the first entry's failure.
std::vector<BackendCheck> check_backends_each(const OpCase& c, uint64_t seed);
// The backend check as one verdict: ok unless some backend fails (not supported is not a failure).
CheckResult backend_verdict(const std::vector<BackendCheck>& each);

// Materialise the inputs of a case (leaves) and the tensors handed to the op (views when noncontig).
struct Inputs {
  std::vector<Tensor> leaves, args;
};
Inputs make_inputs(const OpCase& c, DType dt, uint64_t seed, bool requires_grad);

}  // namespace gb::harness

#define GB_HARNESS_CAT2(a, b) a##b
#define GB_HARNESS_CAT(a, b) GB_HARNESS_CAT2(a, b)
// GB_HARNESS_CASES({ OpCase{...}, OpCase{...} });
#define GB_HARNESS_CASES(...) \
  static ::gb::harness::Registrar GB_HARNESS_CAT(gb_harness_reg_, __LINE__)(std::vector<::gb::harness::OpCase> __VA_ARGS__)

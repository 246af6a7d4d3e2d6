// glassbox_ops: the op harness as a tool.
//   glassbox_ops list            every registered case with its status (runs all checks)
//   glassbox_ops test [FILTER]   forward + backend checks
//   glassbox_ops grad [FILTER]   f64 gradient checks and the accumulate contract
//   glassbox_ops perf [FILTER]   forward+backward wall time per case (f32, optimised kernels)
// FILTER is a substring of "op / label". Exit status 1 when any check fails.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/harness/harness.h"

using namespace gb;
using namespace gb::harness;

static const char* mark(const CheckResult& r) { return !r.ran ? "-" : r.ok ? "ok" : "FAIL"; }

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "list";
  std::string filter = argc > 2 ? argv[2] : "";
  if (mode != "list" && mode != "test" && mode != "grad" && mode != "perf") {
    std::fprintf(stderr, "usage: glassbox_ops [list|test|grad|perf] [FILTER]\n");
    return 2;
  }
  int failed = 0, n = 0;
  if (mode == "list") std::printf("%-48s %-8s %-8s %-10s %-8s\n", "op / case", "forward", "grad f64", "accumulate", "backends");
  for (auto& c : registry()) {
    if (!filter.empty() && c.name().find(filter) == std::string::npos) continue;
    ++n;
    if (mode == "perf") {
      auto t0 = std::chrono::steady_clock::now();
      int reps = 0;
      do {
        Inputs in = make_inputs(c, DType::F32, 1234, c.check_grad);
        Tensor y = c.fn(in.args);
        if (y.requires_grad()) y.backward(Tensor::ones(y.shape(), y.dtype()));
        ++reps;
      } while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200));
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
      std::printf("%-48s %10.3f ms (fwd+bwd, f32, %d reps)\n", c.name().c_str(), ms, reps);
      continue;
    }
    CaseReport r;
    if (mode == "list" || mode == "test") {
      r.forward = check_forward(c, 1234);
      r.backend = check_backends(c, 1234);
    }
    if (mode == "list" || mode == "grad") {
      r.grad = check_grad(c, 1234);
      r.accumulate = check_accumulate(c, 1234);
    }
    bool bad = (r.forward.ran && !r.forward.ok) || (r.grad.ran && !r.grad.ok) ||
               (r.accumulate.ran && !r.accumulate.ok) || (r.backend.ran && !r.backend.ok);
    failed += bad;
    std::printf("%-48s %-8s %-8s %-10s %-8s\n", c.name().c_str(), mark(r.forward), mark(r.grad), mark(r.accumulate),
                mark(r.backend));
    for (auto* x : {&r.forward, &r.grad, &r.accumulate, &r.backend})
      if (x->ran && !x->ok) std::printf("    %s\n", x->detail.c_str());
  }
  bool cuda = backends()[1].available();
  std::printf("\n%d cases, %d failed; backends compared against cpu-ref: cpu-opt%s\n", n, failed,
              cuda ? ", cuda" : " (cuda: not available in this build/machine)");
  return failed ? 1 : 0;
}

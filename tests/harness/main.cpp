// glassbox_ops: the op harness as a tool.
//   glassbox_ops list            every registered case with its status (runs all checks), and a
//                                column per backend: passes / FAILS / not supported / n/a
//   glassbox_ops test [FILTER]   forward + backend checks
//   glassbox_ops grad [FILTER]   f64 gradient checks and the accumulate contract
//   glassbox_ops perf [FILTER]   forward+backward wall time per case (f32, optimised kernels)
// FILTER is a substring of "op / label". Exit status 1 when any check fails.
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>

#include "autograd/backends.h"
#include "tests/harness/harness.h"

using namespace gb;
using namespace gb::harness;

static const char* mark(const CheckResult& r) { return !r.ran ? "-" : r.ok ? "ok" : "FAIL"; }

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "list";
  std::string filter = argc > 2 ? argv[2] : "";
  // -v / GLASSBOX_OPS_VERBOSE: also list what each unsupported case needs.
  const bool verbose = (argc > 3 && std::strcmp(argv[3], "-v") == 0) || std::getenv("GLASSBOX_OPS_VERBOSE");
  if (mode != "list" && mode != "test" && mode != "grad" && mode != "perf") {
    std::fprintf(stderr, "usage: glassbox_ops [list|test|grad|perf] [FILTER]\n");
    return 2;
  }
  int failed = 0, n = 0;
  const auto& bes = backends();
  std::vector<std::array<int, 4>> counts(bes.size(), {0, 0, 0, 0});  // passes, fails, not supported, n/a
  auto header = [&] {
    std::printf("%-48s %-8s %-8s %-10s", "op / case", "forward", "grad f64", "accumulate");
    for (auto& b : bes) std::printf(" %-14s", b.name.c_str());
    std::printf("\n");
  };
  if (mode == "list" || mode == "test") header();
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
      r.backends = check_backends_each(c, 1234);
      r.backend = backend_verdict(r.backends);
    }
    if (mode == "list" || mode == "grad") {
      r.grad = check_grad(c, 1234);
      r.accumulate = check_accumulate(c, 1234);
    }
    bool bad = (r.forward.ran && !r.forward.ok) || (r.grad.ran && !r.grad.ok) ||
               (r.accumulate.ran && !r.accumulate.ok) || (r.backend.ran && !r.backend.ok);
    failed += bad;
    std::printf("%-48s %-8s %-8s %-10s", c.name().c_str(), mark(r.forward), mark(r.grad), mark(r.accumulate));
    for (size_t i = 0; i < r.backends.size(); ++i) {
      const auto st = r.backends[i].status;
      ++counts[i][(int)st];
      std::printf(" %-14s", st == BackendCheck::Status::fails ? "FAILS" : status_name(st));
    }
    std::printf("\n");
    for (auto* x : {&r.forward, &r.grad, &r.accumulate})
      if (x->ran && !x->ok) std::printf("    %s\n", x->detail.c_str());
    for (auto& b : r.backends)
      if (b.status == BackendCheck::Status::fails || (verbose && b.status == BackendCheck::Status::not_supported))
        std::printf("    %s: %s%s\n", b.backend.c_str(), b.status == BackendCheck::Status::fails ? "" : "needs ",
                    b.detail.c_str());
  }
  std::printf("\n%d cases, %d failed\n", n, failed);
  if (mode == "list" || mode == "test") {
    BackendInfo info = init_backends();
    for (size_t i = 0; i < bes.size(); ++i) {
      if (counts[i][3] == n && n > 0) {
        std::printf("  %-8s not available: %s\n", bes[i].name.c_str(), info.why_not.c_str());
        continue;
      }
      std::printf("  %-8s vs cpu-ref: %d passes, %d fail, %d not supported\n", bes[i].name.c_str(), counts[i][0],
                  counts[i][1], counts[i][2]);
    }
  }
  return failed ? 1 : 0;
}

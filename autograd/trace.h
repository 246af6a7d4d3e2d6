// Op tracing for `glassbox audit` and profiling: when a TraceSession is active on this thread, every
// recorded op reports its name, layer scope, shapes, FLOPs, bytes moved, wall time and backend.
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "tensor/backend.h"
#include "tensor/tensor.h"

namespace gb::trace {

struct OpRecord {
  std::string op, scope, phase;  // phase: "forward" or "backward"
  std::vector<Shape> inputs;
  Shape output;
  double flops = 0, bytes = 0, seconds = 0;
  double mac = 0;  // the part of `flops` that is multiply-adds (convolutions, GEMMs), 2 FLOPs each
  std::string backend;  // "cpu", "cpu-ref", "cuda"
};

class TraceSession {
 public:
  TraceSession();   // starts collecting on this thread
  ~TraceSession();  // stops
  const std::vector<OpRecord>& records() const { return records_; }
  std::vector<OpRecord> records_;
  TraceSession* prev_ = nullptr;
};

bool active();
void emit(OpRecord r);

// RAII timer for one op's forward (and the name its kernel calls are recorded under): `trace::Span s("conv2d", {x, w}); ... s.finish(y, flops);`
class Span {
 public:
  Span(const char* op, const std::vector<Tensor>& inputs);
  // bytes -1: inputs+output bytes; mac: the multiply-add part of flops (GEMM-like ops).
  void finish(const Tensor& out, double flops, double bytes = -1, double mac = 0);
 private:
  const char* op_;
  std::vector<Shape> in_;
  double in_bytes_ = 0;
  std::chrono::steady_clock::time_point t0_;
  bool on_;
  CurrentOpGuard current_;  // kernels called while the op runs are attributed to it
};

std::string backend_name(const Tensor& t);  // honours the CPU reference-kernel switch

}  // namespace gb::trace

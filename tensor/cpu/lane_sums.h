// Reductions in double for the optimised CPU kernels (norms, weight standardisation): kLanes
// independent accumulators, lane k taking elements k, k + kLanes, ..., combined in a fixed tree. The
// order depends only on the length, never on threads, and the lanes break the add-latency chain
// that makes a serial double sum cost 4 cycles per element. Internal to tensor/cpu (header-only,
// internal linkage: each file gets its own copy, compiled with its own flags).
#pragma once
#include <cstdint>

namespace gb::cpu {
namespace {

constexpr int kLanes = 8;
inline double combine(const double* a) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}
template <class T>
double lane_sum(const T* p, int64_t n) {
  double a[kLanes] = {0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) a[k] += (double)p[i + k];
  for (; i < n; ++i) a[i % kLanes] += (double)p[i];
  return combine(a);
}
// sum (p - m)^2
template <class T>
double lane_centred_sq(const T* p, int64_t n, double m) {
  double a[kLanes] = {0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const double d = (double)p[i + k] - m;
      a[k] += d * d;
    }
  for (; i < n; ++i) {
    const double d = (double)p[i] - m;
    a[i % kLanes] += d * d;
  }
  return combine(a);
}
// sg += sum g, sgx += sum g * (x - m)
template <class T>
void lane_grad_sums(const T* g, const T* x, int64_t n, double m, double& sg, double& sgx) {
  double a[kLanes] = {0}, b[kLanes] = {0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const double gv = (double)g[i + k];
      a[k] += gv;
      b[k] += gv * ((double)x[i + k] - m);
    }
  for (; i < n; ++i) {
    const double gv = (double)g[i];
    a[i % kLanes] += gv;
    b[i % kLanes] += gv * ((double)x[i] - m);
  }
  sg += combine(a);
  sgx += combine(b);
}

}  // namespace
}  // namespace gb::cpu

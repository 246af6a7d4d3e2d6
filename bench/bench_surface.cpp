// Surface metrics (ASSD, MSD, HD95: eval/surface.h) of a 512 x 512 x 500 mask pair on one core (the
// code is single-threaded), at CT-like spacing 0.78 x 0.78 x 1.5 mm:
//   liver     a liver-sized ellipsoid (radii 60 x 100 x 128 voxels: 18 x 16 x 20 cm) against a shifted,
//             slightly larger one with a bumpy surface: the distance transform covers their bounding
//             box only
//   large     the same with radii 95 x 120 x 140 (28 x 19 x 22 cm: larger than any liver)
//   tumour    three small lesions against shifted copies
//   whole     two boxes that fill nearly the whole volume: the worst case, the box is the volume
//   class     eval::CaseScorer::add for the liver class from i32 label maps: counts, class masks,
//             surface distances and 26-connected lesions, everything `glassbox evaluate` does per class
// Counters: box_Mvox (million voxels the transform covers), border (surface voxels of both masks).
//   ./bench_surface
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "bench/bench_common.h"
#include "eval/metrics.h"
#include "eval/surface.h"

namespace {

constexpr int64_t D = 500, H = 512, W = 512;
const std::array<double, 3> kSpacingDHW{1.5, 0.78, 0.78};

// Or-s an ellipsoid (centre c, radii r in voxels, z/y/x) into m; bumps: voxels within r + 1 whose
// hash is divisible by `bumps` are added too (a rough surface).
void ellipsoid(std::vector<uint8_t>& m, std::array<double, 3> c, std::array<double, 3> r, int bumps = 0) {
  for (int64_t z = 0; z < D; ++z)
    for (int64_t y = 0; y < H; ++y) {
      const double a = (z - c[0]) / r[0], b = (y - c[1]) / r[1];
      const double ao = (z - c[0]) / (r[0] + 1), bo = (y - c[1]) / (r[1] + 1);
      const double q = 1 - a * a - b * b, qo = 1 - ao * ao - bo * bo;
      if (qo < 0) continue;
      const double hx = q > 0 ? r[2] * std::sqrt(q) : -1, hxo = (r[2] + 1) * std::sqrt(qo);
      for (int64_t x = std::max<int64_t>(0, (int64_t)(c[2] - hxo)); x <= std::min<int64_t>(W - 1, (int64_t)(c[2] + hxo)); ++x) {
        const bool in = std::fabs((double)x - c[2]) <= hx;
        const bool bump = bumps && ((x * 73856093) ^ (y * 19349663) ^ (z * 83492791)) % bumps == 0;
        if (in || bump) m[(z * H + y) * W + x] = 1;
      }
    }
}

struct Pair {
  std::vector<uint8_t> a, b;
};

const Pair& liver_pair() {
  static Pair p = [] {
    Pair q{std::vector<uint8_t>(D * H * W), std::vector<uint8_t>(D * H * W)};
    ellipsoid(q.a, {250, 256, 240}, {60, 100, 128});
    ellipsoid(q.b, {252, 251, 245}, {62, 103, 126}, 3);
    return q;
  }();
  return p;
}

const Pair& large_pair() {
  static Pair p = [] {
    Pair q{std::vector<uint8_t>(D * H * W), std::vector<uint8_t>(D * H * W)};
    ellipsoid(q.a, {250, 256, 240}, {95, 120, 140});
    ellipsoid(q.b, {253, 250, 246}, {97, 123, 138}, 3);
    return q;
  }();
  return p;
}

const Pair& tumour_pair() {
  static Pair p = [] {
    Pair q{std::vector<uint8_t>(D * H * W), std::vector<uint8_t>(D * H * W)};
    for (auto c : {std::array<double, 3>{220, 230, 200}, {280, 300, 260}, {250, 200, 320}}) {
      ellipsoid(q.a, c, {8, 12, 10});
      ellipsoid(q.b, {c[0] + 1, c[1] + 2, c[2] - 1}, {7, 12, 11}, 3);
    }
    return q;
  }();
  return p;
}

const Pair& whole_pair() {
  static Pair p = [] {
    Pair q{std::vector<uint8_t>(D * H * W), std::vector<uint8_t>(D * H * W)};
    for (int64_t z = 0; z < D; ++z)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
          q.a[(z * H + y) * W + x] = z >= 2 && z < D - 2 && y >= 2 && y < H - 2 && x >= 2 && x < W - 2;
          q.b[(z * H + y) * W + x] = z >= 4 && z < D - 1 && y >= 1 && y < H - 5 && x >= 3 && x < W - 1;
        }
    return q;
  }();
  return p;
}

void run_surface(benchmark::State& st, const Pair& p) {
  double box = 0, border = 0;
  for (auto _ : st) {
    auto d = gb::eval::surface_distances(p.a.data(), p.b.data(), {D, H, W}, 3, kSpacingDHW);
    auto s = gb::eval::summarise_surface(d.a_to_b, d.b_to_a);
    benchmark::DoNotOptimize(s.hd95);
    border = (double)(s.border_a + s.border_b);
  }
  // The union bounding box, for the counter.
  int64_t z0 = D, z1 = 0, y0 = H, y1 = 0, x0 = W, x1 = 0;
  for (int64_t z = 0; z < D; ++z)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int64_t i = (z * H + y) * W + x;
        if (p.a[i] || p.b[i])
          z0 = std::min(z0, z), z1 = std::max(z1, z + 1), y0 = std::min(y0, y), y1 = std::max(y1, y + 1),
          x0 = std::min(x0, x), x1 = std::max(x1, x + 1);
      }
  box = (double)((z1 - z0) * (y1 - y0) * (x1 - x0)) / 1e6;
  st.counters["box_Mvox"] = box;
  st.counters["border"] = border;
}

void BM_SurfaceLiver(benchmark::State& st) { run_surface(st, liver_pair()); }
void BM_SurfaceLarge(benchmark::State& st) { run_surface(st, large_pair()); }
void BM_SurfaceTumour(benchmark::State& st) { run_surface(st, tumour_pair()); }
void BM_SurfaceWhole(benchmark::State& st) { run_surface(st, whole_pair()); }

void BM_ClassScorerLiver(benchmark::State& st) {
  const Pair& p = liver_pair();
  gb::Tensor pred = gb::Tensor::empty({D, H, W}, gb::DType::I32), truth = gb::Tensor::empty({D, H, W}, gb::DType::I32);
  int32_t* a = pred.data<int32_t>();
  int32_t* b = truth.data<int32_t>();
  for (int64_t i = 0; i < D * H * W; ++i) a[i] = p.b[i], b[i] = p.a[i];
  for (auto _ : st) {
    gb::eval::CaseScorer sc("bench", {"liver", {1, 2}});
    sc.add(pred, truth, {kSpacingDHW[2], kSpacingDHW[1], kSpacingDHW[0]});
    auto s = sc.finish();
    benchmark::DoNotOptimize(s.surface.hd95);
  }
}

}  // namespace

BENCHMARK(BM_SurfaceLiver)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_SurfaceLarge)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_SurfaceTumour)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_SurfaceWhole)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2)->Repetitions(2)->ReportAggregatesOnly(true);
BENCHMARK(BM_ClassScorerLiver)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2)->Repetitions(2)->ReportAggregatesOnly(true);

BENCHMARK_MAIN();

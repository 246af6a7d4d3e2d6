// Integrated Gradients (Sundararajan et al. 2017) for a segmentation target T (xai/targets.h):
//   IG(x) = (x - x') ⊙ integral_0^1 dT/dx (x' + a (x - x')) da
//         ~= (x - x') ⊙ sum_s w_s g_s,        g_s = dT/dx at x_s = x' + alpha_s (x - x')
// Completeness: sum IG = T(x) - T(x') exactly for the integral; the quadrature's error is measured
// for every map and reported as
//   delta_abs = |sum IG - (T(x) - T(x'))|,   delta_rel = delta_abs / |T(x) - T(x')|
// with a loud warning when delta_rel > tolerance.
//
// Rules (xai/quadrature.h): fixed nodes (Gauss-Legendre by default, Riemann left/right/middle,
// trapezoid), or `adaptive`:
//   The scalar path integrand is f(a) = dT/da = g(a) . (x - x'), and its exact integral over any
//   interval [a, b] is T(b) - T(a), which one forward pass gives. So the adaptive rule knows each
//   interval's error exactly instead of estimating it: starting from [0, 1], every interval carries
//   its Gauss-Kronrod K15 estimate (15 gradient evaluations) and its error |K15 - (T(b) - T(a))|;
//   the interval with the largest error is bisected (2 x 15 new gradients + one forward at the
//   midpoint) until delta_rel <= tolerance or the step budget (max_steps gradient evaluations) would
//   be exceeded. The map is accumulated with the same K15 weights, one f64 map per interval, summed
//   in order of a at the end. Why: scale-invariant networks (R50-ViT-B_16's root: weight-standardised
//   bias-free conv, then GroupNorm) change T only at a < 1e-3 from a zero baseline, where no fixed
//   rule with tens of nodes has a node; Captum's 32 Gauss-Legendre nodes give 99 % completeness
//   error there. The adaptive rule finds the step (each bisection halves the interval at 0).
//   Measured: a trained tiny TransUNet from a zero baseline, 118 % error with 256 Gauss-Legendre
//   nodes, 0.28 % with the adaptive rule in 465 evaluations (xai/baselines.h has the numbers); the
//   test ZeroBaselineOnScaleInvariantRootFailsFixedNodesAdaptiveFixesIt shows it on a toy root.
//   The stopping test is the reported completeness error itself (|sum K - (T(1) - T(0))|), so a
//   result without a warning is one that meets the tolerance.
//
// Batching: the steps are evaluated in batches of `batch`, or when it is 0 of the largest that fits
// memory_mb (estimated from one traced forward), on the CPU also no larger than cpu_pass_mb's worth,
// where bigger passes stop paying (xai/gradients.h, gradient_batch); never the whole path at once
// unless it fits. Gradients are accumulated in f64 in increasing step order whatever the batching.
#pragma once
#include <string>
#include <vector>

#include "models/model.h"
#include "xai/quadrature.h"
#include "xai/targets.h"

namespace gb::xai {

struct IgOptions {
  Rule rule = Rule::GaussLegendre;
  int64_t steps = 32;        // fixed rules: nodes
  double tolerance = 0.01;   // relative completeness error that triggers a warning; adaptive's goal
  int64_t max_steps = 1024;  // adaptive: gradient-evaluation budget
  double memory_mb = 2048;   // batch size from the memory budget when batch == 0
  double cpu_pass_mb = 512;  // CPU only, batch == 0: estimated working set per pass at most this
  int64_t batch = 0;         // steps per forward/backward; 0 = from memory_mb (and cpu_pass_mb)
};

struct PathPoint {
  double alpha, weight;  // node and its weight in the final sum
  double dTda;           // g(alpha) . (x - x')
};

struct IgResult {
  Tensor attribution;  // f64 [C, *spatial]: (x - x') ⊙ sum_s w_s g_s
  Tensor map;          // f64 [*spatial]: attribution summed over channels (signed)
  double T_input = 0, T_baseline = 0;   // T(x), T(x')
  double sum = 0;                       // sum of the attribution
  double delta_abs = 0, delta_rel = 0;  // completeness error
  bool within_tolerance = true;
  std::string warning;      // non-empty when delta_rel > tolerance
  int64_t evaluations = 0;  // gradient evaluations (forward + backward per sample)
  int64_t forwards = 0;     // extra forward-only evaluations (T at x, x', adaptive midpoints)
  int64_t batch = 0;        // steps per batch used
  int64_t intervals = 0;    // adaptive: final number of intervals
  std::vector<PathPoint> path;  // every evaluated node, in increasing alpha
};

// x, baseline: [1, C, *spatial] (same shape, model dtype). target.mask: [*spatial].
IgResult integrated_gradients(models::SegmentationModel& model, const Tensor& x, const Tensor& baseline,
                              const Target& target, const IgOptions& opt = {});

}  // namespace gb::xai

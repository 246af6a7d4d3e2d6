// Saliency metrics: how well a map S points at a region M (by default the ground-truth tumour),
// DESIGN.md §7. The metrics are model-agnostic: they read the map and the mask, and deletion /
// insertion read the target T through a caller-supplied scoring function.
//
// Shapes. A map is [H, W] or [D, H, W], any floating dtype (read as f64); the mask has the same shape,
// any dtype, non-zero = in M. N = number of pixels (voxels), |M| = pixels in M, m = |M| / N. Every
// metric treats the map as a flat list of N values in row-major order; only the perturbation curves
// need the image's channel layout.
//
// Sign. Attributions may be signed (raw Grad-CAM, Integrated Gradients). Every metric reads
// S' = transform(S), chosen by SaliencyOptions::sign:
//   Relu (default)  S' = max(S, 0): positive evidence only, as Grad-CAM's own ReLU; negative pixels tie
//                   at 0 (the bottom of every ranking, no mass)
//   Abs             S' = |S|: magnitude, the usual reading of IG / SmoothGrad maps
// so S' >= 0 and "mass" is well defined. NaN or infinite map values are an error.
//
// Definitions (ties are never broken by pixel position: each rule below says how it treats them).
//   pointing game    share of the pixels holding max S' that lie in M (1 or 0 when the max is unique;
//                    a constant map scores m, the chance level). No tolerance margin.
//   mass in M        sum_M S' / sum S'; NaN when sum S' = 0. Chance (uniform map): m.
//   rank accuracy    share of the top-|M| pixels of S' that lie in M. Pixels tied with the |M|-th
//                    largest value count fractionally: the expected share under a uniformly random
//                    order of the tied pixels, so a constant map scores m (chance) exactly.
//   ROC-AUC          area under the ROC of S' as a classifier of M = Mann-Whitney U / (|M| |M^c|),
//                    ties counted 1/2 (average ranks). Chance 0.5; NaN when M or M^c is empty.
//   IoU/Dice Otsu    foreground F = {S' > t}, t = exact Otsu threshold of the N values of S' (below).
//                    IoU = |F & M| / |F | M|, Dice = 2 |F & M| / (|F| + |M|). A constant map has no
//                    split: F is empty, IoU = Dice = 0.
//   IoU/Dice top-k   F = {S' >= v_k}, v_k = the ceil(k N)-th largest value of S' (k = topk_fraction,
//                    at least 1 pixel): pixels tied with v_k are all kept, so F may exceed k N (and
//                    is the whole image when v_k is the map's minimum). A map equal to the mask is
//                    perfect when k <= m. Chance (random map): IoU = k m / (k + m - k m),
//                    Dice = 2 k m / (k + m).
//   Gini             sparseness of S' (Hurley & Rickard 2009): with c_1 <= ... <= c_N sorted,
//                    G = 1 - 2 sum_i (c_i / |c|_1) (N - i + 1/2) / N. 0 for a constant map, 1 - 1/N
//                    for a one-hot map, 1/3 for uniform noise; NaN when sum S' = 0. Independent of M.
//   deletion AUC     pixels of the image are replaced by the baseline most-salient first (S' descending,
//                    equal values in ascending pixel order so the curve is reproducible), in `steps`
//                    equal steps: after step i the first round(i N / steps) pixels are replaced. The
//                    curve is T(image_i) against the replaced fraction x_i in [0, 1]; the AUC is its
//                    trapezoid area in the units of T (not normalised: T may be any real). Lower is
//                    better. A pixel is every channel at that spatial position.
//   insertion AUC    the same curve starting from the baseline and putting the image's pixels back
//                    most-salient first. Higher is better.
// Every mask-based metric is NaN when M is empty (undefined, not 0), and ROC-AUC also when M is the
// whole image. All of it is sequential host code over sorted copies: bitwise the same result for any
// thread count (the scoring function runs the model, whose kernels are reproducible too).
#pragma once
#include <functional>
#include <limits>
#include <vector>

#include "tensor/tensor.h"

namespace gb::xai {

enum class MapSign { Relu, Abs };

struct SaliencyOptions {
  MapSign sign = MapSign::Relu;
  double topk_fraction = 0.05;  // k of IoU/Dice at top-k, in (0, 1]
};

// A batch of perturbed images [b, C, *spatial] -> T of each, b values. The batch has the image's dtype
// and device.
using ScoreFn = std::function<std::vector<double>(const Tensor& batch)>;

struct PerturbationOptions {
  int64_t steps = 64;  // curve points after the start: steps + 1 evaluations of T in all
  int64_t batch = 8;   // images per call of the scoring function
};

// What deletion / insertion need besides the map: the image [1, C, *spatial] or [C, *spatial]
// (spatial = the map's shape), the baseline (undefined = zeros, one element = that value everywhere, or
// the image's shape) and the scoring function.
struct PerturbationProbe {
  Tensor image, baseline;
  ScoreFn score;
  PerturbationOptions options;
};

struct PerturbationCurve {
  std::vector<double> fraction;  // x_i = pixels changed / N, i = 0..steps (x_0 = 0, x_steps = 1)
  std::vector<double> score;     // T at each x_i
  double auc = std::numeric_limits<double>::quiet_NaN();
};

struct Overlap {
  double iou = std::numeric_limits<double>::quiet_NaN(), dice = std::numeric_limits<double>::quiet_NaN();
  double threshold = std::numeric_limits<double>::quiet_NaN();  // on S': Otsu t (F = S' > t) or v_k (F = S' >= v_k)
  int64_t selected = 0;                                         // |F|
};

struct SaliencyScores {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  double pointing_game = nan, mass_in_mask = nan, rank_accuracy = nan, roc_auc = nan;
  Overlap otsu, topk;
  double gini = nan;
  double deletion_auc = nan, insertion_auc = nan;  // NaN unless a PerturbationProbe was given
  PerturbationCurve deletion, insertion;           // empty unless a PerturbationProbe was given
  int64_t pixels = 0, mask_pixels = 0;             // N, |M|
  double chance() const { return pixels ? (double)mask_pixels / (double)pixels : nan; }  // m
};

// Every metric above at once (the map is transformed and sorted once).
SaliencyScores score_map(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt = {});
// ... plus the deletion and insertion curves.
SaliencyScores score_map(const Tensor& map, const Tensor& mask, const PerturbationProbe& probe,
                         const SaliencyOptions& opt = {});

// The metrics one by one (each validates its inputs as score_map does).
double pointing_game(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt = {});
double mass_in_mask(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt = {});
double rank_accuracy(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt = {});
double roc_auc(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt = {});
Overlap overlap_at_otsu(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt = {});
Overlap overlap_at_topk(const Tensor& map, const Tensor& mask, const SaliencyOptions& opt = {});
double gini(const Tensor& map, const SaliencyOptions& opt = {});
PerturbationCurve deletion_curve(const Tensor& map, const PerturbationProbe& probe, const SaliencyOptions& opt = {});
PerturbationCurve insertion_curve(const Tensor& map, const PerturbationProbe& probe, const SaliencyOptions& opt = {});

// Exact Otsu threshold of a sample: over every split of the sorted distinct values into a low class
// (values <= a) and a high class (values >= b, b the next distinct value) the one maximising the
// between-class variance w0 w1 (mu0 - mu1)^2 (the first on equal variance), returned as t = (a + b) / 2,
// so "> t" selects the high class. No histogram binning. A sample with one distinct value returns it.
double otsu_threshold(const std::vector<double>& values);

// Ranks 1..n of the values in ascending order; tied values share the average of their ranks.
std::vector<double> average_ranks(const std::vector<double>& values);
// Spearman's rank correlation: Pearson correlation of the average ranks of the two tensors' values
// (same number of elements, row-major order). NaN when either is constant (no ranking to correlate).
double spearman(const Tensor& a, const Tensor& b);
double spearman(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace gb::xai

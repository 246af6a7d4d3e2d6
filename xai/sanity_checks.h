// Sanity checks for saliency maps (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018):
// a map that explains the model must change when the model does.
//
//   cascading model randomisation  re-draw the parameters layer by layer from the output end (top)
//                                  towards the input, keeping earlier layers randomised, recompute the
//                                  map after each step and correlate it with the trained model's map
//   data randomisation             the maps of a model trained on permuted labels against those of the
//                                  model trained on the real ones (the caller trains both)
//
// Correlation = Spearman's rank correlation (xai/saliency_metrics.h: average ranks for ties), of the
// signed maps and of their absolute values (|map| asks whether the same pixels matter whatever their
// sign; Adebayo et al. report both). SSIM is not computed. A map that is
// constant (e.g. an all-zero ReLU'd Grad-CAM of a dead randomised network) has no ranking: its
// correlation is NaN, reported as such rather than as 0.
#pragma once
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "layers/module.h"
#include "tensor/philox.h"

namespace gb::xai {

struct MapCorrelation {
  double spearman_signed = std::numeric_limits<double>::quiet_NaN();
  double spearman_abs = std::numeric_limits<double>::quiet_NaN();
};

// Both correlations of two maps of the same number of elements.
MapCorrelation compare_maps(const Tensor& a, const Tensor& b);

// Computes the map from the model's *current* weights (called once before randomising and after
// every step); any shape, the same every call. Typically a lambda over the model and one input, e.g.
// [&] { return grad_cam(model, x, "decoder.blocks.1", 2, region).raw; }. Prefer a signed map: the
// ReLU'd Grad-CAM of a randomised network is often all zeros (measured on micro TransUNet), which
// leaves the correlation undefined.
using ExplainFn = std::function<Tensor()>;

// Replaces one parameter's values. `param` holds the trained values on entry (CPU, f64, contiguous, the
// parameter's shape) and receives the new ones; `gen` is Philox(seed, stream = the parameter's index in
// the model's named_parameters order), so a parameter's new values do not depend on the cascade.
using ReinitFn = std::function<void(const std::string& name, Tensor& param, Generator& gen)>;

// The default re-initialisation: U(-a, a) with a = sqrt(3) * RMS(trained values), i.e. mean 0 and the
// trained tensor's second moment. Why not the layer's init distribution: it keeps every layer's
// activation scale, so the randomised network neither dies nor explodes (a dead network gives a
// constant map, whose correlation is undefined rather than low), and it treats norm scales, biases and
// position embeddings alike without knowing their layer. A tensor that is all zeros stays zero.
void reinit_scale_matched(const std::string& name, Tensor& param, Generator& gen);

struct CascadeOptions {
  // Module names (relative to the model) to randomise, in order: the output end first. Randomising a
  // module re-draws every parameter below it that is not randomised yet. Empty = cascade_layers(model).
  std::vector<std::string> layers;
  uint64_t seed = 2018;
  ReinitFn reinit;         // empty = reinit_scale_matched
  bool keep_maps = false;  // keep each step's map in the result
};

struct RandomisationStep {
  std::string layer;
  int64_t tensors = 0;  // parameter tensors newly randomised at this step
  int64_t values = 0;   // their element count
  MapCorrelation correlation;  // with the trained model's map
  Tensor map;                  // when keep_maps
};

struct CascadeResult {
  Tensor original;                       // the trained model's map
  std::vector<RandomisationStep> steps;  // one per layer, in cascade order
};

// Every module that owns parameters directly, output end first: the reverse of the order in which
// named_parameters meets them. That is torch's registration order, which for the models in models/
// follows the forward pass from input to output stage by stage, though not always inside a stage
// (a ViT block registers its norms and MLP before its attention); pass CascadeOptions::layers when
// the exact order matters.
std::vector<std::string> cascade_layers(const nn::Module& model);

// Runs the cascade on `model` in place and puts the trained parameters back before returning (also
// when explain throws). Buffers (BatchNorm running statistics) are not randomised, as in Adebayo et
// al., who randomise weights.
CascadeResult cascading_randomisation(nn::Module& model, const ExplainFn& explain, const CascadeOptions& opt = {});

struct DataRandomisationResult {
  std::vector<MapCorrelation> per_map;  // one per input
  MapCorrelation mean;                  // mean over the inputs whose correlation is defined
  int64_t undefined = 0;                // inputs with a NaN correlation (a constant map), either kind
};

// trained[i] and permuted[i] are the maps of input i from the model trained on real labels and from
// the same architecture trained on permuted labels.
DataRandomisationResult data_randomisation_check(const std::vector<Tensor>& trained,
                                                 const std::vector<Tensor>& permuted);

// A seeded permutation of 0..n-1 (Fisher-Yates on Philox draws) for permuting labels across samples.
std::vector<int64_t> label_permutation(int64_t n, uint64_t seed);

}  // namespace gb::xai

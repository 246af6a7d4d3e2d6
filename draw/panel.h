// Composite pictures of one CT slice: the explanation panel `glassbox demo` writes, and a
// segmentation preview. Outputs are U8 RGB [3, H, W'] ready for io::write_png().
#pragma once
#include <vector>

#include "draw/colormap.h"
#include "tensor/tensor.h"

namespace gb::draw {

// One slice and what is known about it, all at the slice's own size H x W.
struct PanelInput {
  Tensor ct01;        // f32/f64 [H, W]: the windowed CT slice in [0, 1]
  Tensor truth;       // i32 [H, W] label map (0 background, 1 liver, 2 tumour), or undefined
  Tensor prediction;  // i32 [H, W] label map, or undefined
  Tensor map01;       // f32/f64 [H, W]: the saliency map, already resized to H x W and normalised to [0, 1]
  Tensor region;      // any dtype [H, W]: non-zero = the explained region (outlined on the heat map), or undefined
  // Outline colours, indexed by label (index 0 unused). Truth: liver green, tumour red
  // (label_colour); prediction: liver blue, tumour yellow, so both can be told apart on one panel.
  std::vector<Rgb> truth_colours = {};
  std::vector<Rgb> prediction_colours = {Rgb{0, 0, 0}, Rgb{80, 160, 255}, Rgb{255, 230, 0}};
  // The region outline: yellow for a predicted region; the demo uses red {255, 40, 40} for a true one.
  Rgb region_colour = {255, 230, 0};
  Colormap colormap = Colormap::Jet;
  float alpha = 0.45f;      // heat-map opacity (overlay_heatmap)
  float threshold = 0.f;    // map values below it are not blended
};

// Three panels side by side, U8 [3, H, 3W]:
//   [0, W)   the CT slice
//   [W, 2W)  the CT with the truth outlines, then the prediction outlines drawn over them
//   [2W, 3W) the heat map over the CT with the region's outline
// A panel whose optional input is undefined shows the plain CT (outlines) or skips the region outline.
// Every input is checked against ct01's H x W; errors start with "explanation_panel:".
Tensor explanation_panel(const PanelInput& in);

// The CT slice (f32/f64 [H, W] in [0, 1]) with the outlines of labels (i32 [H, W]); colours as in
// draw_label_contours. Returns U8 [3, H, W].
Tensor segmentation_overlay(const Tensor& ct01, const Tensor& labels, const std::vector<Rgb>& colours = {});

}  // namespace gb::draw

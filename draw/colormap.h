// Colour maps for saliency maps and overlays on CT slices. All outputs are U8 RGB [3, H, W] so they
// go straight to io::write_png().
//
//   Jet:     the classic blue -> cyan -> yellow -> red ramp (piecewise linear).
//   Inferno: a perceptually ordered black -> purple -> orange -> pale-yellow ramp, linearly
//            interpolated between 9 anchor colours of matplotlib's "inferno".
//   Grey:    black -> white.
// A value t is mapped after clamping to [0, 1]; NaN maps to black.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace gb::draw {

enum class Colormap { Grey, Jet, Inferno };
using Rgb = std::array<uint8_t, 3>;

Rgb colormap_rgb(Colormap cm, float t);
// map: f32/f64 [H, W]; values are scaled (v - lo) / (hi - lo) first (lo < hi). Returns U8 [3, H, W].
Tensor apply_colormap(const Tensor& map, Colormap cm, float lo = 0.f, float hi = 1.f);
// grey01: f32/f64 [H, W] or [1, H, W] in [0, 1] (e.g. a windowed CT slice) -> U8 [3, H, W].
Tensor grey_to_rgb(const Tensor& grey01);

// Blends a colour-mapped saliency map over a grey CT slice:
//   out = (1 - a) * grey + a * colormap(map), a = alpha where map >= threshold, else 0.
// ct01 [H, W] in [0, 1]; map [H, W] already normalised to [0, 1] (same H, W). Returns U8 [3, H, W].
Tensor overlay_heatmap(const Tensor& ct01, const Tensor& map01, Colormap cm = Colormap::Jet, float alpha = 0.5f,
                       float threshold = 0.f);

// Default label colours: 1 liver green, 2 tumour red, others from a fixed palette.
Rgb label_colour(int label);

// A saliency map as a transparent layer for viewers that blend it over the CT themselves (the
// report's opacity slider): U8 RGBA [4, H, W], colour = cm(map), alpha = map (0 where the map is 0
// or NaN). map01: f32/f64 [H, W] in [0, 1].
Tensor heat_layer(const Tensor& map01, Colormap cm = Colormap::Jet);
// Draws the outlines of every non-zero label of labels (I32 [H, W]) onto rgb (U8 [3, H, W], same
// H, W), in place. A pixel is on the outline of label L when it has label L and a 4-neighbour with
// a different label (or lies on the image border). colours[L] overrides label_colour(L) when given.
void draw_label_contours(Tensor& rgb, const Tensor& labels, const std::vector<Rgb>& colours = {});

}  // namespace gb::draw

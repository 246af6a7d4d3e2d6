// Training curves as a PNG, drawn with PLplot's pngcairo device (headless; no display needed).
//
// The picture has two panels sharing the step axis:
//   top:    training loss (raw, thin; smoothed, thick) on a log scale (linear when a value is <= 0
//           or log_loss is off), with the learning rate dashed on its own right-hand axis
//   bottom: validation Dice of liver and tumour on [0, 1], one marker per validation
// Non-finite values (a diverged step, a Dice not computed) are left out of the lines.
#pragma once
#include <string>
#include <vector>

namespace gb::draw {

struct TrainingCurves {
  std::string title = "Training";
  // One entry per logged step. loss_smooth and lr are optional: empty, or as long as step.
  std::vector<double> step, loss, loss_smooth, lr;
  // One entry per validation run; all three empty (no validation yet) or of equal length.
  std::vector<double> val_step, val_liver_dice, val_tumour_dice;
};

struct PlotOptions {
  int width = 1200, height = 900;  // pixels, each in [200, 8000]
  bool log_loss = true;
};

// Writes the PNG to "<path>.tmp" and renames it into place. Errors are gb::Error starting with the
// path: no finite loss point, series of different lengths, a folder that cannot be written.
// Calls from several threads are serialised (PLplot keeps global state); prints nothing on success.
void write_training_curves(const std::string& path, const TrainingCurves& c, const PlotOptions& opt = {});

}  // namespace gb::draw

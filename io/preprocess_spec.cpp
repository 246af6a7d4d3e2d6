#include "io/preprocess_spec.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace gb::io {

using json = nlohmann::json;

const char* units_name(Units u) { return u == Units::HU ? "hu" : "pixel8"; }

Units units_from_name(const std::string& s) {
  if (s == "hu" || s == "HU") return Units::HU;
  if (s == "pixel8" || s == "pixels") return Units::Pixel8;
  fail("preprocess: unknown units '", s, "' (expected hu or pixel8)");
}

void Preprocess::validate(const std::string& where) const {
  GB_CHECK(channels == 1 || channels == 3, where, ": preprocess channels must be 1 or 3, got ", channels);
  GB_CHECK(!context_2p5d || channels == 3, where, ": 2.5-D context gives 3 channels; channels is ", channels);
  GB_CHECK(height >= 1 && width >= 1 && height <= 8192 && width <= 8192, where, ": preprocess input size ", height,
           "x", width, " is out of range (1..8192)");
  GB_CHECK(depth >= 0 && depth <= 4096, where, ": preprocess depth ", depth, " is out of range (0..4096)");
  GB_CHECK(units != Units::HU || window.lo < window.hi, where, ": HU window needs lo < hi, got [", window.lo, ", ",
           window.hi, "]");
  GB_CHECK(image_resample == "bilinear-align-corners" && label_resample == "nearest-align-corners", where,
           ": unsupported resampling '", image_resample, "' / '", label_resample, "'");
}

std::string Preprocess::to_json() const {
  json j;
  j["units"] = units_name(units);
  j["window"] = {window.lo, window.hi};
  j["channels"] = channels;
  j["context_2p5d"] = context_2p5d;
  j["height"] = height;
  j["width"] = width;
  j["depth"] = depth;
  j["image_resample"] = image_resample;
  j["label_resample"] = label_resample;
  return j.dump();
}

Preprocess Preprocess::from_json(const std::string& text, const std::string& where) {
  Preprocess p;
  try {
    json j = json::parse(text);
    p.units = units_from_name(j.at("units").get<std::string>());
    p.window.lo = j.at("window").at(0).get<float>();
    p.window.hi = j.at("window").at(1).get<float>();
    p.channels = j.at("channels").get<int>();
    p.context_2p5d = j.at("context_2p5d").get<bool>();
    p.height = j.at("height").get<int64_t>();
    p.width = j.at("width").get<int64_t>();
    p.depth = j.value("depth", (int64_t)0);
    p.image_resample = j.value("image_resample", p.image_resample);
    p.label_resample = j.value("label_resample", p.label_resample);
  } catch (const json::exception& e) {
    fail(where, ": bad preprocess description (", e.what(), ")");
  }
  p.validate(where);
  return p;
}

std::string Preprocess::describe() const {
  char buf[256];
  if (units == Units::HU)
    std::snprintf(buf, sizeof buf, "HU window [%g, %g] -> [0, 1]", window.lo, window.hi);
  else
    std::snprintf(buf, sizeof buf, "8-bit pixels / 255");
  std::string s = buf;
  s += ", " + std::to_string(channels) + (channels == 1 ? " channel" : " channels");
  if (context_2p5d) s += " (2.5-D: slices k-1, k, k+1)";
  s += ", " + (depth > 0 ? std::to_string(depth) + "x" : std::string()) + std::to_string(height) + "x" +
       std::to_string(width) + " " + (depth > 0 ? "patches" : "input, bilinear (corners aligned)");
  return s;
}

void check_units(const Preprocess& pre, Units input_units, const std::string& input) {
  if (pre.units == input_units) return;
  if (pre.units == Units::Pixel8)
    fail(input, ": the model expects 8-bit pixel slices (it was trained on a slice folder), but this input is in "
                "Hounsfield units; segment PNG/JPG slices with it, or use a model trained on CT volumes");
  fail(input, ": the model expects CT in Hounsfield units (it was trained on volumes), but this input is an 8-bit "
              "image; segment NIfTI or DICOM volumes with it, or use a model trained on a slice folder");
}

Tensor pre_intensities(const Tensor& raw, const Preprocess& pre) { return to_unit_range(raw, pre.units, pre.window); }

Tensor pre_slice(const Tensor& unit_volume, int64_t k, const Preprocess& pre) {
  return match_channels(volume_slice(unit_volume, k, pre.context_2p5d ? 1 : 0).to(DType::F32), pre.channels);
}

Tensor pre_channels(const Tensor& unit_image, const Preprocess& pre) {
  return match_channels(unit_image.to(DType::F32), pre.channels);
}

Tensor pre_resize_image(const Tensor& img, const Preprocess& pre) { return resize_bilinear(img, pre.height, pre.width); }

Tensor pre_resize_label(const Tensor& label, const Preprocess& pre) {
  return resize_nearest(label.contiguous(), pre.height, pre.width);
}

Tensor model_input_slice(const Tensor& raw_volume, int64_t k, const Preprocess& pre) {
  // Stage 1 is elementwise: windowing slice k alone gives the same values as windowing the volume.
  GB_CHECK(raw_volume.defined() && raw_volume.dim() == 3, "model_input_slice: expected a volume [D,H,W], got ",
           raw_volume.defined() ? raw_volume.desc() : "undefined");
  const int64_t d = raw_volume.size(0), c = pre.context_2p5d ? 1 : 0;
  GB_CHECK(k >= 0 && k < d, "model_input_slice: slice ", k, " out of range for ", raw_volume.desc());
  const int64_t k0 = std::max<int64_t>(0, k - c), k1 = std::min<int64_t>(d, k + c + 1);
  Tensor unit = pre_intensities(raw_volume.view_slice(0, k0, k1), pre);
  Tensor s = pre_resize_image(pre_slice(unit, k - k0, pre), pre);
  return s.view_reshape({1, s.size(0), pre.height, pre.width});
}

Tensor model_input_image(const Tensor& raw_image, const Preprocess& pre) {
  Tensor s = pre_resize_image(pre_channels(pre_intensities(raw_image, pre), pre), pre);
  return s.view_reshape({1, s.size(0), pre.height, pre.width});
}

}  // namespace gb::io

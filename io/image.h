// 8-bit PNG/JPEG images <-> tensors (stb_image / stb_image_write).
//
// Layout: images are U8 tensors [C, H, W] (channel-first, like the networks see them), C = 1 (grey)
// or 3 (RGB). Alpha channels are dropped (grey+alpha -> grey, RGBA -> RGB). 16-bit PNGs are refused
// rather than silently reduced to 8 bits (a 16-bit label map would lose values).
// Every error is a gb::Error whose message starts with the file path.
#pragma once
#include <string>

#include "tensor/tensor.h"

namespace gb::io {

struct ImageInfo {
  int width = 0, height = 0, channels = 0;  // channels as stored in the file (1..4)
};
ImageInfo read_image_info(const std::string& path);

// channels: 0 = as stored (1 for grey/grey+alpha, 3 for RGB/RGBA), 1 = convert to grey (stb's
// integer luma: (77 R + 150 G + 29 B) >> 8), 3 = convert to RGB (grey replicated).
// Returns U8 [C, H, W].
Tensor read_image(const std::string& path, int channels = 0);

// A label map stored as an 8-bit single-channel image (value = class index). Returns I32 [H, W].
// RGB files whose three channels are equal are accepted; other colour images are refused.
Tensor read_label_image(const std::string& path);

// Writes a PNG. img: [H, W] or [C, H, W] with C in {1, 3, 4}; U8, or I32/F32/F64 whose values are
// integers in [0, 255] (F32/F64 are rounded to nearest; out of range is an error). Writes to
// "<path>.tmp" and renames.
void write_png(const std::string& path, const Tensor& img);

}  // namespace gb::io

// stb_image / stb_image_write implementations live here and only here (one definition per program).
#include "io/image.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace gb::io {
namespace {

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};
using StbPixels = std::unique_ptr<unsigned char, StbFree>;

void check_readable(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail(path, ": cannot open image file (", std::strerror(errno), ")");
  std::fclose(f);
}

}  // namespace

ImageInfo read_image_info(const std::string& path) {
  check_readable(path);
  ImageInfo info;
  if (!stbi_info(path.c_str(), &info.width, &info.height, &info.channels))
    fail(path, ": not a readable PNG/JPEG image (", stbi_failure_reason(), ")");
  return info;
}

Tensor read_image(const std::string& path, int channels) {
  GB_CHECK(channels == 0 || channels == 1 || channels == 3, path, ": read_image: channels must be 0, 1 or 3, got ",
           channels);
  ImageInfo info = read_image_info(path);
  if (stbi_is_16_bit(path.c_str())) fail(path, ": 16-bit images are not supported (8-bit PNG/JPEG only)");
  int want = channels != 0 ? channels : (info.channels <= 2 ? 1 : 3);
  int w = 0, h = 0, n = 0;
  StbPixels px(stbi_load(path.c_str(), &w, &h, &n, want));
  if (!px) fail(path, ": cannot decode image (", stbi_failure_reason(), ")");
  GB_CHECK(w > 0 && h > 0, path, ": empty image ", w, "x", h);
  // stb gives interleaved [H, W, C]; we store planar [C, H, W].
  Tensor out = Tensor::empty({want, h, w}, DType::U8);
  uint8_t* o = out.data<uint8_t>();
  const int64_t hw = (int64_t)h * w;
  for (int64_t p = 0; p < hw; ++p)
    for (int c = 0; c < want; ++c) o[c * hw + p] = px.get()[p * want + c];
  return out;
}

Tensor read_label_image(const std::string& path) {
  ImageInfo info = read_image_info(path);
  if (stbi_is_16_bit(path.c_str())) fail(path, ": 16-bit label images are not supported (8-bit PNG only)");
  int w = 0, h = 0, n = 0;
  StbPixels px(stbi_load(path.c_str(), &w, &h, &n, 0));
  if (!px) fail(path, ": cannot decode label image (", stbi_failure_reason(), ")");
  const int64_t hw = (int64_t)h * w;
  Tensor out = Tensor::empty({h, w}, DType::I32);
  int32_t* o = out.data<int32_t>();
  const unsigned char* s = px.get();
  for (int64_t p = 0; p < hw; ++p) {
    const unsigned char* q = s + p * n;
    if (n >= 3 && (q[0] != q[1] || q[0] != q[2]))
      fail(path, ": label image is colour (pixel ", p % w, ",", p / w, " has RGB ", (int)q[0], ",", (int)q[1], ",",
           (int)q[2], "); expected a grey map of class indices");
    o[p] = q[0];
  }
  (void)info;
  return out;
}

void write_png(const std::string& path, const Tensor& img_in) {
  GB_CHECK(img_in.defined(), path, ": write_png: undefined tensor");
  Tensor img = img_in.device() == Device::CPU ? img_in : img_in.to(Device::CPU);
  GB_CHECK(img.dim() == 2 || img.dim() == 3, path, ": write_png: expected [H,W] or [C,H,W], got ", img.desc());
  if (img.dim() == 2) img = img.view_reshape({1, img.size(0), img.size(1)});
  const int64_t c = img.size(0), h = img.size(1), w = img.size(2);
  GB_CHECK(c == 1 || c == 3 || c == 4, path, ": write_png: channels must be 1, 3 or 4, got ", img.desc());
  GB_CHECK(h > 0 && w > 0, path, ": write_png: empty image ", img.desc());
  std::vector<double> v;
  std::vector<unsigned char> inter((size_t)(c * h * w));
  if (img.dtype() == DType::U8) {
    Tensor u = img.contiguous();
    const uint8_t* p = u.data<uint8_t>();
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < h * w; ++i) inter[(size_t)(i * c + ch)] = p[ch * h * w + i];
  } else {
    GB_CHECK(img.dtype() == DType::I32 || img.dtype() == DType::F32 || img.dtype() == DType::F64, path,
             ": write_png: expected u8, i32, f32 or f64, got ", img.desc());
    v = img.to_vector();
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < h * w; ++i) {
        double x = v[(size_t)(ch * h * w + i)];
        double r = std::nearbyint(x);
        if (!(r >= 0 && r <= 255))
          fail(path, ": write_png: value ", x, " at channel ", ch, " pixel ", i % w, ",", i / w,
               " is outside [0, 255] (", img.desc(), ")");
        inter[(size_t)(i * c + ch)] = (unsigned char)r;
      }
  }
  const std::string tmp = path + ".tmp";
  if (!stbi_write_png(tmp.c_str(), (int)w, (int)h, (int)c, inter.data(), (int)(w * c))) {
    std::remove(tmp.c_str());
    fail(path, ": cannot write PNG (is the folder there and writable?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot rename ", tmp, " into place (", std::strerror(e), ")");
  }
}

}  // namespace gb::io

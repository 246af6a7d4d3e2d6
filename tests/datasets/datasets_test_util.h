// Helpers for the dataset tests: scratch folders and the shared data location.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "io/image.h"
#include "tensor/tensor.h"

namespace gbtest {

// A fresh folder under the system temp dir, removed when the object dies.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& tag) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("gb_datasets_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str(const std::string& rel = "") const { return rel.empty() ? path.string() : (path / rel).string(); }
};

// GLASSBOX_SHARED_DATA when set, else the build's GB_SHARED_DATA_DIR.
inline std::string shared_data_dir() {
  if (const char* e = std::getenv("GLASSBOX_SHARED_DATA")) return e;
#ifdef GB_SHARED_DATA_DIR
  return GB_SHARED_DATA_DIR;
#else
  return "";
#endif
}

// A grey u8 [1, H, W] image with value f(y, x).
template <class F> gb::Tensor grey_image(int64_t h, int64_t w, F f) {
  gb::Tensor t = gb::Tensor::empty({1, h, w}, gb::DType::U8);
  uint8_t* p = t.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) p[y * w + x] = (uint8_t)f(y, x);
  return t;
}

// Expects a gb::Error whose message contains every one of `parts`.
template <class Fn> std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const gb::Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace gbtest

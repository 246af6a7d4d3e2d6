// Helpers for the drawing tests: a scratch folder and "the message of the gb::Error fn throws".
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tensor/tensor.h"

namespace gbtest {

// A fresh folder under the system temp dir, removed when the object dies.
struct DrawScratch {
  std::filesystem::path path;
  explicit DrawScratch(const std::string& tag) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("gb_draw_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~DrawScratch() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str(const std::string& rel) const { return (path / rel).string(); }
};

template <class Fn> std::string draw_error_of(Fn fn) {
  try {
    fn();
  } catch (const gb::Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace gbtest

// Small training runs for the tests: micro TransUNet at 32x32 on 4 in-memory phantoms (8 slices).
#pragma once
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "io/safetensors.h"
#include "train/run.h"

namespace gbrun {

inline std::string scratch(const std::string& tag) {
  auto p = std::filesystem::temp_directory_path() / ("gb_run_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}

inline gb::train::RunOptions micro_run(const std::string& out, int64_t steps = 16) {
  gb::train::RunOptions o;
  o.model = "micro";
  o.size = 32;
  o.data = "phantom:4:7";
  o.phantom_size = 32;
  o.phantom_depth = 8;
  o.val_cases = 1;
  o.steps = steps;
  o.batch = 2;
  o.lr = 0.05;
  o.val_every = 4;
  o.ckpt_every = 4;
  o.keep_last = 2;
  o.threads = 1;
  o.out = out;
  return o;
}

inline std::string read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The loss columns of log.csv (step,epoch,loss,ce,dice_loss,lr: the first 6 fields of each row).
inline std::string log_losses(const std::string& run) {
  std::ifstream f(run + "/log.csv");
  std::string line, out;
  std::getline(f, line);
  while (std::getline(f, line)) {
    size_t p = 0;
    for (int i = 0; i < 6 && p != std::string::npos; ++i) p = line.find(',', p + 1);
    out += line.substr(0, p) + "\n";
  }
  return out;
}

// True when both safetensors hold the same tensors bit for bit.
inline bool same_weights(const std::string& a, const std::string& b) {
  auto x = gb::io::read_safetensors(a), y = gb::io::read_safetensors(b);
  if (x.tensors.size() != y.tensors.size()) return false;
  for (size_t i = 0; i < x.tensors.size(); ++i) {
    if (x.tensors[i].first != y.tensors[i].first) return false;
    if (x.tensors[i].second.to_vector() != y.tensors[i].second.to_vector()) return false;
  }
  return true;
}

}  // namespace gbrun

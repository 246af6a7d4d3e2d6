// Shared pieces of the 3-D training tests: an in-memory dataset with hand-made volumes, and small
// phantom options.
#pragma once
#include <string>
#include <vector>

#include "io/dataset.h"
#include "io/phantom.h"

namespace gb::test3d {

// Items given as samples (volumes, or 2-D slices when is_volume is false); load(i) returns a copy.
class MemoryDataset final : public io::Dataset {
 public:
  MemoryDataset(std::vector<io::Sample> s, bool is_volume = true) : s_(std::move(s)), volume_(is_volume) {}
  std::string name() const override { return "memory"; }
  bool is_volume() const override { return volume_; }
  io::Units units() const override { return io::Units::HU; }
  int64_t size() const override { return (int64_t)s_.size(); }
  const io::ItemInfo& item(int64_t i) const override { return s_.at((size_t)i).info; }
  io::Sample load(int64_t i) const override { return s_.at((size_t)i); }

 private:
  std::vector<io::Sample> s_;
  bool volume_;
};

// A volume sample with image HU [D, H, W] and label i32 [D, H, W].
inline io::Sample make_sample(const std::string& id, const Tensor& hu, const Tensor& label) {
  io::Sample s;
  s.info.id = s.info.case_id = id;
  s.image.data = hu;
  s.label.data = label;
  return s;
}

inline io::PhantomOptions small_phantom(int64_t size = 48, int64_t depth = 24) {
  io::PhantomOptions o;
  o.width = o.height = size;
  o.depth = depth;
  return o;
}

}  // namespace gb::test3d

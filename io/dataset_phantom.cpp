// Phantom dataset: `count` generated cases of one seed, in memory (nothing touches the disk).
#include "io/dataset.h"
#include "io/phantom.h"

namespace gb::io {
namespace {

class PhantomDataset final : public Dataset {
 public:
  PhantomDataset(uint64_t seed, int64_t count, const PhantomOptions& opt) : seed_(seed), opt_(opt) {
    GB_CHECK(count >= 1, "phantom dataset: count must be >= 1, got ", count);
    for (int64_t i = 0; i < count; ++i) {
      ItemInfo it;
      it.id = it.case_id = "volume-" + std::to_string(i);
      it.index = i;
      items_.push_back(it);
    }
  }
  std::string name() const override { return "phantom:" + std::to_string(seed_); }
  bool is_volume() const override { return true; }
  Units units() const override { return Units::HU; }
  int64_t size() const override { return (int64_t)items_.size(); }
  const ItemInfo& item(int64_t i) const override {
    GB_CHECK(i >= 0 && i < size(), name(), ": item ", i, " out of range [0, ", size(), ")");
    return items_[(size_t)i];
  }
  Sample load(int64_t i) const override {
    PhantomCase pc = make_phantom(seed_, item(i).index, opt_);
    Sample s;
    s.info = item(i);
    s.image = std::move(pc.image);
    s.label = std::move(pc.label);
    return s;
  }

 private:
  uint64_t seed_;
  PhantomOptions opt_;
  std::vector<ItemInfo> items_;
};

}  // namespace

std::unique_ptr<Dataset> open_phantom(uint64_t seed, int64_t count, const PhantomOptions& opt) {
  return std::make_unique<PhantomDataset>(seed, count, opt);
}

}  // namespace gb::io

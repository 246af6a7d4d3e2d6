// Helpers shared by the NIfTI volume adapters (LiTS, MSD): loading an image/label pair with all
// checks. Internal to io/.
#pragma once
#include <string>

#include "io/dataset.h"

namespace gb::io::detail {

// Reads image (f32 HU) and label (i32) and checks: label values in {0,1,2}; same shape; spacing
// equal within 1e-3 relative. Errors name both files. label_path may be empty (unlabelled).
Sample load_volume_pair(const ItemInfo& info);

// The part of a folder-of-NIfTI-pairs dataset (LiTS, MSD) that does not depend on the layout:
// derived classes fill items_ in their constructor.
class VolumePairDataset : public Dataset {
 public:
  VolumePairDataset(std::string kind, std::string folder) : kind_(std::move(kind)), folder_(std::move(folder)) {}
  std::string name() const override { return kind_ + ":" + folder_; }
  bool is_volume() const override { return true; }
  Units units() const override { return Units::HU; }
  int64_t size() const override { return (int64_t)items_.size(); }
  const ItemInfo& item(int64_t i) const override {
    GB_CHECK(i >= 0 && i < size(), name(), ": item ", i, " out of range [0, ", size(), ")");
    return items_[(size_t)i];
  }
  Sample load(int64_t i) const override { return load_volume_pair(item(i)); }

 protected:
  std::string kind_, folder_;
  std::vector<ItemInfo> items_;
};
// Trailing number of a name ("liver_12" -> 12), -1 when none.
int64_t trailing_number(const std::string& s);

}  // namespace gb::io::detail

// Complete slice stacks of a slice folder, read as volumes: what a 3-D model needs from an 8-bit slice
// export such as the LiTS-slices folder (see open_slice_stacks in io/dataset.h).
//
// The export's slice step is the smallest gap between two slices of one volume anywhere in the folder
// (2 for the LiTS-slices export, which keeps every second slice). A volume is a complete stack when
// every gap between its sorted slice indices equals that step, so its slices sample the volume evenly;
// the other volumes (slices chosen by content) are left out, because stacking them would put unequal
// distances between neighbouring planes.
//
// Each slice goes through exactly what a 2-D model's preprocessing does before resizing (grey: RGB to
// luma with io::match_channels) and, when `size` > 0, the same bilinear align-corners resize to
// size x size (labels: nearest), so a 2-D model that resizes to that size sees the same pixels from a
// stack as from the slice files (up to f32 rounding: the luma is taken before the 1/255 scaling here,
// after it in the 2-D path).
#include <algorithm>
#include <filesystem>
#include <map>

#include "io/dataset.h"
#include "io/image.h"
#include "io/preprocess.h"

namespace gb::io {
namespace {

class SliceStacks final : public Dataset {
 public:
  SliceStacks(const std::string& folder, int64_t size) : folder_(folder), size_(size) {
    GB_CHECK(size == 0 || (size >= 16 && size <= 1024), folder, ": stacks: slice size ", size,
             " must be 0 (as stored) or in 16..1024");
    slices_ = open_slice_folder(folder);
    std::map<std::string, std::vector<int64_t>> by_case;  // case -> items, in (slice) order
    for (int64_t i = 0; i < slices_->size(); ++i) {
      const ItemInfo& it = slices_->item(i);
      if (it.slice < 0) fail(it.image_path, ": stacks need slice numbers (a manifest 'slice' column or a name ..._slice_N)");
      by_case[it.case_id].push_back(i);
    }
    step_ = 0;
    for (auto& [c, items] : by_case)
      for (size_t k = 1; k < items.size(); ++k) {
        const int64_t gap = slices_->item(items[k]).slice - slices_->item(items[k - 1]).slice;
        if (gap == 0) fail(slices_->item(items[k]).image_path, ": two slices of ", c, " have the same index");
        if (step_ == 0 || gap < step_) step_ = gap;
      }
    for (auto& [c, items] : by_case) {
      if (items.size() < 2) continue;
      bool regular = true;
      for (size_t k = 1; k < items.size() && regular; ++k)
        regular = slices_->item(items[k]).slice - slices_->item(items[k - 1]).slice == step_;
      if (!regular) continue;
      const ItemInfo& first = slices_->item(items.front());
      Stack st;
      st.info.id = st.info.case_id = c;
      st.info.index = first.index;
      st.info.image_path = std::filesystem::path(first.image_path).parent_path().string();
      st.info.label_path = std::filesystem::path(first.label_path).parent_path().string();
      st.members = items;
      stacks_.push_back(std::move(st));
    }
    if (stacks_.empty()) {
      if (step_ == 0) fail(folder, ": no complete slice stack (no volume has two slices); 3-D models need one");
      fail(folder, ": no complete slice stack (a volume whose slices are all ", step_, " apart); 3-D models need one");
    }
    // Same order as the slice folder: by case number, then id.
    std::sort(stacks_.begin(), stacks_.end(), [](const Stack& a, const Stack& b) {
      return std::tie(a.info.index, a.info.id) < std::tie(b.info.index, b.info.id);
    });
  }

  std::string name() const override { return "stacks:" + folder_ + (size_ > 0 ? ":" + std::to_string(size_) : ""); }
  bool is_volume() const override { return true; }
  Units units() const override { return Units::Pixel8; }
  int64_t size() const override { return (int64_t)stacks_.size(); }
  const ItemInfo& item(int64_t i) const override {
    GB_CHECK(i >= 0 && i < size(), name(), ": item ", i, " out of range [0, ", size(), ")");
    return stacks_[(size_t)i].info;
  }

  // image f32 [D, H, W] grey 0..255, label i32 [D, H, W]; D = the stack's slices in index order.
  Sample load(int64_t i) const override {
    const ItemInfo& info = item(i);
    const auto& members = stacks_[(size_t)i].members;
    const int64_t D = (int64_t)members.size();
    Tensor img, lab;
    int64_t H = 0, W = 0;
    for (int64_t k = 0; k < D; ++k) {
      Sample s = slices_->load(members[(size_t)k]);
      Tensor g = match_channels(s.image.data, 1);      // [1, h, w]
      Tensor l = s.label.data;                          // [h, w]
      if (size_ > 0) {
        g = resize_bilinear(g, size_, size_);
        l = resize_nearest(l, size_, size_);
      }
      if (k == 0) {
        H = g.size(1), W = g.size(2);
        img = Tensor::empty({D, H, W}, DType::F32);
        lab = Tensor::empty({D, H, W}, DType::I32);
      } else if (g.size(1) != H || g.size(2) != W) {
        fail(s.image.path, ": slice is ", g.size(2), "x", g.size(1), " but the first slice of ", info.case_id, " is ", W,
             "x", H, " (width x height); a stack needs one size");
      }
      Tensor gc = g.contiguous(), lc = l.contiguous();
      std::copy(gc.data<float>(), gc.data<float>() + H * W, img.data<float>() + k * H * W);
      std::copy(lc.data<int32_t>(), lc.data<int32_t>() + H * W, lab.data<int32_t>() + k * H * W);
    }
    Sample s;
    s.info = info;
    s.is_volume = true;
    s.units = Units::Pixel8;
    s.has_spacing = false;  // 8-bit exports carry no spacing; distances are in voxels of this grid
    s.image.data = img;
    s.image.path = info.image_path;
    s.label.data = lab;
    s.label.path = info.label_path;
    return s;
  }

 private:
  struct Stack {
    ItemInfo info;
    std::vector<int64_t> members;  // slice-folder items of the stack, in slice order
  };
  std::string folder_;
  int64_t size_ = 0, step_ = 0;
  std::unique_ptr<Dataset> slices_;
  std::vector<Stack> stacks_;
};

}  // namespace

std::unique_ptr<Dataset> open_slice_stacks(const std::string& folder, int64_t size) {
  return std::make_unique<SliceStacks>(folder, size);
}

}  // namespace gb::io

// Parts of the Dataset interface shared by all adapters, and open_dataset's format detection.
#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include "io/dataset.h"

namespace fs = std::filesystem;

namespace gb::io {

std::vector<std::string> Dataset::case_ids() const {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (int64_t i = 0; i < size(); ++i)
    if (seen.insert(item(i).case_id).second) out.push_back(item(i).case_id);
  return out;
}

std::vector<int64_t> Dataset::items_of_cases(const std::vector<std::string>& cases) const {
  std::unordered_set<std::string> want(cases.begin(), cases.end());
  std::vector<int64_t> out;
  for (int64_t i = 0; i < size(); ++i)
    if (want.count(item(i).case_id)) out.push_back(i);
  return out;
}

void check_label_values(const Tensor& labels, const std::string& path) {
  GB_CHECK(labels.defined() && labels.dtype() == DType::I32, path, ": label map must be i32, got ",
           labels.defined() ? labels.desc() : "undefined");
  Tensor c = labels.contiguous();
  const int32_t* p = c.data<int32_t>();
  int64_t bad = 0;
  int32_t first = 0;
  for (int64_t i = 0, n = c.numel(); i < n; ++i)
    if (p[i] < 0 || p[i] > 2) {
      if (bad == 0) first = p[i];
      ++bad;
    }
  if (bad > 0)
    fail(path, ": label value ", first, " is not 0/1/2 (", bad, " voxels with values outside {0,1,2}; expected ",
         "0 background, 1 liver, 2 tumour)");
}

std::unique_ptr<Dataset> open_dataset(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) fail(folder, ": dataset folder not found");
  if (fs::exists(fs::path(folder) / "dataset.json", ec)) return open_msd(folder);
  if (fs::is_directory(fs::path(folder) / "images", ec) && fs::is_directory(fs::path(folder) / "masks", ec))
    return open_slice_folder(folder);
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind("volume-", 0) == 0 && n.find(".nii") != std::string::npos) return open_lits(folder);
  }
  fail(folder, ": not a recognised dataset (looked for dataset.json (MSD), images/ + masks/ (slice folder), ",
       "volume-N.nii[.gz] (LiTS))");
}

}  // namespace gb::io

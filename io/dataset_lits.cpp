// LiTS layout: volume-N.nii[.gz] and segmentation-N.nii[.gz] side by side in one folder.
// Cases are sorted by N. With require_labels, a volume without its segmentation is an error (the
// LiTS test set has none: open it with require_labels = false). A segmentation without its volume,
// or a case present both as .nii and .nii.gz, is always an error.
#include <algorithm>
#include <filesystem>
#include <map>

#include "io/dataset.h"
#include "io/dataset_volume_common.h"

namespace fs = std::filesystem;

namespace gb::io {
namespace {

// "volume-12.nii.gz" with prefix "volume-" -> 12; -1 when the name has another form.
int64_t parse_name(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0) return -1;
  std::string rest = name.substr(prefix.size());
  size_t dot = rest.find('.');
  if (dot == 0 || dot == std::string::npos) return -1;
  std::string num = rest.substr(0, dot), ext = rest.substr(dot);
  if (ext != ".nii" && ext != ".nii.gz") return -1;
  for (char c : num)
    if (c < '0' || c > '9') return -1;
  if (num.size() > 15) return -1;
  return std::stoll(num);
}

class LitsDataset final : public detail::VolumePairDataset {
 public:
  LitsDataset(const std::string& folder, bool require_labels) : VolumePairDataset("lits", folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) fail(folder, ": LiTS folder not found");
    std::map<int64_t, fs::path> vols, segs;
    for (const auto& e : fs::directory_iterator(folder, ec)) {
      if (!e.is_regular_file()) continue;
      const std::string n = e.path().filename().string();
      for (auto [prefix, m] : {std::pair<const char*, std::map<int64_t, fs::path>*>{"volume-", &vols},
                               {"segmentation-", &segs}}) {
        int64_t k = parse_name(n, prefix);
        if (k < 0) continue;
        if (m->count(k))
          fail(e.path().string(), ": case ", k, " is present twice (also ", (*m)[k].string(), ")");
        (*m)[k] = e.path();
      }
    }
    if (vols.empty()) fail(folder, ": no volume-N.nii[.gz] files in the LiTS folder");
    for (const auto& [k, p] : segs)
      if (!vols.count(k)) fail(p.string(), ": segmentation has no matching volume-", k, ".nii[.gz] in ", folder);
    for (const auto& [k, p] : vols) {
      ItemInfo it;
      it.id = it.case_id = "volume-" + std::to_string(k);
      it.index = k;
      it.image_path = p.string();
      if (segs.count(k)) it.label_path = segs[k].string();
      else if (require_labels)
        fail(p.string(), ": no segmentation-", k, ".nii[.gz] beside it (open with require_labels = false for ",
             "unlabelled volumes)");
      items_.push_back(it);
    }
  }
};

}  // namespace

std::unique_ptr<Dataset> open_lits(const std::string& folder, bool require_labels) {
  return std::make_unique<LitsDataset>(folder, require_labels);
}

}  // namespace gb::io

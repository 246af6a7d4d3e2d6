// Medical Segmentation Decathlon Task03_Liver: dataset.json lists the training pairs
//   "training": [{"image": "./imagesTr/liver_0.nii.gz", "label": "./labelsTr/liver_0.nii.gz"}, ...]
// with paths relative to the folder; "labels" (when present) must only use 0, 1, 2. Every listed file
// must exist (checked at open, nothing decoded). Case id: the file name without .nii[.gz].
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/dataset.h"
#include "io/dataset_volume_common.h"

namespace fs = std::filesystem;

namespace gb::io {
namespace {

std::string strip_nii(std::string n) {
  for (const char* ext : {".nii.gz", ".nii"}) {
    std::string e = ext;
    if (n.size() > e.size() && n.compare(n.size() - e.size(), e.size(), e) == 0) return n.substr(0, n.size() - e.size());
  }
  return n;
}

class MsdDataset final : public detail::VolumePairDataset {
 public:
  explicit MsdDataset(const std::string& folder) : VolumePairDataset("msd", folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) fail(folder, ": MSD folder not found");
    const std::string jpath = (fs::path(folder) / "dataset.json").string();
    std::ifstream f(jpath);
    if (!f) fail(jpath, ": cannot open (an MSD task folder needs dataset.json)");
    nlohmann::json j;
    try {
      f >> j;
    } catch (const std::exception& e) {
      fail(jpath, ": not valid JSON (", e.what(), ")");
    }
    if (j.contains("labels") && j["labels"].is_object())
      for (const auto& [k, v] : j["labels"].items())
        if (k != "0" && k != "1" && k != "2")
          fail(jpath, ": label ", k, " (", v.dump(), ") is not 0/1/2; expected 0 background, 1 liver, 2 tumour");
    if (!j.contains("training") || !j["training"].is_array())
      fail(jpath, ": no \"training\" list of {image, label} pairs");
    for (const auto& e : j["training"]) {
      if (!e.is_object() || !e.contains("image") || !e["image"].is_string())
        fail(jpath, ": training entry without an \"image\" path: ", e.dump());
      ItemInfo it;
      it.image_path = (fs::path(folder) / e["image"].get<std::string>()).lexically_normal().string();
      if (e.contains("label") && e["label"].is_string())
        it.label_path = (fs::path(folder) / e["label"].get<std::string>()).lexically_normal().string();
      else
        fail(jpath, ": training entry without a \"label\" path: ", e.dump());
      if (!fs::is_regular_file(it.image_path, ec)) fail(it.image_path, ": listed in ", jpath, " but missing");
      if (!fs::is_regular_file(it.label_path, ec)) fail(it.label_path, ": listed in ", jpath, " but missing");
      it.id = it.case_id = strip_nii(fs::path(it.image_path).filename().string());
      it.index = detail::trailing_number(it.id);
      items_.push_back(it);
    }
    if (items_.empty()) fail(jpath, ": the training list is empty");
  }
};

}  // namespace

std::unique_ptr<Dataset> open_msd(const std::string& folder) { return std::make_unique<MsdDataset>(folder); }

}  // namespace gb::io

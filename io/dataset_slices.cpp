// Slice folders: images/ + masks/ of 8-bit PNG/JPEG slices, optionally described by manifest.csv.
//
// Pairing without a manifest: image "S.<png|jpg|jpeg>" goes with mask "S_mask.png" or "S.png" in
// masks/. Every image needs a mask and every mask an image, otherwise the error names the orphan.
// Case ids: the manifest's `volume` column ("volume-N"); else the part of the name before
// "_slice_<S>" ("volume-3_slice_46" -> case "volume-3", slice 46); else the whole stem.
// Items are sorted by (case number, case id, slice, name) so the order never depends on the file
// system's listing order.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "io/dataset.h"
#include "io/image.h"

namespace fs = std::filesystem;

namespace gb::io {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}
bool is_image_name(const std::string& n) {
  std::string e = lower(fs::path(n).extension().string());
  return e == ".png" || e == ".jpg" || e == ".jpeg";
}
std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n\""), b = s.find_last_not_of(" \t\r\n\"");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}
bool parse_int(const std::string& s, int64_t& v) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (!std::isdigit((unsigned char)s[k])) return false;
  v = std::stoll(s);
  return true;
}
// Trailing number of a case id ("volume-12" -> 12), -1 when none.
int64_t trailing_number(const std::string& s) {
  size_t e = s.size(), b = e;
  while (b > 0 && std::isdigit((unsigned char)s[b - 1])) --b;
  if (b == e || e - b > 15) return -1;
  return std::stoll(s.substr(b));
}
// "volume-3_slice_46" -> ("volume-3", 46); otherwise (stem, -1).
std::pair<std::string, int64_t> case_and_slice(const std::string& stem) {
  size_t p = stem.rfind("_slice_");
  int64_t s = -1;
  if (p != std::string::npos && p > 0 && parse_int(stem.substr(p + 7), s)) return {stem.substr(0, p), s};
  return {stem, -1};
}

class SliceFolder final : public Dataset {
 public:
  SliceFolder(const std::string& folder, const SliceFolderOptions& opt) : folder_(folder), opt_(opt) {
    GB_CHECK(opt.channels == 0 || opt.channels == 1 || opt.channels == 3, folder,
             ": slice folder: channels must be 0, 1 or 3, got ", opt.channels);
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) fail(folder, ": slice folder not found");
    const fs::path img_dir = fs::path(folder) / "images", mask_dir = fs::path(folder) / "masks";
    if (!fs::is_directory(img_dir, ec)) fail(img_dir.string(), ": images/ folder not found in slice folder");
    if (!fs::is_directory(mask_dir, ec)) fail(mask_dir.string(), ": masks/ folder not found in slice folder");
    const fs::path manifest = fs::path(folder) / "manifest.csv";
    if (opt.use_manifest && fs::exists(manifest, ec))
      from_manifest(manifest.string(), img_dir, mask_dir);
    else
      by_name(img_dir, mask_dir);
    std::sort(items_.begin(), items_.end(), [](const ItemInfo& a, const ItemInfo& b) {
      return std::tie(a.index, a.case_id, a.slice, a.id) < std::tie(b.index, b.case_id, b.slice, b.id);
    });
  }

  std::string name() const override { return "slices:" + folder_; }
  bool is_volume() const override { return false; }
  Units units() const override { return Units::Pixel8; }
  int64_t size() const override { return (int64_t)items_.size(); }
  const ItemInfo& item(int64_t i) const override {
    GB_CHECK(i >= 0 && i < size(), name(), ": item ", i, " out of range [0, ", size(), ")");
    return items_[(size_t)i];
  }

  Sample load(int64_t i) const override {
    const ItemInfo& it = item(i);
    Sample s;
    s.info = it;
    s.is_volume = false;
    s.units = Units::Pixel8;
    s.has_spacing = false;
    s.image.data = read_image(it.image_path, opt_.channels).to(DType::F32);
    s.image.path = it.image_path;
    Tensor lab = read_label_image(it.label_path);
    check_label_values(lab, it.label_path);
    if (lab.size(0) != s.image.data.size(1) || lab.size(1) != s.image.data.size(2))
      fail(it.label_path, ": mask is ", lab.size(1), "x", lab.size(0), " but image ", it.image_path, " is ",
           s.image.data.size(2), "x", s.image.data.size(1), " (width x height)");
    s.label.data = lab;
    s.label.path = it.label_path;
    return s;
  }

 private:
  void add(const std::string& stem, const fs::path& img, const fs::path& mask, int64_t volume, int64_t slice) {
    ItemInfo it;
    it.id = stem;
    auto cs = case_and_slice(stem);
    if (volume >= 0) {
      it.case_id = "volume-" + std::to_string(volume);
      it.index = volume;
    } else {
      it.case_id = cs.first;
      it.index = trailing_number(cs.first);
    }
    it.slice = slice >= 0 ? slice : cs.second;
    it.image_path = img.string();
    it.label_path = mask.string();
    items_.push_back(std::move(it));
  }

  void from_manifest(const std::string& path, const fs::path& img_dir, const fs::path& mask_dir) {
    std::vector<ManifestRow> rows = read_slice_manifest(path);
    if (rows.empty()) fail(path, ": manifest lists no slices");
    std::error_code ec;
    for (const ManifestRow& r : rows) {
      fs::path img = img_dir / r.image, mask = mask_dir / r.mask;
      if (!fs::is_regular_file(img, ec))
        fail(img.string(), ": image listed on line ", r.line, " of ", path, " does not exist");
      if (!fs::is_regular_file(mask, ec))
        fail(mask.string(), ": mask listed on line ", r.line, " of ", path, " does not exist");
      add(fs::path(r.image).stem().string(), img, mask, r.volume, r.slice);
    }
  }

  void by_name(const fs::path& img_dir, const fs::path& mask_dir) {
    std::map<std::string, fs::path> images;  // stem -> path
    std::set<std::string> masks;             // file names
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(img_dir, ec))
      if (e.is_regular_file() && is_image_name(e.path().filename().string())) {
        std::string stem = e.path().stem().string();
        if (images.count(stem))
          fail(e.path().string(), ": two images share the name ", stem, " (", images[stem].string(), ")");
        images[stem] = e.path();
      }
    for (const auto& e : fs::directory_iterator(mask_dir, ec))
      if (e.is_regular_file() && is_image_name(e.path().filename().string())) masks.insert(e.path().filename().string());
    if (images.empty()) fail(img_dir.string(), ": no PNG/JPEG images in the slice folder's images/");
    if (masks.empty()) fail(mask_dir.string(), ": no PNG masks in the slice folder's masks/");
    std::set<std::string> used;
    for (const auto& [stem, img] : images) {
      std::string m;
      for (const std::string& cand : {stem + "_mask.png", stem + ".png"})
        if (masks.count(cand)) {
          m = cand;
          break;
        }
      if (m.empty())
        fail(img.string(), ": no mask for this image in ", mask_dir.string(), " (looked for ", stem, "_mask.png and ",
             stem, ".png)");
      used.insert(m);
      add(stem, img, mask_dir / m, -1, -1);
    }
    for (const std::string& m : masks)
      if (!used.count(m))
        fail((mask_dir / m).string(), ": mask has no matching image in ", img_dir.string());
  }

  std::string folder_;
  SliceFolderOptions opt_;
  std::vector<ItemInfo> items_;
};

}  // namespace

std::vector<ManifestRow> read_slice_manifest(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail(path, ": cannot open manifest");
  std::string line;
  if (!std::getline(f, line)) fail(path, ": manifest is empty (expected a header line)");
  std::map<std::string, int> col;
  {
    std::stringstream ss(line);
    std::string c;
    int k = 0;
    while (std::getline(ss, c, ',')) col[lower(trim(c))] = k++;
  }
  if (!col.count("image") || !col.count("mask"))
    fail(path, ": manifest header must name columns 'image' and 'mask', got: ", line);
  auto colidx = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (col.count(n)) return col[n];
    return -1;
  };
  const int ci = col["image"], cm = col["mask"], cv = colidx({"volume"}), cs = colidx({"slice"}),
            cl = colidx({"liver_pixels"}), ct = colidx({"tumor_pixels", "tumour_pixels"});
  std::vector<ManifestRow> rows;
  int64_t ln = 1;
  while (std::getline(f, line)) {
    ++ln;
    if (trim(line).empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(trim(c));
    auto cell = [&](int k) { return (k >= 0 && (size_t)k < cells.size()) ? cells[(size_t)k] : std::string(); };
    ManifestRow r;
    r.line = ln;
    r.image = cell(ci);
    r.mask = cell(cm);
    if (r.image.empty() || r.mask.empty()) fail(path, ":", ln, ": missing image or mask name");
    auto num = [&](int k, int64_t& v, const char* what) {
      if (k < 0) return;
      if (!parse_int(cell(k), v)) fail(path, ":", ln, ": column '", what, "' is not an integer: '", cell(k), "'");
    };
    num(cv, r.volume, "volume");
    num(cs, r.slice, "slice");
    num(cl, r.liver_pixels, "liver_pixels");
    num(ct, r.tumour_pixels, "tumor_pixels");
    rows.push_back(std::move(r));
  }
  return rows;
}

std::unique_ptr<Dataset> open_slice_folder(const std::string& folder, const SliceFolderOptions& opt) {
  return std::make_unique<SliceFolder>(folder, opt);
}

}  // namespace gb::io

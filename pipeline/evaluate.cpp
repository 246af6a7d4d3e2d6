#include "pipeline/evaluate.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "io/dataset.h"
#include "io/image.h"
#include "io/nifti.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/predict.h"
#include "train/run.h"
#include "train/sliding_window.h"

namespace gb::pipeline {
namespace fs = std::filesystem;

namespace {

// "volume-<digits>.nii" or "volume-<digits>.nii.gz" (a LiTS CT volume). Plain string checks: GCC 12's
// -Wmaybe-uninitialized fires inside <regex> in the -O1 sanitizer build.
bool is_lits_image(const std::string& n) {
  if (n.rfind("volume-", 0) != 0) return false;
  size_t i = 7;
  while (i < n.size() && n[i] >= '0' && n[i] <= '9') ++i;
  if (i == 7) return false;
  const std::string rest = n.substr(i);
  return rest == ".nii" || rest == ".nii.gz";
}

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}
bool is_label_file(const std::string& name) {
  return ends_with(name, ".nii") || ends_with(name, ".nii.gz") || ends_with(name, ".png");
}
bool is_nifti(const std::string& path) { return ends_with(path, ".nii") || ends_with(path, ".nii.gz"); }

// The label files of a folder given as prediction or truth (see evaluate.h).
std::vector<std::string> label_files(const std::string& dir, const char* role) {
  std::error_code ec;
  GB_CHECK(fs::is_directory(dir, ec), dir, ": ", role, " folder does not exist or is not a folder");
  fs::path d(dir);
  if (fs::is_directory(d / "masks", ec)) d /= "masks";           // slice folder
  else if (fs::is_directory(d / "labelsTr", ec)) d /= "labelsTr";  // MSD
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(d, ec))
    if (e.is_regular_file(ec)) names.push_back(e.path().filename().string());
  GB_CHECK(!ec, dir, ": cannot list the ", role, " folder: ", ec.message());
  const bool lits = std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.rfind("segmentation-", 0) == 0; });
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (!is_label_file(n) || n.find("_prob_") != std::string::npos) continue;
    if (lits && is_lits_image(n)) continue;  // LiTS CT volumes beside their labels
    out.push_back((d / n).string());
  }
  std::sort(out.begin(), out.end());
  GB_CHECK(!out.empty(), d.string(), ": no ", role, " label files (.nii, .nii.gz or .png)");
  return out;
}

// Shortest distinct trailing parts of the checkpoint paths ("a/best.safetensors", ...).
std::vector<std::string> model_names(const std::vector<std::string>& paths) {
  for (size_t k = 1; k <= 8; ++k) {
    std::vector<std::string> names;
    for (const auto& p : paths) {
      std::vector<std::string> parts;
      for (const auto& c : fs::path(p).lexically_normal()) parts.push_back(c.string());
      std::string n;
      for (size_t i = parts.size() > k ? parts.size() - k : 0; i < parts.size(); ++i)
        n += (n.empty() || n == "/" ? "" : "/") + parts[i];
      if (k == 1) n = fs::path(p).stem().string();
      names.push_back(n);
    }
    if (std::set<std::string>(names.begin(), names.end()).size() == names.size()) return names;
  }
  return paths;
}

struct Labels {
  Tensor data;  // i32 [D, H, W] or [H, W]
  std::array<double, 3> spacing{1, 1, 1};
  bool spacing_known = false;
  io::Volume volume;  // NIfTI only (for the geometry check)
};

Labels read_labels(const std::string& path) {
  Labels l;
  if (is_nifti(path)) {
    io::ReadOptions ro;
    ro.as_labels = true;
    l.volume = io::read_nifti(path, ro);
    l.data = l.volume.data;
    l.spacing = l.volume.spacing;
    l.spacing_known = true;
  } else {
    l.data = io::read_label_image(path);
  }
  return l;
}

void check_pair(const Labels& p, const Labels& t, const FilePair& f) {
  GB_CHECK(is_nifti(f.pred) == is_nifti(f.truth), f.pred, " and ", f.truth, ": one is NIfTI, the other an image");
  if (is_nifti(f.pred)) io::check_same_geometry(t.volume, p.volume);
  GB_CHECK(p.data.shape() == t.data.shape(), f.pred, " (", p.data.desc(), ") and ", f.truth, " (", t.data.desc(),
           "): shapes differ");
}

bool wanted(const std::vector<std::string>& cases, const std::string& c) {
  return cases.empty() || std::find(cases.begin(), cases.end(), c) != cases.end();
}

void check_outputs(const EvaluateOptions& opt, std::string& csv, std::string& json) {
  GB_CHECK(!opt.out.empty(), "evaluate: --out FOLDER is required (metrics.csv and metrics.json go there)");
  csv = (fs::path(opt.out) / "metrics.csv").string();
  json = (fs::path(opt.out) / "metrics.json").string();
  std::error_code ec;
  for (const auto& f : {csv, json})
    GB_CHECK(opt.force || !fs::exists(f, ec), f, ": exists (use --force to overwrite)");
  fs::create_directories(opt.out, ec);
  GB_CHECK(fs::is_directory(opt.out, ec), opt.out, ": cannot create the output folder");
}

}  // namespace

std::string match_key(const std::string& filename) {
  std::string n = fs::path(filename).filename().string();
  for (const char* e : {".nii.gz", ".nii", ".png"})
    if (ends_with(n, e)) {
      n.resize(n.size() - std::string(e).size());
      break;
    }
  for (const char* s : {"_seg", "_pred", "_mask", "_label"})
    if (ends_with(n, s)) {
      n.resize(n.size() - std::string(s).size());
      break;
    }
  if (n.rfind("segmentation-", 0) == 0) n = "volume-" + n.substr(13);
  return n;
}

std::string case_of_key(const std::string& key) {
  // "<case>_slice_<digits>" -> "<case>" (the last "_slice_", digits to the end).
  const size_t at = key.rfind("_slice_");
  if (at == std::string::npos || at == 0 || at + 7 >= key.size()) return key;
  for (size_t i = at + 7; i < key.size(); ++i)
    if (key[i] < '0' || key[i] > '9') return key;
  return key.substr(0, at);
}

std::vector<FilePair> match_files(const std::string& pred_dir, const std::string& truth_dir,
                                  const std::vector<std::string>& cases) {
  auto index = [&](const std::vector<std::string>& files) {
    std::map<std::string, std::string> m;
    for (const auto& f : files) {
      const std::string key = match_key(f);
      if (!wanted(cases, case_of_key(key))) continue;
      auto [it, fresh] = m.emplace(key, f);
      GB_CHECK(fresh, f, " and ", it->second, ": both match the name '", it->first, "'");
    }
    return m;
  };
  const auto pm = index(label_files(pred_dir, "prediction")), tm = index(label_files(truth_dir, "truth"));
  std::vector<FilePair> out;
  for (const auto& [k, f] : pm)
    GB_CHECK(tm.count(k), f, ": extra prediction, no truth file in ", truth_dir, " matches '", k, "'");
  for (const auto& [k, f] : tm) {
    auto it = pm.find(k);
    GB_CHECK(it != pm.end(), f, ": no prediction in ", pred_dir, " matches '", k, "'");
    out.push_back({k, it->second, f});
  }
  return out;
}

eval::ClassDef parse_class(const std::string& spec) {
  const auto eq = spec.find('=');
  GB_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < spec.size(), "--class '", spec,
           "': expected NAME=LABEL[,LABEL...], e.g. liver=1,2");
  eval::ClassDef c;
  c.name = spec.substr(0, eq);
  std::string rest = spec.substr(eq + 1);
  size_t p = 0;
  while (p <= rest.size()) {
    const size_t q = std::min(rest.find(',', p), rest.size());
    const std::string v = rest.substr(p, q - p);
    GB_CHECK(!v.empty() && v.size() <= 9 && v.find_first_not_of("0123456789") == std::string::npos, "--class '",
             spec, "': '", v, "' is not a label value (a non-negative integer)");
    c.labels.push_back(std::stoi(v));
    p = q + 1;
  }
  return c;
}

EvaluateResult evaluate(const EvaluateOptions& opt, const EvaluateProgress& progress, const EvaluateMessage& message) {
  const bool folder_mode = !opt.pred.empty() || !opt.truth.empty();
  GB_CHECK(folder_mode != (!opt.models.empty() || !opt.data.empty()),
           "evaluate: give either --pred DIR --truth DIR or --model CKPT --data PATH");
  GB_CHECK(!opt.classes.empty(), "evaluate: no classes to score");
  EvaluateResult r;
  check_outputs(opt, r.csv_path, r.json_path);
  r.info.command = opt.command;
  r.info.classes = opt.classes;
  r.info.resamples = opt.resamples;
  r.info.seed = opt.seed;
  auto say = [&](const std::string& line, bool done) {
    if (progress) progress(line, done);
  };

  if (folder_mode) {
    GB_CHECK(!opt.pred.empty() && !opt.truth.empty(), "evaluate: --pred and --truth go together");
    std::vector<FilePair> pairs = match_files(opt.pred, opt.truth, opt.cases);
    // case -> its pairs (one for a volume, the slices of a volume otherwise), in key order.
    std::map<std::string, std::vector<FilePair>> cases;
    for (const auto& p : pairs) cases[case_of_key(p.key)].push_back(p);
    for (const auto& c : opt.cases) GB_CHECK(cases.count(c), "evaluate: case '", c, "' is not among the files");
    eval::ModelScores m;
    m.name = "prediction";
    int64_t done = 0;
    for (const auto& [cid, parts] : cases) {
      std::vector<eval::CaseScorer> sc;
      for (const auto& c : opt.classes) sc.emplace_back(cid, c, opt.metrics);
      for (const auto& f : parts) {
        Labels p = read_labels(f.pred), t = read_labels(f.truth);
        check_pair(p, t, f);
        for (auto& s : sc) s.add(p.data, t.data, t.spacing, t.spacing_known);
      }
      for (auto& s : sc) m.rows.push_back(s.finish());
      ++done;
      say("evaluate: " + std::to_string(done) + "/" + std::to_string(cases.size()) + " cases (" + cid + ")",
          done == (int64_t)cases.size());
    }
    r.models.push_back(std::move(m));
    r.info.source = "pred: " + opt.pred + ", truth: " + opt.truth;
  } else {
    GB_CHECK(!opt.models.empty() && !opt.data.empty(), "evaluate: --model and --data go together");
    // Everything is opened before any work: every checkpoint, the dataset, the cases.
    std::vector<train::Checkpoint> cks;
    for (const auto& p : opt.models) cks.push_back(train::load_checkpoint(p));
    // phantom:N without a SEED gets glassbox train's default seed (1234), not the bootstrap seed.
    auto ds = train::open_data(opt.data, 1234, opt.phantom_size, opt.phantom_depth);
    std::vector<std::string> ids;
    for (const auto& c : ds->case_ids())
      if (wanted(opt.cases, c)) ids.push_back(c);
    for (const auto& c : opt.cases)
      GB_CHECK(std::find(ids.begin(), ids.end(), c) != ids.end(), opt.data, ": no case '", c, "'");
    for (size_t k = 0; k < cks.size(); ++k)
      io::check_units(cks[k].pre, ds->units(), opt.models[k] + " on " + opt.data);
    // Each checkpoint runs where --device puts it (predictions bring their labels back to the host).
    std::vector<std::string> notes;
    for (size_t k = 0; k < cks.size(); ++k) {
      const train::DeviceChoice dc = train::choose_device(opt.device, cks[k].model->config(), false, "evaluate");
      if (!dc.note.empty() && std::find(notes.begin(), notes.end(), dc.note) == notes.end()) {
        notes.push_back(dc.note);
        if (message) message(dc.note);
      }
      cks[k].model->to(dc.device);
      r.devices.push_back(device_name(dc.device));
    }
    const auto names = model_names(opt.models);
    for (size_t k = 0; k < cks.size(); ++k) r.models.push_back({names[k], {}, {}});
    int64_t done = 0;
    for (const auto& cid : ids) {
      // scorers[model][class]
      std::vector<std::vector<eval::CaseScorer>> sc(cks.size());
      for (auto& v : sc)
        for (const auto& c : opt.classes) v.emplace_back(cid, c, opt.metrics);
      for (int64_t item : ds->items_of_cases({cid})) {
        io::Sample s = ds->load(item);
        const std::string where = s.info.label_path.empty() ? s.info.id : s.info.label_path;
        GB_CHECK(s.label.data.defined(), where, ": evaluation needs labels");
        for (size_t k = 0; k < cks.size(); ++k) {
          Tensor pred;
          const io::Preprocess& pre = cks[k].pre;
          if (pre.depth > 0) {
            train::SlidingWindowOptions so;
            so.window = pre.window;
            so.units = pre.units;
            pred = train::predict_volume_3d(*cks[k].model, s.image, so);
          } else {
            train::PredictOptions po;
            po.pre = pre;
            po.batch = opt.batch;
            pred = s.is_volume ? train::predict_volume(*cks[k].model, s.image, po)
                               : train::predict_image(*cks[k].model, s.image.data, po).labels;
          }
          for (auto& c : sc[k]) c.add(pred, s.label.data, s.image.spacing, s.has_spacing);
        }
      }
      for (size_t k = 0; k < cks.size(); ++k)
        for (auto& c : sc[k]) r.models[k].rows.push_back(c.finish());
      ++done;
      say("evaluate: " + std::to_string(done) + "/" + std::to_string(ids.size()) + " cases (" + cid + "), " +
              std::to_string(cks.size()) + " model" + (cks.size() > 1 ? "s" : ""),
          done == (int64_t)ids.size());
    }
    r.info.source = "data: " + opt.data;
  }
  GB_CHECK(!r.models.front().rows.empty(), "evaluate: no cases to score");
  bool all_mm = true, any_mm = false;
  for (const auto& m : r.models)
    for (const auto& row : m.rows) all_mm &= row.spacing_known, any_mm |= row.spacing_known;
  r.info.distance_unit = all_mm ? "mm" : any_mm ? "mm (voxel for cases without spacing)" : "voxel";
  eval::summarise_models(r.models, opt.classes, opt.resamples, opt.seed);
  r.comparisons = eval::compare_models(r.models, opt.classes, opt.resamples, opt.seed);
  r.table = eval::format_table(r.models, r.comparisons, r.info);
  eval::write_metrics_csv(r.csv_path, r.models);
  eval::write_metrics_json(r.json_path, r.models, r.comparisons, r.info);
  return r;
}

}  // namespace gb::pipeline

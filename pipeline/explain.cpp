#include "pipeline/explain.h"

#include <algorithm>
#include <array>
#include <climits>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "draw/panel.h"
#include "io/dicom.h"
#include "io/image.h"
#include "io/nifti.h"
#include "io/preprocess.h"
#include "io/safetensors.h"
#include "eval/components.h"
#include "train/predict.h"
#include "train/run.h"
#include "train/sliding_window.h"
#include "xai/attention_rollout.h"
#include "xai/cam.h"
#include "xai/gradients.h"
#include "xai/layers.h"
#include "xai/occlusion.h"
#include "xai/saliency_baselines.h"
#include "xai/saliency_metrics.h"
#include "xai/smoothgrad.h"

namespace fs = std::filesystem;

namespace gb::pipeline {

std::vector<std::string> explain_methods() {
  return {"gradcam",    "hirescam",   "gradcam++", "layercam", "ig",          "gradient", "gradxinput",
          "smoothgrad", "vargrad",    "occlusion", "rollout",  "gradrollout", "relevance"};
}

namespace {

bool ends_with(std::string s, const std::string& e) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return (char)std::tolower(c); });
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}
bool is_nifti(const std::string& p) { return ends_with(p, ".nii") || ends_with(p, ".nii.gz"); }
bool is_image(const std::string& p) { return ends_with(p, ".png") || ends_with(p, ".jpg") || ends_with(p, ".jpeg"); }
std::string stem_of(const std::string& p) {
  std::string n = fs::path(p).filename().string();
  for (const char* e : {".nii.gz", ".nii", ".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"})
    if (n.size() > strlen(e) && n.compare(n.size() - strlen(e), strlen(e), e) == 0) return n.substr(0, n.size() - strlen(e));
  return n;
}
std::string file_tag(std::string m) {
  for (size_t i; (i = m.find('+')) != std::string::npos;) m.replace(i, 1, "p");
  return m;
}

using Item = ExplainInput;

std::vector<Item> read_inputs(const std::string& in, const std::string& truth) {
  GB_CHECK(!in.empty(), "explain: --in is required");
  GB_CHECK(fs::exists(in), in, ": no such file or folder");
  std::vector<Item> items;
  auto slice_item = [](const std::string& p) {
    Item it;
    it.path = p;
    it.name = stem_of(p);
    it.image = io::read_image(p, 0).to(DType::F32);
    return it;
  };
  // A volume (NIfTI or DICOM) with its truth: a NIfTI label map on the same grid.
  auto volume_item = [&](const std::string& path, const std::string& name, io::Volume vol) {
    Item it;
    it.path = path;
    it.name = name;
    it.volume = true;
    it.vol = std::move(vol);
    if (!truth.empty()) {
      io::Volume t = io::read_nifti(truth);
      io::check_same_geometry(it.vol, t);
      it.truth = t.data.to(DType::I32);
    }
    items.push_back(std::move(it));
  };
  if (fs::is_regular_file(in)) {
    if (is_nifti(in)) {
      volume_item(in, stem_of(in), io::read_nifti(in));
    } else if (is_image(in)) {
      Item it = slice_item(in);
      if (!truth.empty()) it.truth = io::read_label_image(truth);
      items.push_back(std::move(it));
    } else {
      fail(in, ": not a NIfTI (.nii, .nii.gz) or PNG/JPG file");
    }
  } else {
    std::vector<std::string> images;
    for (auto& e : fs::directory_iterator(in))
      if (e.is_regular_file() && is_image(e.path().string())) images.push_back(e.path().string());
    std::sort(images.begin(), images.end());
    if (images.empty()) {  // a DICOM series (one per folder), read as segment reads it
      auto series = io::list_dicom_series(in);
      GB_CHECK(!series.empty(), in, ": holds no PNG/JPG slices and no DICOM series (give a NIfTI volume as a file)");
      GB_CHECK(series.size() == 1, in, ": holds ", series.size(), " DICOM series; point --in at a folder with one series");
      std::string name = fs::path(in).filename().string();
      if (name.empty()) name = fs::path(in).parent_path().filename().string();
      volume_item(in, name, io::read_dicom_series(in));
    }
    if (!truth.empty() && !images.empty())
      GB_CHECK(fs::is_directory(truth), truth, ": a slice folder needs a folder of label PNGs as --truth");
    for (auto& p : images) {
      Item it = slice_item(p);
      if (!truth.empty()) {
        std::string m;
        for (const std::string& c : {it.name + "_mask.png", it.name + ".png"})
          if (fs::exists(fs::path(truth) / c)) m = (fs::path(truth) / c).string();
        GB_CHECK(!m.empty(), truth, ": no label for ", p, " (expected ", it.name, "_mask.png or ", it.name, ".png)");
        it.truth = io::read_label_image(m);
      }
      items.push_back(std::move(it));
    }
  }
  for (auto& it : items) {
    const Tensor& d = it.volume ? it.vol.data : it.image;
    const int64_t H = d.size(d.dim() - 2), W = d.size(d.dim() - 1);
    GB_CHECK(H >= 16 && W >= 16, it.path, ": ", W, "x", H, " pixels is too small to explain (at least 16x16)");
    if (it.truth.defined()) {
      const Shape want = it.volume ? it.vol.data.shape() : Shape{H, W};
      GB_CHECK(it.truth.shape() == want, it.path, ": the truth ", it.truth.desc(), " does not match the image ", d.desc());
    }
  }
  return items;
}

// A dataset (what `train --data` takes) rather than files: stacks:, phantom:, or a folder laid out as
// a slice folder (images/ + masks/), an MSD task (dataset.json) or LiTS (volume-N.nii[.gz]).
bool is_dataset_spec(const std::string& in) {
  if (in.rfind("stacks:", 0) == 0 || in.rfind("phantom:", 0) == 0) return true;
  std::error_code ec;
  if (!fs::is_directory(in, ec)) return false;
  if (fs::exists(fs::path(in) / "dataset.json", ec)) return true;
  if (fs::is_directory(fs::path(in) / "images", ec) && fs::is_directory(fs::path(in) / "masks", ec)) return true;
  for (const auto& e : fs::directory_iterator(in, ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("volume-", 0) == 0 && n.find(".nii") != std::string::npos) return true;
  }
  return false;
}

// Item i of a dataset as an input: a volume (with its units) or a slice, the dataset's labels as truth.
ExplainInput load_dataset_item(const io::Dataset& ds, int64_t i) {
  io::Sample s = ds.load(i);
  ExplainInput it;
  it.item = i;
  it.name = s.info.id;
  // Files name themselves; generated volumes and stacks (assembled from a folder) by dataset/case.
  const bool assembled = s.info.image_path.empty() || ds.name().rfind("stacks:", 0) == 0;
  it.path = assembled ? ds.name() + "/" + s.info.id : s.info.image_path;
  it.volume = s.is_volume;
  it.units = s.units;
  if (s.is_volume) {
    it.vol = s.image;
  } else {
    it.image = s.image.data;
  }
  if (s.label.data.defined()) it.truth = s.label.data.to(DType::I32);
  return it;
}

std::vector<std::pair<std::string, double>> scores_of(const xai::SaliencyScores& s);

// Rows of metrics, in a fixed order.
std::vector<std::pair<std::string, double>> saliency_scores(const Tensor& map, const Tensor& mask, bool signed_map,
                                                            const xai::PerturbationProbe* probe = nullptr) {
  xai::SaliencyOptions so;
  so.sign = signed_map ? xai::MapSign::Abs : xai::MapSign::Relu;
  return scores_of(probe ? xai::score_map(map, mask, *probe, so) : xai::score_map(map, mask, so));
}

std::vector<std::pair<std::string, double>> scores_of(const xai::SaliencyScores& s) {
  return {{"pointing_game", s.pointing_game}, {"mass_in_mask", s.mass_in_mask}, {"rank_accuracy", s.rank_accuracy},
          {"roc_auc", s.roc_auc},             {"iou_otsu", s.otsu.iou},          {"dice_otsu", s.otsu.dice},
          {"iou_topk", s.topk.iou},           {"dice_topk", s.topk.dice},        {"gini", s.gini},
          {"deletion_auc", s.deletion_auc},   {"insertion_auc", s.insertion_auc}};
}

bool needs_truth(const ExplainOptions& o) {
  return o.target.region == xai::RegionKind::Truth || (o.target.region == xai::RegionKind::Component && o.target.of_truth);
}

Tensor to_native(const Tensor& map, int64_t H, int64_t W) {  // f64 [h, w] -> f32 [H, W], bilinear
  Tensor m = map.to(DType::F32).contiguous().view_reshape({1, map.size(0), map.size(1)});
  return io::resize_bilinear(m, H, W).contiguous().view_reshape({H, W});
}

Tensor abs01(const Tensor& t) {
  auto v = t.contiguous().to_vector();
  for (double& e : v) e = std::fabs(e);
  return xai::normalise01(Tensor::from_vector(v, t.shape()));
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string r = "\"";
  for (char c : s) r += c == '"' ? std::string("\"\"") : std::string(1, c);
  return r + "\"";
}

}  // namespace

ExplainPlan plan_explain(models::SegmentationModel& model, const io::Preprocess& pre, const std::string& in,
                         const std::string& out, const ExplainOptions& opt) {
  GB_CHECK(!out.empty(), "explain: --out is required");
  GB_CHECK(opt.perturbation_steps >= 0 && opt.perturbation_steps <= 10000, "explain: --perturbation-steps must be in 0..10000, got ",
           opt.perturbation_steps);
  const auto known = explain_methods();
  GB_CHECK(!opt.methods.empty(), "explain: no --method given");
  for (auto& m : opt.methods)
    GB_CHECK(std::find(known.begin(), known.end(), m) != known.end(), "explain: unknown method '", m,
             "' (gradcam, hirescam, gradcam++, layercam, ig, gradient, gradxinput, smoothgrad, vargrad, occlusion, ",
             "rollout, gradrollout, relevance)");
  for (auto& m : opt.methods)
    GB_CHECK(!(m == "rollout" || m == "gradrollout" || m == "relevance") ||
                 (model.config().arch == "transunet" && model.config().vit.layers > 0),
             "explain: --method ", m, " needs a transformer (TransUNet); ", model.config().name, " has none");
  GB_CHECK(opt.smooth_of == "gradient" || opt.smooth_of == "gradxinput" || opt.smooth_of == "ig",
           "explain: --smooth-of must be gradient, gradxinput or ig, got '", opt.smooth_of, "'");
  {
    auto layers = xai::list_layers(model);
    for (auto& l : opt.layers) {
      auto it = std::find_if(layers.begin(), layers.end(), [&](const xai::LayerInfo& i) { return i.name == l; });
      GB_CHECK(it != layers.end(), "explain: no layer '", l, "' in ", model.config().name, " (--list-layers lists them)");
      GB_CHECK(it->feature_map, "explain: layer '", l, "' output ", str(it->output), " is not a feature map");
    }
  }
  // Inputs and the output folder are checked before anything is written.
  std::vector<Item> items;
  std::shared_ptr<io::Dataset> dataset;
  auto check_item = [&](const Item& it) {  // what the options ask of one input
    if (it.volume)
      for (int64_t k : opt.slices)
        GB_CHECK(k >= 0 && k < it.vol.data.size(0), it.path, ": slice ", k, " out of range (0..", it.vol.data.size(0) - 1, ")");
    GB_CHECK(!needs_truth(opt) || it.truth.defined(), it.path, ": the target region needs --truth");
  };
  if (is_dataset_spec(in)) {
    GB_CHECK(opt.truth.empty(), in, ": a dataset's own labels are the truth; --truth is for files");
    dataset = train::open_data(in, opt.seed, 128, 32);
    const auto all = dataset->case_ids();
    for (const std::string& c : opt.cases)
      GB_CHECK(std::find(all.begin(), all.end(), c) != all.end(), in, ": has no case '", c, "' (it has ", all.size(),
               " cases, e.g. ", all.front(), ")");
    const std::vector<int64_t> idx = opt.cases.empty() ? [&] {
      std::vector<int64_t> v((size_t)dataset->size());
      for (int64_t i = 0; i < dataset->size(); ++i) v[(size_t)i] = i;
      return v;
    }() : dataset->items_of_cases(opt.cases);
    GB_CHECK(!idx.empty(), in, ": no item to explain");
    for (int64_t i : idx) {  // each read once here to check it, and again when explained (memory stays small)
      Item full = load_dataset_item(*dataset, i);
      const Tensor& d = full.volume ? full.vol.data : full.image;
      GB_CHECK(d.size(d.dim() - 2) >= 16 && d.size(d.dim() - 1) >= 16, full.path, ": ", d.desc(), " is too small to explain (at least 16x16)");
      check_item(full);
      Item light;  // what explain() needs to read it again
      light.item = i;
      light.name = full.name;
      light.path = full.path;
      light.volume = full.volume;
      light.units = full.units;
      items.push_back(std::move(light));
    }
  } else {
    GB_CHECK(opt.cases.empty(), "explain: --cases selects cases of a dataset; ", in, " is a file or a folder of slices");
    items = read_inputs(in, opt.truth);
    for (auto& it : items) check_item(it);
  }
  for (auto& it : items) io::check_units(pre, it.volume ? it.units : io::Units::Pixel8, it.path);
  if (pre.depth > 0) {
    for (auto& it : items)
      GB_CHECK(it.volume, it.path, ": ", model.config().name,
               " is a 3-D model and explains volumes (NIfTI, a LiTS or MSD folder, stacks:FOLDER, phantom:N), not slices");
    GB_CHECK(opt.slices.empty(), "explain: --slices is for 2-D models; a 3-D model explains windows around each lesion");
  }
  if (fs::exists(out)) {
    GB_CHECK(fs::is_directory(out), out, ": exists and is not a folder");
    GB_CHECK(opt.force || fs::is_empty(out), out, ": the output folder already holds files (use --force to overwrite)");
  }
  ExplainPlan plan;
  plan.inputs = std::move(items);
  plan.dataset = dataset;
  plan.out = out;
  return plan;
}

namespace {

// One method on one model input x [1, C, *spatial]: the map on the model's grid (f64 [*spatial]), a
// [0, 1] copy for pictures, whether the map is signed, and the row's T / completeness / evaluations.
// `skipped` (with a reason) when the method cannot explain this input (e.g. a relevance pass with
// nothing to propagate): that map only is left out.
struct MethodOut {
  Tensor map, map01;
  bool signed_map = true, skipped = false;
  std::string reason;
};

// The baseline of IG, occlusion and deletion / insertion.
xai::BaselineOptions baseline_options(const io::Preprocess& pre, const ExplainOptions& opt) {
  xai::BaselineOptions bo;
  bo.kind = opt.baseline;
  bo.sigma = opt.blur_sigma;
  bo.seed = opt.seed;
  bo.pre = &pre;
  return bo;
}

// Deletion / insertion (xai/saliency_metrics.h) on the model input x [1, C, *spatial]: pixels go to
// the baseline (or come back from it) most salient first, T scored without a graph in batches sized
// to the memory budget. Null when perturbation_steps is 0.
std::unique_ptr<xai::PerturbationProbe> make_probe(models::SegmentationModel& model, const io::Preprocess& pre,
                                                   const ExplainOptions& opt, const Tensor& x, const xai::Target& target) {
  if (opt.perturbation_steps <= 0) return nullptr;
  auto pr = std::make_unique<xai::PerturbationProbe>();
  pr->image = x;
  pr->baseline = xai::make_baseline(x, baseline_options(pre, opt));
  pr->options.steps = opt.perturbation_steps;
  pr->options.batch = xai::batch_for_budget(opt.memory_mb, xai::bytes_per_sample(model, x, true), opt.perturbation_steps + 1);
  const Shape chw(x.shape().begin() + 1, x.shape().end());
  models::SegmentationModel* m = &model;
  pr->score = [m, target, chw](const Tensor& b) {
    return xai::target_values(
        *m, b.size(0), [&](int64_t s) { return b.view_slice(0, s, s + 1).contiguous().view_reshape(chw); }, target,
        b.size(0));
  };
  return pr;
}

MethodOut run_method(models::SegmentationModel& model, const io::Preprocess& pre, const ExplainOptions& opt,
                     const std::string& method, const Tensor& x, const xai::Target& target, ExplainRow& row) {
  MethodOut o;
  const xai::BaselineOptions bo = baseline_options(pre, opt);
  if (method == "gradcam" || method == "hirescam" || method == "gradcam++" || method == "layercam") {
    auto s = xai::cam(model, x, target, xai::cam_method_from_name(method), opt.layers).at(0);
    o.map = s.layers.size() == 1 ? s.layers[0].upsampled : s.combined;
    o.map01 = s.combined;
    o.signed_map = false;
    row.target = s.target;
    for (auto& l : s.layers) row.layers += (row.layers.empty() ? "" : "+") + l.layer;
    row.evaluations = 1;
  } else if (method == "ig") {
    xai::IgOptions io = opt.ig;
    io.memory_mb = opt.memory_mb;
    auto r = xai::integrated_gradients(model, x, xai::make_baseline(x, bo), target, io);
    o.map = r.map;
    row.target = r.T_input, row.target_baseline = r.T_baseline;
    row.delta_abs = r.delta_abs, row.delta_rel = r.delta_rel;
    row.evaluations = r.evaluations;
    row.warning = r.warning;
  } else if (method == "gradient" || method == "gradxinput") {
    auto s = xai::gradient_map(model, x, target, method == "gradxinput");
    o.map = s.map;
    row.target = s.target;
    row.evaluations = 1;
  } else if (method == "smoothgrad" || method == "vargrad") {
    xai::SmoothOptions so;
    so.method = opt.smooth_of == "ig"           ? xai::GradMethod::IntegratedGradients
                : opt.smooth_of == "gradxinput" ? xai::GradMethod::GradientXInput
                                                : xai::GradMethod::Gradient;
    so.samples = opt.smooth_samples;
    so.sigma = opt.smooth_sigma;
    so.seed = opt.seed;
    so.memory_mb = opt.memory_mb;
    if (so.method == xai::GradMethod::IntegratedGradients) so.baseline = xai::make_baseline(x, bo), so.ig = opt.ig;
    auto r = xai::smooth_grad(model, x, target, so);
    o.map = method == "smoothgrad" ? r.mean.map : r.variance.map;
    row.target = r.mean.target;
    row.evaluations = r.samples;
  } else if (method == "rollout" || method == "gradrollout" || method == "relevance") {
    // Transformer attributions (xai/attention_rollout.h): rows of the tokens overlapping M.
    xai::TransformerOptions to;
    to.method = method == "rollout"       ? xai::TransformerMethod::Rollout
                : method == "gradrollout" ? xai::TransformerMethod::GradRollout
                                          : xai::TransformerMethod::Relevance;
    xai::TransformerMap r;
    try {
      r = xai::transformer_attribution(model, x, target, to);
    } catch (const Error& e) {
      o.skipped = true;
      o.reason = e.what();
      return o;
    }
    o.map = r.upsampled;
    o.signed_map = false;
    row.target = r.target;
    row.evaluations = 1;
    if (method == "relevance") {
      row.delta_abs = r.lrp.delta_abs, row.delta_rel = r.lrp.delta_rel;
      row.warning = r.lrp.warning;
    }
  } else {  // occlusion
    xai::OcclusionOptions oo;
    oo.patch = opt.occlusion_patch;
    oo.stride = opt.occlusion_stride;
    oo.memory_mb = opt.memory_mb;
    auto r = xai::occlusion(model, x, xai::make_baseline(x, bo), target, oo);
    o.map = r.map;
    row.target = r.T_input;
    row.evaluations = r.patches + 1;
  }
  o.map01 = o.signed_map ? abs01(o.map) : xai::normalise01(o.map);
  return o;
}

// The scoring mask: the true class-c pixels when a truth is given, else the explained region.
Tensor scoring_mask(const xai::Target& target, const Tensor& truth_model, int64_t cls) {
  if (!truth_model.defined()) return target.mask;
  auto tv = truth_model.contiguous().to_vector_as<int32_t>();
  std::vector<double> mv(tv.size());
  for (size_t i = 0; i < tv.size(); ++i) mv[i] = tv[i] == cls;
  return Tensor::from_vector(mv, target.mask.shape());
}

// Chance rows (a random map and an edge map scored alike) for one unit: a plane x [1, C, h, w] with
// its mask [h, w], or a 3-D model's window x [1, C, d, h, w] with its mask [d, h, w] (the maps are then
// 3-D: a 3-D random map and the 3x3x3 Sobel magnitude). `like` gives the unit's scope, slice and window;
// with a probe the deletion / insertion AUCs get their chance level too.
void add_chance_rows(ExplainSummary& sum, const ExplainRow& like, const Tensor& x, const Tensor& mask, uint64_t seed,
                     const xai::PerturbationProbe* probe = nullptr) {
  xai::ChanceScores cs = xai::score_chance_maps(x, mask, {}, seed, probe);
  for (auto [tag, sc] :
       {std::pair<const char*, xai::SaliencyScores*>{"chance-random", &cs.random}, {"chance-edge", &cs.edge}}) {
    ExplainRow row = like;
    row.method = tag;
    row.scores = scores_of(*sc);
    sum.rows.push_back(row);
  }
}

// The row every map of one unit starts from: the input, and where in it.
ExplainRow unit_row(const ExplainInput& it, int64_t slice, int64_t region_pixels) {
  ExplainRow row;
  row.input = it.path;
  row.name = it.name;
  row.slice = slice;
  row.region_pixels = region_pixels;
  return row;
}

// The CT picture with truth and prediction outlines, for viewers (<name>_s<k>_ct.png).
void write_ct_picture(ExplainSummary& sum, const std::string& out, const ExplainInput& it, int64_t k, const Tensor& ct01,
                      const Tensor& truth_k, const Tensor& pred_k) {
  Tensor ct_rgb = draw::grey_to_rgb(ct01.to(DType::F32).contiguous());
  if (truth_k.defined()) draw::draw_label_contours(ct_rgb, truth_k.contiguous());
  if (pred_k.defined())
    draw::draw_label_contours(ct_rgb, pred_k.contiguous(),
                              {draw::Rgb{0, 0, 0}, draw::Rgb{80, 160, 255}, draw::Rgb{255, 230, 0}});
  const std::string png = (fs::path(out) / (it.name + "_s" + std::to_string(k) + "_ct.png")).string();
  io::write_png(png, ct_rgb);
  sum.files.push_back(png);
}

// The panel and the transparent map layer of one (slice, method).
void write_map_pictures(ExplainSummary& sum, const std::string& out, const ExplainInput& it, int64_t k,
                        const std::string& method, draw::PanelInput& p) {
  const std::string base = (fs::path(out) / (it.name + "_s" + std::to_string(k) + "_" + file_tag(method))).string();
  io::write_png(base + ".png", draw::explanation_panel(p));
  sum.files.push_back(base + ".png");
  io::write_png(base + "_layer.png", draw::heat_layer(p.map01));
  sum.files.push_back(base + "_layer.png");
}

// Plane z of a [D, H, W] tensor as [H, W] (contiguous).
Tensor plane(const Tensor& v, int64_t z) { return v.view_slice(0, z, z + 1).contiguous().view_reshape({v.size(1), v.size(2)}); }

// Box [o, o + p) per axis of a [D, H, W] tensor, contiguous.
Tensor crop3(const Tensor& v, const std::array<int64_t, 3>& o, const std::array<int64_t, 3>& p) {
  return v.view_slice(0, o[0], o[0] + p[0]).view_slice(1, o[1], o[1] + p[1]).view_slice(2, o[2], o[2] + p[2]).contiguous();
}

// A 3-D model on one volume: windows of its patch size centred on the target class's components.
void explain_volume_3d(models::SegmentationModel& model, const io::Preprocess& pre, const ExplainOptions& opt,
                       const std::string& out, const ExplainInput& it, ExplainSummary& sum,
                       const std::function<void(int64_t, int64_t, const std::string&)>& progress) {
  train::SlidingWindowOptions so;
  so.window = pre.window;
  so.units = it.units;
  const Tensor pred = train::predict_volume_3d(model, it.vol, so);  // i32 [D, H, W]
  const std::array<int64_t, 3> n{it.vol.data.size(0), it.vol.data.size(1), it.vol.data.size(2)};
  const std::array<int64_t, 3> p{pre.depth, pre.height, pre.width};
  std::array<int64_t, 3> P{}, before{};  // padded size and the padding before the volume, per axis
  for (int a = 0; a < 3; ++a) P[a] = std::max(n[a], p[a]), before[a] = (P[a] - n[a]) / 2;
  auto pad = [&](const Tensor& v, DType dt) {  // [D, H, W] -> [P0, P1, P2], zeros around
    Tensor z = Tensor::zeros({P[0], P[1], P[2]}, dt);
    z.view_slice(0, before[0], before[0] + n[0]).view_slice(1, before[1], before[1] + n[1])
        .view_slice(2, before[2], before[2] + n[2]).copy_from(v);
    return z;
  };
  const Tensor unit = pad(io::to_unit_range(it.vol.data.to(DType::F32), it.units, pre.window), DType::F32);
  const Tensor predp = pad(pred, DType::I32);
  const Tensor truthp = it.truth.defined() ? pad(it.truth, DType::I32) : Tensor();
  // Windows: one per component of the class in the region's source, largest first; a component whose
  // voxels all lie in an earlier window gets none.
  const Tensor& src = needs_truth(opt) ? truthp : predp;
  Tensor cls_mask = Tensor::empty({P[0], P[1], P[2]}, DType::I32);  // 1 where the class is
  {
    const Tensor sc = src.contiguous();
    const int32_t* a = sc.data<int32_t>();
    int32_t* b = cls_mask.data<int32_t>();
    for (int64_t i = 0, N = sc.numel(); i < N; ++i) b[i] = a[i] == opt.target.cls;
  }
  eval::Components cc = eval::connected_components(cls_mask);
  const auto lab = cc.labels.contiguous().to_vector_as<int32_t>();
  const int64_t ncomp = (int64_t)cc.sizes.size();
  std::vector<std::array<int64_t, 6>> bbox((size_t)ncomp, {INT64_MAX, INT64_MAX, INT64_MAX, -1, -1, -1});
  for (int64_t z = 0, i = 0; z < P[0]; ++z)
    for (int64_t y = 0; y < P[1]; ++y)
      for (int64_t x = 0; x < P[2]; ++x, ++i)
        if (lab[(size_t)i] > 0) {
          auto& b = bbox[(size_t)lab[(size_t)i] - 1];
          const int64_t c[3] = {z, y, x};
          for (int a = 0; a < 3; ++a) b[a] = std::min(b[a], c[a]), b[3 + a] = std::max(b[3 + a], c[a]);
        }
  std::vector<int64_t> order((size_t)ncomp);
  for (int64_t i = 0; i < ncomp; ++i) order[(size_t)i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cc.sizes[(size_t)a] > cc.sizes[(size_t)b]; });
  std::vector<std::array<int64_t, 3>> origins;
  for (int64_t c : order) {
    const auto& b = bbox[(size_t)c];
    bool covered = false;
    for (auto& o : origins) {
      bool in = true;
      for (int a = 0; a < 3; ++a) in = in && b[a] >= o[a] && b[3 + a] < o[a] + p[a];
      covered = covered || in;
    }
    if (covered) continue;
    std::array<int64_t, 3> o{};
    for (int a = 0; a < 3; ++a) o[a] = std::clamp((b[a] + b[3 + a] + 1) / 2 - p[a] / 2, (int64_t)0, P[a] - p[a]);
    origins.push_back(o);
  }
  if (origins.empty())
    sum.warnings.push_back(it.path + ": no voxel holds class " + std::to_string(opt.target.cls) + "; nothing explained");
  std::map<std::string, std::vector<float>> vols;  // method -> [D, H, W] map at the input's grid
  const int64_t total = (int64_t)(origins.size() * opt.methods.size());
  int64_t done = 0;
  for (size_t w = 0; w < origins.size(); ++w) {
    const auto& o = origins[w];
    const std::string where = it.name + " window " + std::to_string(w + 1) + "/" + std::to_string(origins.size()) +
                              " at slice " + std::to_string(o[0] - before[0]);
    const Tensor unit_w = crop3(unit, o, p);  // f32 [pd, ph, pw] in [0, 1]: the input, and the pictures' CT
    Tensor x = unit_w.view_reshape({1, 1, p[0], p[1], p[2]}).to(xai::model_dtype(model));
    Tensor truth_w = truthp.defined() ? crop3(truthp, o, p) : Tensor();
    Tensor pred_w = crop3(predp, o, p);
    xai::Target target;
    try {
      target = xai::resolve_target(model, x, opt.target, truth_w);
    } catch (const Error& e) {
      sum.warnings.push_back(it.path + " " + where + ": skipped: " + e.what());
      done += (int64_t)opt.methods.size();
      continue;
    }
    const Tensor score_mask = scoring_mask(target, truth_w, opt.target.cls);  // f64 [pd, ph, pw]
    const Tensor region_w = target.mask.to(DType::I32).contiguous();          // the explained region, for pictures
    const auto probe = make_probe(model, pre, opt, x, target);                  // the whole window
    // The window's planes that are real slices and hold the scoring mask: scored, pictured.
    std::vector<int64_t> zs;
    {
      auto mv = score_mask.contiguous().to_vector();
      for (int64_t z = 0; z < p[0]; ++z) {
        const int64_t k = o[0] + z - before[0];
        if (k < 0 || k >= n[0]) continue;
        if (std::any_of(mv.begin() + z * p[1] * p[2], mv.begin() + (z + 1) * p[1] * p[2], [](double v) { return v != 0; }))
          zs.push_back(z);
      }
    }
    for (int64_t z : zs) {
      const int64_t k = o[0] + z - before[0];
      Tensor x2 = x.view_slice(2, z, z + 1).contiguous().view_reshape({1, 1, p[1], p[2]});
      add_chance_rows(sum, unit_row(it, k, target.pixels()), x2, plane(score_mask, z), opt.seed);
      write_ct_picture(sum, out, it, k, plane(unit_w, z), truth_w.defined() ? plane(truth_w, z) : Tensor(),
                       plane(pred_w, z));
    }
    // The window's own chance rows, scored in 3-D like its maps (with the probe: deletion / insertion).
    ExplainRow window_row = unit_row(it, -1, target.pixels());
    window_row.scope = "window";
    window_row.window = {o[0] - before[0], o[1] - before[1], o[2] - before[2], p[0], p[1], p[2]};
    add_chance_rows(sum, window_row, x, score_mask, opt.seed, probe.get());
    for (const std::string& method : opt.methods) {
      auto t0 = std::chrono::steady_clock::now();
      ExplainRow row = window_row;
      row.method = method;
      MethodOut r = run_method(model, pre, opt, method, x, target, row);
      ++done;
      if (r.skipped) {
        sum.warnings.push_back(it.path + " " + where + ": " + method + " skipped: " + r.reason);
        if (progress) progress(done, total, where + " " + method + " (skipped)");
        continue;
      }
      row.scores = saliency_scores(r.map, score_mask, r.signed_map, probe.get());
      row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!row.warning.empty()) sum.warnings.push_back(it.path + " " + where + ": " + row.warning);
      sum.rows.push_back(row);
      // Per plane: the same map scored on that plane alone, and its pictures.
      const Tensor map3 = r.map.contiguous(), map01 = r.map01.contiguous();
      for (int64_t z : zs) {
        const int64_t k = o[0] + z - before[0];
        ExplainRow pr = row;
        pr.scope = "slice";
        pr.slice = k;
        pr.warning.clear();
        pr.scores = saliency_scores(plane(map3, z), plane(score_mask, z), r.signed_map);
        sum.rows.push_back(pr);
        draw::PanelInput pi;
        pi.ct01 = plane(unit_w, z);
        pi.truth = truth_w.defined() ? plane(truth_w, z) : Tensor();
        pi.prediction = plane(pred_w, z);
        pi.map01 = plane(map01, z).to(DType::F32).contiguous();
        pi.region = plane(region_w, z);
        write_map_pictures(sum, out, it, k, method, pi);
      }
      // Into the method's volume (padding cropped away).
      auto& v = vols[method];
      if (v.empty()) v.assign((size_t)(n[0] * n[1] * n[2]), 0.f);
      const auto mv = map3.to_vector_as<float>();
      for (int64_t z = 0; z < p[0]; ++z)
        for (int64_t y = 0; y < p[1]; ++y)
          for (int64_t xx = 0; xx < p[2]; ++xx) {
            const int64_t kz = o[0] + z - before[0], ky = o[1] + y - before[1], kx = o[2] + xx - before[2];
            if (kz < 0 || kz >= n[0] || ky < 0 || ky >= n[1] || kx < 0 || kx >= n[2]) continue;
            v[(size_t)((kz * n[1] + ky) * n[2] + kx)] = mv[(size_t)((z * p[1] + y) * p[2] + xx)];
          }
      if (progress) progress(done, total, where + " " + method);
    }
  }
  for (auto& [method, v] : vols) {
    const std::string f = (fs::path(out) / (it.name + "_" + file_tag(method) + ".nii.gz")).string();
    io::WriteOptions wo;
    wo.dtype = io::NiftiDType::F32;
    io::write_nifti_in_geometry(f, it.vol, Tensor::from_vector(v, {n[0], n[1], n[2]}), wo);
    sum.files.push_back(f);
  }
}

}  // namespace

ExplainSummary explain(models::SegmentationModel& model, const io::Preprocess& pre, const ExplainPlan& plan,
                       const ExplainOptions& opt,
                       const std::function<void(int64_t, int64_t, const std::string&)>& progress_all) {
  const std::string& out = plan.out;
  fs::create_directories(out);
  ExplainSummary sum;
  const bool needs_truth_region = needs_truth(opt);
  const size_t n_inputs = plan.inputs.size();
  int64_t passed_over = 0;  // dataset slices without the class
  for (size_t input_no = 0; input_no < n_inputs; ++input_no) {
    const ExplainInput& planned = plan.inputs[input_no];
    // With several inputs the line says which one: "input 3/115: ...".
    std::function<void(int64_t, int64_t, const std::string&)> progress;
    if (progress_all)
      progress = [&](int64_t d, int64_t t, const std::string& what) {
        progress_all(d, t, n_inputs > 1 ? "input " + std::to_string(input_no + 1) + "/" + std::to_string(n_inputs) + ": " + what : what);
      };
    ExplainInput loaded;
    if (planned.item >= 0) loaded = load_dataset_item(*plan.dataset, planned.item);
    const ExplainInput& it = planned.item >= 0 ? loaded : planned;
    if (pre.depth > 0) {
      explain_volume_3d(model, pre, opt, out, it, sum, progress);
      continue;
    }
    // A dataset's slices are chosen as a volume's are: those holding the class where the region looks
    // (the others are counted, not warned about one by one). A truth region is checked before the
    // prediction is run.
    auto holds_class = [&](const Tensor& labels) {
      const auto v = labels.contiguous().to_vector_as<int32_t>();
      return std::any_of(v.begin(), v.end(), [&](int32_t l) { return l == opt.target.cls; });
    };
    const bool dataset_slice = !it.volume && planned.item >= 0;
    if (dataset_slice && needs_truth_region && !holds_class(it.truth)) {
      ++passed_over;
      continue;
    }
    train::PredictOptions po;
    po.pre = pre;
    Tensor pred = it.volume ? train::predict_volume(model, it.vol, po) : train::predict_image(model, it.image, po).labels;
    if (dataset_slice && !needs_truth_region && !holds_class(pred)) {
      ++passed_over;
      continue;
    }
    const int64_t D = it.volume ? it.vol.data.size(0) : 1;
    const Tensor& img = it.volume ? it.vol.data : it.image;
    const int64_t H = img.size(img.dim() - 2), W = img.size(img.dim() - 1);
    // Slices: asked for, or every slice holding the target class where the region looks for it.
    std::vector<int64_t> ks = opt.slices;
    if (!it.volume) ks = {0};
    if (ks.empty()) {
      const Tensor& src = needs_truth_region ? it.truth : pred;
      const auto v = src.contiguous().to_vector_as<int32_t>();
      for (int64_t k = 0; k < D; ++k)
        if (std::any_of(v.begin() + k * H * W, v.begin() + (k + 1) * H * W, [&](int32_t l) { return l == opt.target.cls; }))
          ks.push_back(k);
      if (ks.empty()) sum.warnings.push_back(it.path + ": no slice holds class " + std::to_string(opt.target.cls) + "; nothing explained");
    }
    std::map<std::string, std::vector<float>> vols;  // method -> [D, H, W] map at the input's resolution
    const int64_t total = (int64_t)(ks.size() * opt.methods.size());
    int64_t done = 0;
    for (int64_t k : ks) {
      Tensor x = it.volume ? io::model_input_slice(it.vol.data, k, pre) : io::model_input_image(it.image, pre);  // [1, C, h, w]
      x = x.to(xai::model_dtype(model));
      Tensor truth_k = it.truth.defined() ? (it.volume ? io::label_slice(it.truth, k) : it.truth) : Tensor();
      Tensor pred_k = it.volume ? io::label_slice(pred, k) : pred;
      Tensor truth_model = truth_k.defined() ? io::pre_resize_label(truth_k, pre) : Tensor();
      xai::Target target;
      try {
        target = xai::resolve_target(model, x, opt.target, truth_model);
      } catch (const Error& e) {
        sum.warnings.push_back(it.path + " slice " + std::to_string(k) + ": skipped: " + e.what());
        done += (int64_t)opt.methods.size();
        continue;
      }
      // Saliency metrics against the true tumour (or, without truth, the explained region).
      const Tensor score_mask = scoring_mask(target, truth_model, opt.target.cls);
      const auto probe = make_probe(model, pre, opt, x, target);
      add_chance_rows(sum, unit_row(it, k, target.pixels()), x, score_mask, opt.seed, probe.get());
      Tensor ct01 = io::pre_intensities(it.volume ? io::label_slice(it.vol.data, k) : it.image, pre);
      if (ct01.dim() == 3) ct01 = mean(ct01, {0});  // a colour slice shown in grey
      // Layers for viewers (the report): the CT with truth and prediction outlines, and below each
      // method's map as a transparent colour layer (<name>_s<k>_<method>_layer.png).
      write_ct_picture(sum, out, it, k, ct01, truth_k, pred_k);
      for (const std::string& method : opt.methods) {
        auto t0 = std::chrono::steady_clock::now();
        ExplainRow row = unit_row(it, k, target.pixels());
        row.method = method;
        MethodOut r = run_method(model, pre, opt, method, x, target, row);
        ++done;
        if (r.skipped) {
          sum.warnings.push_back(it.path + " slice " + std::to_string(k) + ": " + method + " skipped: " + r.reason);
          if (progress) progress(done, total, it.name + " slice " + std::to_string(k) + " " + method + " (skipped)");
          continue;
        }
        row.scores = saliency_scores(r.map, score_mask, r.signed_map, probe.get());
        // Map at the input's resolution, into the method's volume.
        Tensor native = to_native(r.map, H, W);
        auto& v = vols[method];
        if (v.empty()) v.assign((size_t)(D * H * W), 0.f);
        const auto nv = native.to_vector_as<float>();
        std::copy(nv.begin(), nv.end(), v.begin() + (it.volume ? k : 0) * H * W);
        draw::PanelInput p;
        p.ct01 = ct01.to(DType::F32).contiguous();
        p.truth = truth_k;
        p.prediction = pred_k;
        p.map01 = to_native(r.map01, H, W);
        p.region = io::resize_nearest(target.mask.to(DType::I32).contiguous(), H, W);
        write_map_pictures(sum, out, it, k, method, p);
        row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!row.warning.empty()) sum.warnings.push_back(it.path + " slice " + std::to_string(k) + ": " + row.warning);
        sum.rows.push_back(row);
        if (progress) progress(done, total, it.name + " slice " + std::to_string(k) + " " + method);
      }
    }
    for (auto& [method, v] : vols) {
      const std::string f = (fs::path(out) / (it.name + "_" + file_tag(method) + ".nii.gz")).string();
      io::WriteOptions wo;
      wo.dtype = io::NiftiDType::F32;
      if (it.volume) {
        io::write_nifti_in_geometry(f, it.vol, Tensor::from_vector(v, {D, H, W}), wo);
      } else {
        io::Volume ref;  // a slice has no geometry: one slice, unit spacing
        ref.data = Tensor::from_vector(v, {1, H, W});
        io::write_nifti_in_geometry(f, ref, ref.data, wo);
      }
      sum.files.push_back(f);
    }
  }
  if (passed_over > 0)
    sum.warnings.push_back(std::to_string(passed_over) + " of the dataset's " + std::to_string(n_inputs) + " slices hold no class " +
                           std::to_string(opt.target.cls) + (needs_truth_region ? " in the truth" : " in the prediction") +
                           "; not explained");
  // metrics.csv and metrics.json, one row per (input, slice, method).
  std::vector<std::string> score_names;
  if (!sum.rows.empty())
    for (auto& [n, v] : sum.rows[0].scores) score_names.push_back(n);
  const std::string csv = (fs::path(out) / "metrics.csv").string(), js = (fs::path(out) / "metrics.json").string();
  io::write_file_atomically(csv, "metrics", [&](std::FILE* f) {
    std::fprintf(f, "input,slice,scope,method,layers,class,region,region_pixels,T,T_baseline,delta_abs,delta_rel,evaluations,seconds");
    for (auto& n : score_names) std::fprintf(f, ",%s", n.c_str());
    std::fprintf(f, ",warning\n");
    for (auto& r : sum.rows) {
      std::fprintf(f, "%s,%lld,%s,%s,%s,%lld,%s,%lld,%.9g,%.9g,%.6g,%.6g,%lld,%.3f", csv_field(r.input).c_str(),
                   (long long)r.slice, r.scope.c_str(), r.method.c_str(), csv_field(r.layers).c_str(), (long long)opt.target.cls,
                   xai::region_kind_name(opt.target.region), (long long)r.region_pixels, r.target, r.target_baseline,
                   r.delta_abs, r.delta_rel, (long long)r.evaluations, r.seconds);
      for (auto& [n, v] : r.scores) std::fprintf(f, ",%.6g", v);
      std::fprintf(f, ",%s\n", csv_field(r.warning).c_str());
    }
  });
  nlohmann::json j = nlohmann::json::array();
  for (auto& r : sum.rows) {
    nlohmann::json e = {{"input", r.input}, {"name", r.name}, {"slice", r.slice}, {"scope", r.scope}, {"method", r.method}, {"layers", r.layers},
                        {"class", opt.target.cls}, {"region", xai::region_kind_name(opt.target.region)},
                        {"region_pixels", r.region_pixels}, {"T", r.target}, {"evaluations", r.evaluations},
                        {"seconds", r.seconds}};
    if (r.method == "ig") e["T_baseline"] = r.target_baseline;
    if (r.method == "ig" || r.method == "relevance") e["delta_abs"] = r.delta_abs, e["delta_rel"] = r.delta_rel;
    for (auto& [n, v] : r.scores) e[n] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
    if (!r.warning.empty()) e["warning"] = r.warning;
    if (!r.window.empty()) e["window"] = r.window;
    j.push_back(e);
  }
  const std::string text = j.dump(1);
  io::write_file_atomically(js, "metrics", [&](std::FILE* f) { std::fputs(text.c_str(), f); });
  sum.files.push_back(csv);
  sum.files.push_back(js);
  return sum;
}

}  // namespace gb::pipeline

#include "pipeline/explain.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "draw/panel.h"
#include "io/image.h"
#include "io/nifti.h"
#include "io/preprocess.h"
#include "io/safetensors.h"
#include "train/predict.h"
#include "xai/attention_rollout.h"
#include "xai/cam.h"
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
  if (fs::is_regular_file(in)) {
    if (is_nifti(in)) {
      Item it;
      it.path = in;
      it.name = stem_of(in);
      it.volume = true;
      it.vol = io::read_nifti(in);
      if (!truth.empty()) {
        io::Volume t = io::read_nifti(truth);
        io::check_same_geometry(it.vol, t);
        it.truth = t.data.to(DType::I32);
      }
      items.push_back(std::move(it));
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
    GB_CHECK(!images.empty(), in, ": holds no PNG/JPG slices (give a NIfTI volume as a file)");
    if (!truth.empty()) GB_CHECK(fs::is_directory(truth), truth, ": a slice folder needs a folder of label PNGs as --truth");
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

std::vector<std::pair<std::string, double>> scores_of(const xai::SaliencyScores& s);

// Rows of metrics, in a fixed order.
std::vector<std::pair<std::string, double>> saliency_scores(const Tensor& map, const Tensor& mask, bool signed_map) {
  xai::SaliencyOptions so;
  so.sign = signed_map ? xai::MapSign::Abs : xai::MapSign::Relu;
  return scores_of(xai::score_map(map, mask, so));
}

std::vector<std::pair<std::string, double>> scores_of(const xai::SaliencyScores& s) {
  return {{"pointing_game", s.pointing_game}, {"mass_in_mask", s.mass_in_mask}, {"rank_accuracy", s.rank_accuracy},
          {"roc_auc", s.roc_auc},             {"iou_otsu", s.otsu.iou},          {"dice_otsu", s.otsu.dice},
          {"iou_topk", s.topk.iou},           {"dice_topk", s.topk.dice},        {"gini", s.gini}};
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
  GB_CHECK(pre.depth == 0, "explain: ", model.config().name,
           " is a 3-D model; the command explains 2-D models (the library's xai::cam and IG take 3-D inputs)");
  GB_CHECK(!out.empty(), "explain: --out is required");
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
  std::vector<Item> items = read_inputs(in, opt.truth);
  for (auto& it : items) io::check_units(pre, it.volume ? io::Units::HU : io::Units::Pixel8, it.path);
  if (fs::exists(out)) {
    GB_CHECK(fs::is_directory(out), out, ": exists and is not a folder");
    GB_CHECK(opt.force || fs::is_empty(out), out, ": the output folder already holds files (use --force to overwrite)");
  }
  for (auto& it : items)
    if (it.volume)
      for (int64_t k : opt.slices)
        GB_CHECK(k >= 0 && k < it.vol.data.size(0), it.path, ": slice ", k, " out of range (0..", it.vol.data.size(0) - 1, ")");
  for (auto& it : items) GB_CHECK(!needs_truth(opt) || it.truth.defined(), it.path, ": the target region needs --truth");
  ExplainPlan plan;
  plan.inputs = std::move(items);
  plan.out = out;
  return plan;
}

ExplainSummary explain(models::SegmentationModel& model, const io::Preprocess& pre, const ExplainPlan& plan,
                       const ExplainOptions& opt,
                       const std::function<void(int64_t, int64_t, const std::string&)>& progress) {
  const std::string& out = plan.out;
  fs::create_directories(out);
  ExplainSummary sum;
  const bool needs_truth_region = needs_truth(opt);
  for (auto& it : plan.inputs) {
    train::PredictOptions po;
    po.pre = pre;
    Tensor pred = it.volume ? train::predict_volume(model, it.vol, po) : train::predict_image(model, it.image, po).labels;
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
      Tensor score_mask = target.mask;
      if (truth_model.defined()) {
        auto tv = truth_model.contiguous().to_vector_as<int32_t>();
        std::vector<double> mv(tv.size());
        for (size_t i = 0; i < tv.size(); ++i) mv[i] = tv[i] == opt.target.cls;
        score_mask = Tensor::from_vector(mv, target.mask.shape());
      }
      // What chance looks like on this slice: a random map and an edge map scored alike (one row each).
      {
        xai::ChanceScores cs = xai::score_chance_maps(x, score_mask, {}, opt.seed);
        for (auto [tag, sc] : {std::pair<const char*, xai::SaliencyScores*>{"chance-random", &cs.random},
                               {"chance-edge", &cs.edge}}) {
          ExplainRow row;
          row.input = it.path;
          row.name = it.name;
          row.method = tag;
          row.slice = k;
          row.region_pixels = target.pixels();
          row.scores = scores_of(*sc);
          sum.rows.push_back(row);
        }
      }
      xai::BaselineOptions bo;
      bo.kind = opt.baseline;
      bo.sigma = opt.blur_sigma;
      bo.seed = opt.seed;
      bo.pre = &pre;
      Tensor ct01 = io::pre_intensities(it.volume ? io::label_slice(it.vol.data, k) : it.image, pre);
      if (ct01.dim() == 3) ct01 = mean(ct01, {0});  // a colour slice shown in grey
      // Layers for viewers (the report): the CT with truth and prediction outlines, and below each
      // method's map as a transparent colour layer (<name>_s<k>_<method>_layer.png).
      {
        Tensor ct_rgb = draw::grey_to_rgb(ct01.to(DType::F32).contiguous());
        if (truth_k.defined()) draw::draw_label_contours(ct_rgb, truth_k.contiguous());
        if (pred_k.defined())
          draw::draw_label_contours(ct_rgb, pred_k.contiguous(),
                                    {draw::Rgb{0, 0, 0}, draw::Rgb{80, 160, 255}, draw::Rgb{255, 230, 0}});
        const std::string png = (fs::path(out) / (it.name + "_s" + std::to_string(k) + "_ct.png")).string();
        io::write_png(png, ct_rgb);
        sum.files.push_back(png);
      }
      for (const std::string& method : opt.methods) {
        auto t0 = std::chrono::steady_clock::now();
        ExplainRow row;
        row.input = it.path;
        row.name = it.name;
        row.method = method;
        row.slice = k;
        row.region_pixels = target.pixels();
        Tensor map;        // f64 [h, w] on the model's grid
        Tensor map01;      // for the panel
        bool signed_map = true;
        if (method == "gradcam" || method == "hirescam" || method == "gradcam++" || method == "layercam") {
          auto s = xai::cam(model, x, target, xai::cam_method_from_name(method), opt.layers).at(0);
          map = s.layers.size() == 1 ? s.layers[0].upsampled : s.combined;
          map01 = s.combined;
          signed_map = false;
          row.target = s.target;
          for (auto& l : s.layers) row.layers += (row.layers.empty() ? "" : "+") + l.layer;
          row.evaluations = 1;
        } else if (method == "ig") {
          xai::IgOptions io = opt.ig;
          io.memory_mb = opt.memory_mb;
          auto r = xai::integrated_gradients(model, x, xai::make_baseline(x, bo), target, io);
          map = r.map;
          row.target = r.T_input, row.target_baseline = r.T_baseline;
          row.delta_abs = r.delta_abs, row.delta_rel = r.delta_rel;
          row.evaluations = r.evaluations;
          row.warning = r.warning;
        } else if (method == "gradient" || method == "gradxinput") {
          auto s = xai::gradient_map(model, x, target, method == "gradxinput");
          map = s.map;
          row.target = s.target;
          row.evaluations = 1;
        } else if (method == "smoothgrad" || method == "vargrad") {
          xai::SmoothOptions so;
          so.method = opt.smooth_of == "ig" ? xai::GradMethod::IntegratedGradients
                      : opt.smooth_of == "gradxinput" ? xai::GradMethod::GradientXInput
                                                      : xai::GradMethod::Gradient;
          so.samples = opt.smooth_samples;
          so.sigma = opt.smooth_sigma;
          so.seed = opt.seed;
          so.memory_mb = opt.memory_mb;
          if (so.method == xai::GradMethod::IntegratedGradients) so.baseline = xai::make_baseline(x, bo), so.ig = opt.ig;
          auto r = xai::smooth_grad(model, x, target, so);
          map = method == "smoothgrad" ? r.mean.map : r.variance.map;
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
          } catch (const Error& e) {  // e.g. a relevance pass with nothing to propagate: this map only
            sum.warnings.push_back(it.path + " slice " + std::to_string(k) + ": " + method + " skipped: " + e.what());
            ++done;
            if (progress) progress(done, total, it.name + " slice " + std::to_string(k) + " " + method + " (skipped)");
            continue;
          }
          map = r.upsampled;
          signed_map = false;
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
          map = r.map;
          row.target = r.T_input;
          row.evaluations = r.patches + 1;
        }
        if (!map01.defined()) map01 = signed_map ? abs01(map) : xai::normalise01(map);
        row.scores = saliency_scores(map, score_mask, signed_map);
        // Map at the input's resolution, into the method's volume.
        Tensor native = to_native(map, H, W);
        auto& v = vols[method];
        if (v.empty()) v.assign((size_t)(D * H * W), 0.f);
        const auto nv = native.to_vector_as<float>();
        std::copy(nv.begin(), nv.end(), v.begin() + (it.volume ? k : 0) * H * W);
        // Panel.
        draw::PanelInput p;
        p.ct01 = ct01.to(DType::F32).contiguous();
        p.truth = truth_k;
        p.prediction = pred_k;
        p.map01 = to_native(map01, H, W);
        p.region = io::resize_nearest(target.mask.to(DType::I32).contiguous(), H, W);
        const std::string png = (fs::path(out) / (it.name + "_s" + std::to_string(k) + "_" + file_tag(method) + ".png")).string();
        io::write_png(png, draw::explanation_panel(p));
        sum.files.push_back(png);
        const std::string layer =
            (fs::path(out) / (it.name + "_s" + std::to_string(k) + "_" + file_tag(method) + "_layer.png")).string();
        io::write_png(layer, draw::heat_layer(p.map01));
        sum.files.push_back(layer);
        row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!row.warning.empty()) sum.warnings.push_back(it.path + " slice " + std::to_string(k) + ": " + row.warning);
        sum.rows.push_back(row);
        ++done;
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
  // metrics.csv and metrics.json, one row per (input, slice, method).
  std::vector<std::string> score_names;
  if (!sum.rows.empty())
    for (auto& [n, v] : sum.rows[0].scores) score_names.push_back(n);
  const std::string csv = (fs::path(out) / "metrics.csv").string(), js = (fs::path(out) / "metrics.json").string();
  io::write_file_atomically(csv, "metrics", [&](std::FILE* f) {
    std::fprintf(f, "input,slice,method,layers,class,region,region_pixels,T,T_baseline,delta_abs,delta_rel,evaluations,seconds");
    for (auto& n : score_names) std::fprintf(f, ",%s", n.c_str());
    std::fprintf(f, ",warning\n");
    for (auto& r : sum.rows) {
      std::fprintf(f, "%s,%lld,%s,%s,%lld,%s,%lld,%.9g,%.9g,%.6g,%.6g,%lld,%.3f", csv_field(r.input).c_str(),
                   (long long)r.slice, r.method.c_str(), csv_field(r.layers).c_str(), (long long)opt.target.cls,
                   xai::region_kind_name(opt.target.region), (long long)r.region_pixels, r.target, r.target_baseline,
                   r.delta_abs, r.delta_rel, (long long)r.evaluations, r.seconds);
      for (auto& [n, v] : r.scores) std::fprintf(f, ",%.6g", v);
      std::fprintf(f, ",%s\n", csv_field(r.warning).c_str());
    }
  });
  nlohmann::json j = nlohmann::json::array();
  for (auto& r : sum.rows) {
    nlohmann::json e = {{"input", r.input}, {"name", r.name}, {"slice", r.slice}, {"method", r.method}, {"layers", r.layers},
                        {"class", opt.target.cls}, {"region", xai::region_kind_name(opt.target.region)},
                        {"region_pixels", r.region_pixels}, {"T", r.target}, {"evaluations", r.evaluations},
                        {"seconds", r.seconds}};
    if (r.method == "ig") e["T_baseline"] = r.target_baseline;
    if (r.method == "ig" || r.method == "relevance") e["delta_abs"] = r.delta_abs, e["delta_rel"] = r.delta_rel;
    for (auto& [n, v] : r.scores) e[n] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
    if (!r.warning.empty()) e["warning"] = r.warning;
    j.push_back(e);
  }
  const std::string text = j.dump(1);
  io::write_file_atomically(js, "metrics", [&](std::FILE* f) { std::fputs(text.c_str(), f); });
  sum.files.push_back(csv);
  sum.files.push_back(js);
  return sum;
}

}  // namespace gb::pipeline

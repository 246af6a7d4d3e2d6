#include "pipeline/demo.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "eval/components.h"
#include "io/dataset.h"
#include "io/phantom.h"
#include "pipeline/evaluate.h"
#include "pipeline/explain.h"
#include "report/report.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/run.h"

namespace gb::pipeline {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void say(const DemoEvents& ev, const std::string& s) {
  if (ev.message) ev.message(s);
}

// Per true tumour (3-D component of label 2) the slice where it is largest, the largest tumours first.
std::vector<int64_t> tumour_slices(const Tensor& labels, int64_t max_tumours) {
  const auto lv = labels.contiguous().to_vector_as<int32_t>();
  std::vector<int32_t> tv(lv.size());
  for (size_t i = 0; i < lv.size(); ++i) tv[i] = lv[i] == 2;
  const auto comp = eval::connected_components(Tensor::from_vector(tv, labels.shape()));
  const int64_t D = labels.size(0), HW = labels.numel() / std::max<int64_t>(D, 1);
  const auto cl = comp.labels.to_vector_as<int32_t>();
  const size_t n = comp.sizes.size();
  std::vector<std::vector<int64_t>> area(n, std::vector<int64_t>((size_t)D, 0));
  for (int64_t k = 0; k < D; ++k)
    for (int64_t p = 0; p < HW; ++p) {
      const int32_t c = cl[(size_t)(k * HW + p)];
      if (c > 0) ++area[(size_t)c - 1][(size_t)k];
    }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return comp.sizes[a] > comp.sizes[b]; });
  std::vector<int64_t> slices;
  for (size_t i = 0; i < order.size() && (int64_t)slices.size() < max_tumours; ++i) {
    const auto& a = area[order[i]];
    const int64_t k = std::max_element(a.begin(), a.end()) - a.begin();
    if (std::find(slices.begin(), slices.end(), k) == slices.end()) slices.push_back(k);
  }
  std::sort(slices.begin(), slices.end());
  return slices;
}

}  // namespace

std::vector<DemoModel> default_demo_models() {
  DemoModel transunet;  // the paper's model: the small R50-ViT TransUNet
  transunet.config = "tiny";
  DemoModel unet;       // the baseline, given fewer steps to fit the 5-minute budget on 2 cores
  unet.config = "unet2d-tiny";
  unet.steps = 600;
  return {transunet, unet};
}

DemoResult run_demo(const DemoOptions& opt_in, const DemoEvents& ev) {
  DemoOptions opt = opt_in;
  if (opt.models.empty()) opt.models = default_demo_models();
  GB_CHECK(opt.size >= 16 && opt.size % 16 == 0, "demo: --size ", opt.size, " must be a positive multiple of 16");
  GB_CHECK(opt.cases >= 2, "demo: --cases ", opt.cases, " must be at least 2 (one is held out for testing)");
  GB_CHECK(opt.depth >= 3, "demo: --depth must be >= 3");
  for (const auto& m : opt.models)
    GB_CHECK(m.steps >= 1 && m.batch >= 1 && m.lr > 0, "demo: ", m.config, ": steps and batch must be >= 1, lr > 0");
  const auto t_all = Clock::now();
  DemoResult res;
  const fs::path out(opt.out);

  // 1. data
  res.data = (out / "data").string();
  io::PhantomOptions po;
  po.width = po.height = opt.size;
  po.depth = opt.depth;
  po.min_tumour_mm = opt.min_tumour_mm;
  auto t0 = Clock::now();
  io::write_phantom_dataset(res.data, opt.seed, opt.cases, po);
  char buf[512];
  std::snprintf(buf, sizeof buf, "data: %lld phantom CT volumes (%lldx%lldx%lld, seed %llu) in the LiTS layout -> %s (%.1f s)",
                (long long)opt.cases, (long long)opt.size, (long long)opt.size, (long long)opt.depth,
                (unsigned long long)opt.seed, res.data.c_str(), since(t0));
  say(ev, buf);

  // 2. training: one run folder per model, the same split (seed), data and preprocessing
  std::vector<std::string> ckpts;
  for (const auto& m : opt.models) {
    train::RunOptions ro;
    ro.model = m.config;
    ro.size = opt.size;
    ro.data = res.data;
    ro.out = (out / "runs" / m.config).string();
    ro.force = true;  // the demo's own folder
    ro.val_fraction = opt.val_fraction;
    ro.seed = opt.seed;
    ro.steps = m.steps;
    ro.batch = m.batch;
    ro.optimizer = m.optimizer;
    ro.lr = m.lr;
    ro.oversample = opt.oversample;
    ro.class_weights = opt.class_weights;
    ro.slices = "liver";
    ro.window_lo = opt.window_lo;
    ro.window_hi = opt.window_hi;
    ro.val_every = std::max<int64_t>(1, m.steps / 4);
    ro.ckpt_every = m.steps;
    ro.keep_last = 1;
    ro.device = opt.device;
    ro.command_line = opt.command;
    std::snprintf(buf, sizeof buf, "training %s: %lld steps of batch %lld, liver slices (tumour slices x%lld), 0.5 CE + 0.5 Dice, %s lr %.3g",
                  m.config.c_str(), (long long)m.steps, (long long)m.batch, (long long)opt.oversample, m.optimizer.c_str(), m.lr);
    say(ev, buf);
    train::RunEvents rev;
    rev.message = [&](const std::string& s) { say(ev, "  " + s); };
    rev.step = [&](const train::StepRecord& r, int64_t total, double eta) {
      char line[256];
      std::snprintf(line, sizeof line, "  %s step %lld/%lld  loss %.4f  %.2f s/step  ETA %.0f s", m.config.c_str(),
                    (long long)r.step + 1, (long long)total, r.loss, r.seconds, eta);
      if (ev.progress) ev.progress(line, r.step + 1 == total);
      if (r.validated) {
        std::snprintf(line, sizeof line, "  validation at step %lld: Dice liver %.3f, tumour %.3f", (long long)r.step + 1,
                      r.val_liver, r.val_tumour);
        say(ev, line);
      }
    };
    t0 = Clock::now();
    train::RunResult rr = train::start_run(ro, rev);
    DemoScore sc;
    sc.model = m.config;
    sc.train_seconds = since(t0);
    res.scores.push_back(sc);
    res.runs.push_back(ro.out);
    res.val_cases = rr.val_cases;
    ckpts.push_back(rr.final_checkpoint);
    std::snprintf(buf, sizeof buf, "trained %s in %.1f s -> %s", m.config.c_str(), sc.train_seconds, ro.out.c_str());
    say(ev, buf);
  }

  // 3. evaluation of every model on the held-out cases, one table with the paired comparison
  t0 = Clock::now();
  EvaluateOptions eo;
  eo.models = ckpts;
  eo.data = res.data;
  eo.cases = res.val_cases;
  eo.out = res.evaluate = (out / "evaluate").string();
  eo.force = true;
  eo.command = opt.command;
  eo.resamples = 1000;
  eo.seed = opt.seed;
  eo.device = opt.device;  // the models segment where they trained
  EvaluateResult er = evaluate(
      eo, [&](const std::string& line, bool done) {
        if (ev.progress) ev.progress("  " + line, done);
      },
      [&](const std::string& note) { say(ev, "  " + note); });
  for (size_t i = 0; i < er.models.size() && i < res.scores.size(); ++i)
    for (const auto& s : er.models[i].summary) {
      const double mean = s.mean.count("dice") ? s.mean.at("dice").mean : eval::SurfaceMetrics::kNaN;
      if (s.cls == "liver") res.scores[i].liver_dice = mean, res.scores[i].liver_global = s.global_dice;
      if (s.cls == "tumour") res.scores[i].tumour_dice = mean, res.scores[i].tumour_global = s.global_dice;
    }
  std::snprintf(buf, sizeof buf, "evaluated %zu models on %zu held-out cases in %.1f s -> %s", er.models.size(),
                res.val_cases.size(), since(t0), res.evaluate.c_str());
  say(ev, buf);

  // 4. explanations: every held-out tumour, by every model, Grad-CAM and IG
  t0 = Clock::now();
  int64_t ig_maps = 0, ig_over = 0;
  double worst_ig = 0;
  auto ds = io::open_lits(res.data);
  for (size_t mi = 0; mi < ckpts.size(); ++mi) {
    train::Checkpoint ck = train::load_checkpoint(ckpts[mi]);
    const train::DeviceChoice dc = train::choose_device(opt.device, ck.model->config(), true, "explain");
    if (!dc.note.empty()) say(ev, "  " + dc.note);
    ck.model->to(dc.device);  // explained where it trained; maps come back to the host
    const fs::path mdir = out / "explain" / opt.models[mi].config;
    fs::remove_all(mdir);  // the demo's own folder
    for (int64_t item : ds->items_of_cases(res.val_cases)) {
      io::Sample s = ds->load(item);
      const std::vector<int64_t> slices = tumour_slices(s.label.data, opt.max_tumours);
      if (slices.empty()) continue;
      ExplainOptions xo;
      xo.methods = {"gradcam", "ig"};
      xo.target.cls = 2;
      xo.target.region = xai::RegionKind::Truth;
      xo.truth = s.info.label_path;
      xo.slices = slices;
      xo.ig.steps = opt.ig_steps;
      xo.force = true;
      // One folder per case: each explain call writes its own metrics.json.
      const fs::path dir = mdir / s.info.id;
      ExplainPlan plan = plan_explain(*ck.model, ck.pre, s.info.image_path, dir.string(), xo);
      ExplainSummary sum = explain(*ck.model, ck.pre, plan, xo, [&](int64_t done, int64_t total, const std::string& what) {
        char line[256];
        std::snprintf(line, sizeof line, "  explain %s: %s (%lld/%lld)", opt.models[mi].config.c_str(), what.c_str(),
                      (long long)done, (long long)total);
        if (ev.progress) ev.progress(line, done == total);
      });
      if (mi == 0) res.explained_tumours += (int64_t)slices.size();
      for (const auto& r : sum.rows)
        if (r.method == "ig") {
          ++ig_maps;
          worst_ig = std::max(worst_ig, r.delta_rel);
          ig_over += r.delta_rel > xo.ig.tolerance;
        }
      res.explains.push_back(dir.string());
    }
  }
  if (ig_maps > 0) {
    std::snprintf(buf, sizeof buf, "  IG completeness: %lld of %lld maps above %.0f %% (worst %.1f %%); each map's figure is in "
                  "the report (more --ig-steps, or glassbox explain --rule adaptive, tightens it)",
                  (long long)ig_over, (long long)ig_maps, 100 * 0.01, 100 * worst_ig);
    say(ev, buf);
  }
  std::snprintf(buf, sizeof buf, "explained %lld held-out tumours with Grad-CAM and IG (%lld steps) by %zu models in %.1f s -> %s",
                (long long)res.explained_tumours, (long long)opt.ig_steps, ckpts.size(), since(t0),
                (out / "explain").string().c_str());
  say(ev, buf);

  // 5. the report
  t0 = Clock::now();
  report::ReportOptions rep;
  rep.inputs = res.runs;
  rep.inputs.push_back(res.evaluate);
  for (const auto& e : res.explains) rep.inputs.push_back(e);
  rep.out = res.report = (out / "report.html").string();
  rep.force = true;
  rep.title = "glassbox demo: TransUNet vs U-Net on phantom CT";
  rep.command = opt.command;
  const auto rr = report::write_report(rep);
  std::snprintf(buf, sizeof buf, "report: %s (%.1f MB, %lld images, %lld charts) in %.1f s", res.report.c_str(),
                (double)rr.bytes / 1e6, (long long)rr.images, (long long)rr.charts, since(t0));
  say(ev, buf);
  res.seconds = since(t_all);
  return res;
}

}  // namespace gb::pipeline

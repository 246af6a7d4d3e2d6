#include "train/run.h"

#include "train/device.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "autograd/ops.h"
#include "draw/plot.h"
#include "io/patch_loader.h"
#include "io/phantom.h"
#include "io/safetensors.h"
#include "io/split.h"
#include "layers/dropout.h"
#include "tensor/cpu/parallel.h"
#include "train/checkpoint.h"
#include "train/loop.h"
#include "train/optimizer.h"
#include "train/sgd.h"
#include "train/validate.h"

#ifndef GLASSBOX_VERSION
#define GLASSBOX_VERSION "0.1.0"
#endif

namespace gb::train {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

const char* engine_version() { return GLASSBOX_VERSION; }

// ---------------------------------------------------------------- options <-> JSON
std::string RunOptions::to_json() const {
  json j;
  j["model"] = model;
  j["config_file"] = config_file;
  j["size"] = size;
  j["patch"] = patch;
  j["init"] = init;
  j["data"] = data;
  j["phantom_size"] = phantom_size;
  j["phantom_depth"] = phantom_depth;
  j["val_cases"] = val_cases;
  j["val_fraction"] = val_fraction;
  j["val_list"] = val_list;
  j["seed"] = seed;
  j["steps"] = steps;
  j["epochs"] = epochs;
  j["batch"] = batch;
  j["optimizer"] = optimizer;
  j["lr"] = lr;
  j["momentum"] = momentum;
  j["weight_decay"] = weight_decay;
  j["poly"] = poly;
  j["slices"] = slices;
  j["oversample"] = oversample;
  j["class_weights"] = class_weights;
  j["foreground_fraction"] = foreground_fraction;
  j["augment"] = augment;
  j["window"] = {window_lo, window_hi};
  j["channels"] = channels;
  j["context_2p5d"] = context_2p5d;
  j["val_every"] = val_every;
  j["ckpt_every"] = ckpt_every;
  j["keep_last"] = keep_last;
  j["fault_nan_at_step"] = fault_nan_at_step;
  return j.dump();
}

RunOptions RunOptions::from_json(const std::string& text, const std::string& where) {
  RunOptions o;
  try {
    json j = json::parse(text);
    o.model = j.at("model");
    o.config_file = j.at("config_file");
    o.size = j.at("size");
    o.patch = j.at("patch").get<std::vector<int64_t>>();
    o.init = j.at("init");
    o.data = j.at("data");
    o.phantom_size = j.at("phantom_size");
    o.phantom_depth = j.at("phantom_depth");
    o.val_cases = j.at("val_cases");
    o.val_fraction = j.at("val_fraction");
    if (j.contains("val_list")) o.val_list = j.at("val_list").get<std::vector<std::string>>();
    o.seed = j.at("seed");
    o.steps = j.at("steps");
    o.epochs = j.at("epochs");
    o.batch = j.at("batch");
    o.optimizer = j.at("optimizer");
    o.lr = j.at("lr");
    o.momentum = j.at("momentum");
    o.weight_decay = j.at("weight_decay");
    o.poly = j.at("poly");
    o.slices = j.at("slices");
    o.oversample = j.at("oversample");
    if (j.contains("class_weights")) o.class_weights = j.at("class_weights").get<std::vector<double>>();
    o.foreground_fraction = j.at("foreground_fraction");
    o.augment = j.at("augment");
    o.window_lo = j.at("window").at(0);
    o.window_hi = j.at("window").at(1);
    o.channels = j.at("channels");
    o.context_2p5d = j.at("context_2p5d");
    o.val_every = j.at("val_every");
    o.ckpt_every = j.at("ckpt_every");
    o.keep_last = j.at("keep_last");
    o.fault_nan_at_step = j.value("fault_nan_at_step", (int64_t)-1);
  } catch (const json::exception& e) {
    fail(where, ": bad run options (", e.what(), ")");
  }
  return o;
}

// ---------------------------------------------------------------- data
std::unique_ptr<io::Dataset> open_data(const std::string& data, uint64_t default_seed, int64_t phantom_size,
                                       int64_t phantom_depth) {
  GB_CHECK(!data.empty(), "train: --data is required (a LiTS, MSD Task03 or slice folder, or phantom:N[:SEED])");
  if (data.rfind("phantom:", 0) == 0) {
    int64_t n = 0;
    uint64_t seed = default_seed;
    std::string rest = data.substr(8);
    const size_t colon = rest.find(':');
    try {
      size_t used = 0;
      n = std::stoll(rest.substr(0, colon), &used);
      GB_CHECK(used == (colon == std::string::npos ? rest.size() : colon), "x");
      if (colon != std::string::npos) seed = std::stoull(rest.substr(colon + 1));
    } catch (const std::exception&) {
      fail("--data ", data, ": expected phantom:N or phantom:N:SEED");
    }
    GB_CHECK(n >= 2 && n <= 10000, "--data ", data, ": need 2..10000 phantom cases (one or more for validation)");
    io::PhantomOptions po;
    po.width = po.height = phantom_size;
    po.depth = phantom_depth;
    return io::open_phantom(seed, n, po);
  }
  if (data.rfind("stacks:", 0) == 0) {  // stacks:FOLDER[:SIZE]
    std::string folder = data.substr(7);
    int64_t size = 0;
    const size_t colon = folder.find_last_of(':');
    if (colon != std::string::npos) {
      const std::string tail = folder.substr(colon + 1);
      GB_CHECK(!tail.empty() && tail.find_first_not_of("0123456789") == std::string::npos && tail.size() < 6,
               "--data ", data, ": expected stacks:FOLDER or stacks:FOLDER:SIZE");
      size = std::stoll(tail);
      folder = folder.substr(0, colon);
    }
    GB_CHECK(fs::is_directory(folder), data, ": ", folder, " is not a folder (stacks: needs a slice folder)");
    return io::open_slice_stacks(folder, size);
  }
  GB_CHECK(fs::exists(data), data, ": no such data folder");
  GB_CHECK(fs::is_directory(data), data, ": is not a folder (give a LiTS, MSD Task03 or slice folder)");
  GB_CHECK(!fs::is_empty(data), data, ": the data folder is empty");
  auto ds = io::open_dataset(data);
  GB_CHECK(ds->size() > 0, data, ": holds no items");
  return ds;
}

std::string latest_checkpoint(const std::string& rundir) {
  const fs::path dir = fs::path(rundir) / "checkpoints";
  if (!fs::is_directory(dir)) return "";
  std::string best;
  for (auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("step-", 0) == 0 && n.size() > 17 && n.substr(n.size() - 12) == ".safetensors" && n > fs::path(best).filename().string())
      best = e.path().string();
  }
  return best;
}

namespace {

void write_text_atomically(const std::string& path, const std::string& text) {
  io::write_file_atomically(path, "text", [&](std::FILE* f) { std::fwrite(text.data(), 1, text.size(), f); });
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  GB_CHECK(f, path, ": cannot read");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string join_lines(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += x + "\n";
  return s;
}

std::string ckpt_name(int64_t step) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "step-%08lld.safetensors", (long long)step);
  return buf;
}

// Every Dropout of the model with its name: their Philox offsets are part of the run's state.
std::vector<std::pair<std::string, nn::Dropout*>> dropouts(nn::Module& m) {
  std::vector<std::pair<std::string, nn::Dropout*>> out;
  for (auto& [name, mod] : m.named_modules())
    if (auto* d = dynamic_cast<nn::Dropout*>(mod)) out.push_back({name, d});
  return out;
}

// Keeps header + the rows whose first field (the step) is < step: a resumed run rewrites what the
// interrupted one logged after its last checkpoint.
void truncate_log(const std::string& path, int64_t step, bool has_header) {
  if (!fs::exists(path)) return;
  std::ifstream f(path);
  std::string line, out;
  bool first = true;
  while (std::getline(f, line)) {
    if (first && has_header) {
      out += line + "\n";
      first = false;
      continue;
    }
    first = false;
    const size_t p = line.find_first_of("0123456789");
    if (p == std::string::npos) continue;
    if (std::stoll(line.substr(p)) < step) out += line + "\n";
  }
  write_text_atomically(path, out);
}

struct RunState {
  int64_t step = 0, epoch = 0, batch_in_epoch = 0;
  double best_tumour = -1, best_liver = -1;
  int64_t best_step = -1;
};

class Run {
 public:
  Run(RunOptions o, const RunEvents& ev, const std::atomic<bool>* stop) : o_(std::move(o)), ev_(ev), stop_(stop) {}
  RunResult go(bool resume);

 private:
  void say(const std::string& s) {
    if (ev_.message) ev_.message(s);
  }
  void setup_model_and_data(bool resume);
  void write_run_files();
  void save_step_checkpoint(int64_t step_done);
  void restore(const std::string& ckpt);
  void append_log(const StepRecord& r);
  void draw_curves();
  io::Batch next_batch(int64_t step);

  RunOptions o_;
  RunEvents ev_;
  const std::atomic<bool>* stop_;
  fs::path dir_;
  std::unique_ptr<io::Dataset> ds_;
  io::Split split_;
  models::ModelConfig cfg_;
  io::Preprocess pre_;
  std::shared_ptr<models::SegmentationModel> model_;
  std::unique_ptr<Optimizer> opt_;
  Device device_ = Device::CPU;  // where the model, its optimiser state and the batches live
  std::string device_note_;     // why the CPU is used although another device was asked for
  Tensor class_weight_;  // [classes] f64 from --class-weights, undefined for the official unweighted loss
  std::unique_ptr<io::Loader> loader_;
  std::unique_ptr<io::PatchLoader> patches_;
  bool is3d_ = false;
  int64_t total_ = 0, val_every_ = 0, ckpt_every_ = 0;
  RunState st_;
  std::vector<StepRecord> history_;  // for curves.png: every logged step of the run
};

void Run::setup_model_and_data(bool resume) {
  // Model config.
  if (!o_.config_file.empty()) {
    cfg_ = models::ModelConfig::from_json(resume ? o_.config_file : read_text(o_.config_file));
  } else {
    cfg_ = models::named_config(o_.model);
  }
  is3d_ = cfg_.size.size() == 3;
  GB_CHECK(o_.channels == 1 || o_.channels == 3, "train: --channels must be 1 or 3, got ", o_.channels);
  if (o_.context_2p5d) o_.channels = 3;
  cfg_.in_channels = o_.channels;
  if (is3d_) {
    GB_CHECK(o_.channels == 1 && !o_.context_2p5d, "train: 3-D models take 1 channel (no 2.5-D context)");
    if (!o_.patch.empty()) {
      GB_CHECK(o_.patch.size() == 3, "train: --patch needs D,H,W");
      cfg_.size = o_.patch;
    } else if (o_.size > 0) {
      cfg_.size = {o_.size, o_.size, o_.size};
    }
    for (int64_t s : cfg_.size)
      GB_CHECK(s >= 8 && s <= 512 && s % 8 == 0, "train: 3-D patch edges must be multiples of 8 in 8..512, got ", s);
  } else if (o_.size > 0) {
    GB_CHECK(o_.size >= 16 && o_.size <= 1024 && o_.size % 16 == 0, "train: --size ", o_.size,
             " must be a multiple of 16 in 16..1024");
    cfg_.size = {o_.size, o_.size};
  }
  // Data and split.
  ds_ = open_data(o_.data, o_.seed, o_.phantom_size, o_.phantom_depth);
  GB_CHECK(!is3d_ || ds_->is_volume(), o_.data, ": 3-D models need volumes (LiTS, MSD or phantom), not a slice folder");
  const auto cases = ds_->case_ids();
  const int64_t n = (int64_t)cases.size();
  GB_CHECK(n >= 2, o_.data, ": holds ", n, " case(s); training needs at least 2 (one for validation)");
  io::SplitFractions fr{1, 0, 0};
  if (!o_.val_list.empty()) {
    GB_CHECK(o_.val_cases < 0, "train: give --val-list or --val-cases, not both");
    std::set<std::string> want;
    for (const std::string& c : o_.val_list) {
      GB_CHECK(std::find(cases.begin(), cases.end(), c) != cases.end(), "train: --val-list: ", o_.data, " has no case '",
               c, "' (it has ", n, " cases, e.g. ", cases.front(), ")");
      GB_CHECK(want.insert(c).second, "train: --val-list names '", c, "' twice");
    }
    GB_CHECK((int64_t)want.size() < n, "train: --val-list holds every case of ", o_.data, "; none is left to train on");
    split_ = io::Split{};
    for (const std::string& c : cases) (want.count(c) ? split_.val : split_.train).push_back(c);
    std::sort(split_.train.begin(), split_.train.end(), io::natural_less);
    std::sort(split_.val.begin(), split_.val.end(), io::natural_less);
  } else if (o_.val_cases >= 0) {
    GB_CHECK(o_.val_cases < n, "train: --val-cases ", o_.val_cases, " leaves no training case (", n, " cases)");
    fr.val = (double)o_.val_cases / (double)n;
  } else {
    GB_CHECK(o_.val_fraction >= 0 && o_.val_fraction < 1, "train: --val-fraction must be in [0, 1)");
    fr.val = o_.val_fraction;
  }
  if (o_.val_list.empty()) {
    fr.train = 1 - fr.val;
    split_ = io::split_cases(cases, fr, o_.seed);
  }
  GB_CHECK(!split_.train.empty(), "train: the split left no training case");
  // Preprocessing: units from the data, the rest from the options and the model.
  pre_.units = ds_->units();
  pre_.window = {o_.window_lo, o_.window_hi};
  pre_.channels = o_.channels;
  pre_.context_2p5d = o_.context_2p5d;
  if (is3d_) {
    pre_.depth = cfg_.size[0], pre_.height = cfg_.size[1], pre_.width = cfg_.size[2];
  } else {
    pre_.height = cfg_.size[0], pre_.width = cfg_.size[1];
  }
  pre_.validate("train");
  model_ = models::make_model(cfg_, o_.seed);
  // Device: chosen before the optimiser takes the parameters (moving a model replaces its tensors).
  {
    const DeviceChoice dc = choose_device(o_.device, cfg_, true, "train");
    device_ = dc.device;
    device_note_ = dc.note;
    model_->to(device_);
  }
  // Optimiser.
  std::vector<Tensor> params;
  for (auto& [name, p] : model_->named_parameters()) params.push_back(p);
  if (o_.optimizer == "sgd") {
    opt_ = std::make_unique<Sgd>(params, SgdOptions{o_.lr, o_.momentum, o_.weight_decay});
  } else if (o_.optimizer == "adamw") {
    opt_ = std::make_unique<AdamW>(params, AdamWOptions{o_.lr, 0.9, 0.999, 1e-8, o_.weight_decay});
  } else {
    fail("train: --optimizer must be sgd or adamw, got '", o_.optimizer, "'");
  }
  // Batches.
  const auto train_items = ds_->items_of_cases(split_.train);
  GB_CHECK(o_.batch >= 1 && o_.batch <= 4096, "train: --batch must be in 1..4096, got ", o_.batch);
  if (is3d_) {
    io::PatchLoaderOptions po;
    po.batch_size = o_.batch;
    po.patch = {cfg_.size[0], cfg_.size[1], cfg_.size[2]};
    po.foreground_fraction = o_.foreground_fraction;
    po.window = pre_.window;
    po.seed = o_.seed;
    patches_ = std::make_unique<io::PatchLoader>(*ds_, train_items, po);
  } else {
    io::LoaderOptions lo;
    lo.batch_size = o_.batch;
    lo.pre = pre_;
    lo.augment = o_.augment;
    lo.seed = o_.seed;
    lo.items = train_items;
    lo.drop_last = true;
    GB_CHECK(o_.slices == "liver" || o_.slices == "all", "train: --slices must be liver or all, got '", o_.slices, "'");
    lo.min_label = o_.slices == "liver" ? 1 : 0;
    GB_CHECK(o_.oversample >= 1 && o_.oversample <= 100, "train: --oversample must be in 1..100");
    lo.oversample_times = o_.oversample;
    loader_ = std::make_unique<io::Loader>(*ds_, lo);
  }
  // Loss weights.
  if (!o_.class_weights.empty()) {
    GB_CHECK((int64_t)o_.class_weights.size() == cfg_.classes, "train: --class-weights has ", o_.class_weights.size(),
             " values but the model has ", cfg_.classes, " classes");
    for (double w : o_.class_weights)
      GB_CHECK(std::isfinite(w) && w > 0 && w <= 1000, "train: --class-weights must be in (0, 1000], got ", w);
    class_weight_ = Tensor::from_vector(o_.class_weights, {(int64_t)o_.class_weights.size()});
  }
  // Schedule.
  GB_CHECK((o_.steps > 0) != (o_.epochs > 0), "train: give exactly one of --steps and --epochs");
  if (o_.steps > 0) {
    total_ = o_.steps;
  } else {
    GB_CHECK(!is3d_, "train: --epochs needs a 2-D model; give --steps for 3-D patch training");
    const int64_t nb = loader_->count_epoch_samples() / o_.batch;  // drop_last: whole batches only
    GB_CHECK(nb >= 1, "train: an epoch holds fewer samples than one batch (", o_.batch, ")");
    total_ = o_.epochs * nb;
  }
  val_every_ = o_.val_every > 0 ? o_.val_every : std::max<int64_t>(1, total_ / 10);
  ckpt_every_ = o_.ckpt_every > 0 ? o_.ckpt_every : std::max<int64_t>(1, total_ / 10);
  GB_CHECK(o_.keep_last >= 1, "train: --keep-last must be >= 1");
}

void Run::write_run_files() {
  json j;
  j["glassbox_version"] = engine_version();
  j["command_line"] = o_.command_line;
  j["options"] = json::parse(o_.to_json());
  j["model_config"] = json::parse(cfg_.to_json());
  j["preprocess"] = json::parse(pre_.to_json());
  j["dataset"] = ds_->name();
  j["split"] = {{"seed", o_.seed}, {"train", split_.train}, {"val", split_.val}};
  j["total_steps"] = total_;
  j["threads"] = cpu::num_threads();
  j["note"] = "CPU results are bitwise independent of the thread count; `glassbox train --resume` continues this run";
  write_text_atomically((dir_ / "run.json").string(), j.dump(2) + "\n");
  write_text_atomically((dir_ / "train_cases.txt").string(), join_lines(split_.train));
  write_text_atomically((dir_ / "val_cases.txt").string(), join_lines(split_.val));
  write_text_atomically((dir_ / "log.csv").string(),
                        "step,epoch,loss,ce,dice_loss,lr,seconds,images_per_s,val_liver_dice,val_tumour_dice\n");
  write_text_atomically((dir_ / "log.jsonl").string(), "");
}

void Run::save_step_checkpoint(int64_t step_done) {
  std::map<std::string, std::string> meta;
  meta["run.step"] = std::to_string(step_done);
  meta["run.epoch"] = std::to_string(st_.epoch);
  meta["run.batch_in_epoch"] = std::to_string(st_.batch_in_epoch);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", st_.best_tumour);
  meta["run.best_tumour"] = buf;
  std::snprintf(buf, sizeof buf, "%a", st_.best_liver);
  meta["run.best_liver"] = buf;
  meta["run.best_step"] = std::to_string(st_.best_step);
  meta["run.optimizer"] = o_.optimizer;
  for (auto& [name, d] : dropouts(*model_)) meta["dropout." + name] = std::to_string(d->generator().offset());
  const fs::path cdir = dir_ / "checkpoints";
  fs::create_directories(cdir);
  save_checkpoint((cdir / ckpt_name(step_done)).string(), *model_, pre_, opt_->state(), meta);
  // Keep the last K step checkpoints.
  std::vector<std::string> all;
  for (auto& e : fs::directory_iterator(cdir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("step-", 0) == 0 && n.find(".tmp.") == std::string::npos) all.push_back(e.path().string());
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i + (size_t)o_.keep_last < all.size(); ++i) fs::remove(all[i]);
}

void Run::restore(const std::string& ckpt) {
  Checkpoint c = load_checkpoint(ckpt);
  GB_CHECK(c.model->config().to_json() == cfg_.to_json(), ckpt, ": the checkpoint holds another model than this run's ",
           cfg_.name);
  nn::TensorMap w;
  for (auto& [n, t] : c.model->state_dict()) w[n] = t;
  model_->load_state_dict(w, true, ckpt);
  opt_->load_state(c.train_state, ckpt);
  auto get = [&](const std::string& k) -> std::string {
    auto it = c.metadata.find(k);
    GB_CHECK(it != c.metadata.end(), ckpt, ": not a run checkpoint (no ", k, ")");
    return it->second;
  };
  st_.step = std::stoll(get("run.step"));
  st_.epoch = std::stoll(get("run.epoch"));
  st_.batch_in_epoch = std::stoll(get("run.batch_in_epoch"));
  st_.best_tumour = std::strtod(get("run.best_tumour").c_str(), nullptr);
  st_.best_liver = std::strtod(get("run.best_liver").c_str(), nullptr);
  st_.best_step = std::stoll(get("run.best_step"));
  for (auto& [name, d] : dropouts(*model_)) d->generator().set_offset(std::stoull(get("dropout." + name)));
}

void Run::append_log(const StepRecord& r) {
  char buf[512];
  std::string val_l, val_t;
  if (r.validated) {
    char a[40], b[40];
    std::snprintf(a, sizeof a, "%.6f", r.val_liver);
    std::snprintf(b, sizeof b, "%.6f", r.val_tumour);
    val_l = a, val_t = b;
  }
  // %.17g: losses round-trip exactly, so two runs can be compared bit for bit from the log.
  std::snprintf(buf, sizeof buf, "%lld,%lld,%.17g,%.17g,%.17g,%.17g,%.4f,%.3f,%s,%s\n", (long long)r.step,
                (long long)r.epoch, r.loss, r.ce, r.dice, r.lr, r.seconds, r.images_per_s, val_l.c_str(), val_t.c_str());
  std::ofstream((dir_ / "log.csv").string(), std::ios::app) << buf;
  json j;
  j["step"] = r.step;
  j["epoch"] = r.epoch;
  j["loss"] = r.loss;
  j["ce"] = r.ce;
  j["dice_loss"] = r.dice;
  j["lr"] = r.lr;
  j["seconds"] = r.seconds;
  j["images_per_s"] = r.images_per_s;
  if (r.validated) j["val"] = {{"liver_dice", r.val_liver}, {"tumour_dice", r.val_tumour}};
  std::ofstream((dir_ / "log.jsonl").string(), std::ios::app) << j.dump() << "\n";
}

void Run::draw_curves() {
  draw::TrainingCurves c;
  double smooth = 0;
  for (const auto& r : history_) {
    c.step.push_back((double)r.step + 1);
    c.loss.push_back(r.loss);
    smooth = c.step.size() == 1 ? r.loss : 0.95 * smooth + 0.05 * r.loss;  // exponential moving average
    c.loss_smooth.push_back(smooth);
    c.lr.push_back(r.lr);
    if (r.validated) {
      c.val_step.push_back((double)r.step + 1);
      c.val_liver_dice.push_back(r.val_liver);
      c.val_tumour_dice.push_back(r.val_tumour);
    }
  }
  if (c.step.empty()) return;
  c.title = cfg_.name + " on " + ds_->name();
  try {
    draw::write_training_curves((dir_ / "curves.png").string(), c);
  } catch (const Error& e) {
    say(std::string("warning: curves.png not drawn: ") + e.what());
  }
}

io::Batch Run::next_batch(int64_t step) {
  if (is3d_) {
    io::Batch b = patches_->batch(step);
    b.image = b.image.to(device_);
    b.label = b.label.to(device_);
    return b;
  }
  io::Batch b;
  if (!loader_->next(b)) {
    loader_->start_epoch(++st_.epoch);
    st_.batch_in_epoch = 0;
    GB_CHECK(loader_->next(b), "train: the loader produced an empty epoch");
  }
  ++st_.batch_in_epoch;
  b.image = b.image.to(device_);
  b.label = b.label.to(device_);
  return b;
}

// History rows for curves.png from log.jsonl (a resumed run redraws the whole run).
std::vector<StepRecord> read_history(const fs::path& jsonl) {
  std::vector<StepRecord> h;
  std::ifstream f(jsonl);
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    StepRecord r;
    r.step = j.value("step", (int64_t)0);
    r.loss = j.value("loss", 0.0);
    r.lr = j.value("lr", 0.0);
    if (j.contains("val")) {
      r.validated = true;
      r.val_liver = j["val"].value("liver_dice", 0.0);
      r.val_tumour = j["val"].value("tumour_dice", 0.0);
    }
    h.push_back(r);
  }
  return h;
}

RunResult Run::go(bool resume) {
  dir_ = o_.out;
  if (o_.threads > 0) cpu::set_num_threads(o_.threads);
  std::string ckpt;
  if (resume) {
    ckpt = latest_checkpoint(dir_.string());
    GB_CHECK(!ckpt.empty(), dir_.string(), ": the run has no checkpoint to resume from (checkpoints/ is empty)");
  } else {
    GB_CHECK(!o_.out.empty(), "train: --out RUNDIR is required");
    if (fs::exists(dir_ / "run.json") && !o_.force)
      fail(dir_.string(), ": already holds a run (run.json); use --resume to continue it or --force to replace it");
    std::error_code ec;
    fs::create_directories(dir_, ec);
    GB_CHECK(!ec && fs::is_directory(dir_), dir_.string(), ": cannot create the run folder (", ec.message(), ")");
    const fs::path probe = dir_ / ".write-test";
    { std::ofstream t(probe.string()); GB_CHECK(t.good(), dir_.string(), ": the run folder is not writable"); }
    fs::remove(probe);
    if (o_.force)  // a replaced run leaves nothing of the old one that could be mistaken for its own
      for (const char* f : {"checkpoints", "best.safetensors", "model.safetensors", "curves.png"}) fs::remove_all(dir_ / f);
  }
  setup_model_and_data(resume);
  if (!device_note_.empty()) say(device_note_);
  RunResult res;
  res.total_steps = total_;
  res.val_cases = split_.val;
  if (resume) {
    restore(ckpt);
    truncate_log((dir_ / "log.csv").string(), st_.step, true);
    truncate_log((dir_ / "log.jsonl").string(), st_.step, false);
    history_ = read_history(dir_ / "log.jsonl");
    say("resuming " + dir_.string() + " at step " + std::to_string(st_.step) + " of " + std::to_string(total_) +
        " from " + ckpt);
  } else {
    if (!o_.init.empty()) {
      const bool npz = o_.init.size() > 4 && o_.init.substr(o_.init.size() - 4) == ".npz";
      nn::LoadReport rep;
      std::string note;
      if (npz) {
        auto* tu = dynamic_cast<models::TransUNet*>(model_.get());
        GB_CHECK(tu, o_.init, ": an official .npz initialises TransUNet models only, not ", cfg_.name);
        rep = load_official_npz_file(*tu, o_.init, &note, false);
      } else {
        rep = load_weights_file(*model_, o_.init, false);
      }
      GB_CHECK(!rep.loaded.empty(), o_.init, ": no weight matched the model ", cfg_.name, " (", rep.summary(), ")");
      say("init: " + o_.init + ": loaded " + std::to_string(rep.loaded.size()) + " tensors, skipped " +
          std::to_string(rep.missing.size()) + " missing, " + std::to_string(rep.unexpected.size()) + " unexpected, " +
          std::to_string(rep.mismatched.size()) + " mismatched" + (note.empty() ? "" : "; " + note));
    }
    write_run_files();
    say("run folder: " + dir_.string() + " (run.json, log.csv, curves.png, checkpoints/)");
  }
  say("data: " + ds_->name() + ", " + std::to_string(split_.train.size()) + " training and " +
      std::to_string(split_.val.size()) + " validation cases (split by case, seed " + std::to_string(o_.seed) + ")");
  say("model: " + cfg_.name + ", " + std::to_string(model_->num_parameters()) + " parameters; input " + pre_.describe());
  say("schedule: " + std::to_string(total_) + " steps of batch " + std::to_string(o_.batch) + ", " + o_.optimizer +
      " lr " + std::to_string(o_.lr) + (o_.poly ? " with poly decay" : "") + ", " +
      (device_ == Device::CPU ? std::to_string(cpu::num_threads()) + " threads" : "on " + std::string(device_name(device_))));
  model_->train();
  if (!is3d_) loader_->start_epoch(st_.epoch, st_.batch_in_epoch);
  const auto val_items = ds_->items_of_cases(split_.val);
  auto t_start = Clock::now();
  const int64_t first = st_.step;
  for (int64_t step = st_.step; step < total_; ++step) {
    if (stop_ && stop_->load()) {
      save_step_checkpoint(step);
      res.interrupted = true;
      res.steps_done = step;
      res.final_checkpoint = (dir_ / "checkpoints" / ckpt_name(step)).string();
      say("stopped at step " + std::to_string(step) + ": checkpoint " + res.final_checkpoint +
          "; `glassbox train --resume " + dir_.string() + "` continues");
      return res;
    }
    auto t0 = Clock::now();
    io::Batch b = next_batch(step);
    StepRecord r;
    r.step = step;
    r.epoch = st_.epoch;
    r.lr = o_.poly ? poly_lr(o_.lr, step, total_) : o_.lr;
    opt_->set_lr(r.lr);
    opt_->zero_grad();
    Tensor logits = model_->forward(b.image);
    Tensor loss = segmentation_loss(logits, b.label, &r.ce, &r.dice, class_weight_);
    r.loss = step == o_.fault_nan_at_step ? std::nan("") : loss.item();
    GB_CHECK(std::isfinite(r.loss), "train: the loss became ", r.loss, " at step ", step,
             "; stopped, the last good checkpoint is left as it was (lower --lr?)");
    loss.backward();
    opt_->step();
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    r.images_per_s = (double)b.image.size(0) / std::max(1e-9, r.seconds);
    st_.step = step + 1;
    if (!val_items.empty() && (st_.step % val_every_ == 0 || st_.step == total_)) {
      ValScores v = validate(*model_, *ds_, val_items, pre_);
      r.validated = true;
      r.val_liver = v.liver;
      r.val_tumour = v.tumour;
      res.has_validation = true;
      if (v.tumour > st_.best_tumour || (v.tumour == st_.best_tumour && v.liver > st_.best_liver)) {
        st_.best_tumour = v.tumour, st_.best_liver = v.liver, st_.best_step = st_.step;
        save_checkpoint((dir_ / "best.safetensors").string(), *model_, pre_, {},
                        {{"run.step", std::to_string(st_.step)}});
      }
    }
    append_log(r);
    history_.push_back(r);
    res.steps.push_back(r);
    if (r.validated) draw_curves();
    if (st_.step % ckpt_every_ == 0 || st_.step == total_) save_step_checkpoint(st_.step);
    if (ev_.step) {
      const double el = std::chrono::duration<double>(Clock::now() - t_start).count();
      const double eta = el / (double)(st_.step - first) * (double)(total_ - st_.step);
      ev_.step(r, total_, eta);
    }
  }
  save_checkpoint((dir_ / "model.safetensors").string(), *model_, pre_);
  draw_curves();
  res.steps_done = total_;
  res.final_checkpoint = (dir_ / "model.safetensors").string();
  res.best_tumour = st_.best_tumour, res.best_liver = st_.best_liver, res.best_step = st_.best_step;
  return res;
}

}  // namespace

RunResult start_run(const RunOptions& opt, const RunEvents& ev, const std::atomic<bool>* stop) {
  RunOptions o = opt;
  if (!o.config_file.empty()) o.config_file = fs::absolute(o.config_file).string();
  Run r(o, ev, stop);
  return r.go(false);
}

RunResult resume_run(const std::string& rundir, const RunEvents& ev, const std::atomic<bool>* stop, int threads) {
  GB_CHECK(fs::is_directory(rundir), rundir, ": no such run folder");
  const fs::path rj = fs::path(rundir) / "run.json";
  GB_CHECK(fs::exists(rj), rundir, ": holds no glassbox run (no run.json)");
  json j;
  try {
    j = json::parse(read_text(rj.string()));
  } catch (const json::exception& e) {
    fail(rj.string(), ": not a readable run description (", e.what(), ")");
  }
  GB_CHECK(j.contains("options") && j.contains("model_config"), rj.string(), ": not a glassbox run description");
  RunOptions o = RunOptions::from_json(j["options"].dump(), rj.string());
  // The resolved config is stored; resume from it even if the original file moved.
  o.config_file = j["model_config"].dump();
  o.out = rundir;
  o.threads = threads;
  o.command_line = j.value("command_line", "");
  // The run's named config was resolved into model_config; size/patch are already inside it.
  Run r(o, ev, stop);
  return r.go(true);
}

}  // namespace gb::train

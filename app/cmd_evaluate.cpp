// `glassbox evaluate`: scores predictions against truth, or checkpoints on a dataset
// (pipeline/evaluate.h does the work); prints the table, writes metrics.csv and metrics.json.
#include <cstdio>

#include "app/command.h"
#include "pipeline/evaluate.h"
#include "train/progress.h"

namespace {

struct EvaluateArgs {
  gb::pipeline::EvaluateOptions opt;
  std::vector<std::string> classes;
  bool no_surface = false, no_lesions = false;
};

int run_evaluate(EvaluateArgs& a) {
  using namespace gb;
  if (!a.classes.empty()) {
    a.opt.classes.clear();
    for (const auto& c : a.classes) a.opt.classes.push_back(pipeline::parse_class(c));
  }
  a.opt.metrics.surface = !a.no_surface;
  a.opt.metrics.lesions = !a.no_lesions;
  a.opt.command = app::command_line();
  train::Progress prog;
  auto r = pipeline::evaluate(
      a.opt, [&](const std::string& line, bool done) { prog.update(line, done); },
      [&](const std::string& note) { prog.message(note); });
  prog.finish();
  std::printf("%s\n", r.table.c_str());
  std::printf("wrote %s and %s\n", r.csv_path.c_str(), r.json_path.c_str());
  return 0;
}

gb::app::Register reg("evaluate", "score predictions against truth, or compare checkpoints on a dataset", [](CLI::App& sub) {
  auto a = std::make_shared<EvaluateArgs>();  // owned by the action below (freed at exit)
  auto& o = a->opt;
  sub.add_option("--pred", o.pred, "folder of predicted label maps (NIfTI or PNG)");
  sub.add_option("--truth", o.truth, "folder of true label maps, or a LiTS / MSD / slice-folder dataset");
  sub.add_option("--model", o.models, "checkpoint to segment --data with (repeat to compare models)");
  sub.add_option("--data", o.data, "dataset: LiTS / MSD / slice folder, stacks:FOLDER[:SIZE], or phantom:N[:SEED]");
  sub.add_option("--cases", o.cases, "only these case ids (e.g. volume-3 volume-7)");
  sub.add_option("--phantom-size", o.phantom_size, "in-plane size of phantom: data")->capture_default_str();
  sub.add_option("--phantom-depth", o.phantom_depth, "slices of phantom: data")->capture_default_str();
  sub.add_option("--out", o.out, "folder for metrics.csv and metrics.json")->required();
  sub.add_flag("--force", o.force, "overwrite existing metrics files");
  sub.add_option("--class", a->classes, "a class as NAME=LABEL[,LABEL...] (repeat; default liver=1,2 tumour=2)");
  sub.add_option("--bootstrap", o.resamples, "bootstrap resamples for the 95% intervals")->capture_default_str();
  sub.add_option("--seed", o.seed, "bootstrap seed (Philox)")->capture_default_str();
  sub.add_option("--batch", o.batch, "slices per forward pass")->capture_default_str();
  o.device = "auto";
  sub.add_option("--device", o.device, "where --model runs: cpu, cuda or auto (the CPU, saying why, without a usable GPU)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  sub.add_flag("--no-surface", a->no_surface, "skip ASSD / MSD / HD95");
  sub.add_flag("--no-lesions", a->no_lesions, "skip lesion detection");
  return [a] { return run_evaluate(*a); };
});

}  // namespace

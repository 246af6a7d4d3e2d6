// `glassbox segment`: label maps for the user's own CT (pipeline/segment.h does the work).
#include <cstdio>

#include "app/command.h"
#include "pipeline/segment.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/progress.h"

namespace {

struct SegmentArgs {
  std::string model, in, out;
  std::string device = "auto";
  gb::pipeline::SegmentOptions opt;
};

int run_segment(const SegmentArgs& a) {
  using namespace gb;
  GB_CHECK(!a.model.empty(), "segment: --model CHECKPOINT is required");
  // Plan first: a bad input or an existing output stops before the model is even read.
  auto jobs = pipeline::plan_segmentation(a.in, a.out, a.opt);
  train::Checkpoint ck = train::load_checkpoint(a.model);
  std::printf("model: %s (%s), input %s%s\n", a.model.c_str(), ck.model->config().name.c_str(), ck.pre.describe().c_str(),
              ck.preprocess_stored ? "" : " (older checkpoint without a stored preprocessing: defaults assumed)");
  const train::DeviceChoice dc = train::choose_device(a.device, ck.model->config(), false, "segment");
  if (!dc.note.empty()) std::printf("%s\n", dc.note.c_str());
  ck.model->to(dc.device);  // predictions run where the model is; results come back to the host
  // Units of every input against the model's, before anything is written.
  for (const auto& j : jobs)
    io::check_units(ck.pre, j.kind == pipeline::InputKind::Image ? io::Units::Pixel8 : io::Units::HU, j.input);
  train::Progress prog;
  int64_t i = 0;
  for (const auto& j : jobs) {
    ++i;
    char head[512];
    std::snprintf(head, sizeof head, "[%lld/%zu] %s", (long long)i, jobs.size(), j.input.c_str());
    auto r = pipeline::segment_one(*ck.model, ck.pre, j, a.opt, [&](int64_t done, int64_t total) {
      char buf[640];
      std::snprintf(buf, sizeof buf, "%s  %lld/%lld %s", head, (long long)done, (long long)total,
                    ck.pre.depth > 0 ? "windows" : "slices");
      prog.update(buf, done == total);
    });
    prog.finish();
    if (r.liver_ml >= 0)
      std::printf("%s -> %s  (%lldx%lldx%lld, liver %.1f ml, tumour %.1f ml, %.1f s)\n", j.input.c_str(), r.output.c_str(),
                  (long long)r.shape[2], (long long)r.shape[1], (long long)r.shape[0], r.liver_ml, r.tumour_ml, r.seconds);
    else
      std::printf("%s -> %s  (%lldx%lld, liver %lld px, tumour %lld px)\n", j.input.c_str(), r.output.c_str(),
                  (long long)r.shape[2], (long long)r.shape[1], (long long)r.liver_voxels, (long long)r.tumour_voxels);
    for (auto& f : r.probability_files) std::printf("  probabilities: %s\n", f.c_str());
  }
  return 0;
}

gb::app::Register reg("segment", "segment NIfTI, DICOM or PNG/JPG input with a trained checkpoint", [](CLI::App& sub) {
  auto a = std::make_shared<SegmentArgs>();  // owned by the action below (freed at exit)
  sub.add_option("--model", a->model, "checkpoint (.safetensors from glassbox train)")->required();
  sub.add_option("--in", a->in, "NIfTI file, folder of NIfTI, DICOM series folder, PNG/JPG or folder of slices")->required();
  sub.add_option("--out", a->out, "output folder (or a .nii.gz / .png file for one input)")->required();
  sub.add_flag("--probabilities", a->opt.probabilities, "also write the softmax maps");
  sub.add_flag("--post", a->opt.post, "keep the largest liver component and tumour only inside it");
  sub.add_flag("--force", a->opt.force, "overwrite existing outputs");
  sub.add_option("--batch", a->opt.batch, "slices per forward pass")->capture_default_str();
  sub.add_option("--device", a->device, "cpu, cuda or auto (the CPU, saying why, without a usable GPU)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  sub.add_option("--overlap", a->opt.overlap, "3-D sliding-window overlap")->capture_default_str();
  return [a] { return run_segment(*a); };
});

}  // namespace

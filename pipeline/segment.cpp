#include "pipeline/segment.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "eval/components.h"
#include "io/dicom.h"
#include "io/image.h"
#include "io/nifti.h"
#include "train/predict.h"
#include "train/sliding_window.h"

namespace gb::pipeline {
namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && std::equal(e.rbegin(), e.rend(), s.rbegin(), [](char a, char b) {
           return std::tolower((unsigned char)a) == std::tolower((unsigned char)b);
         });
}
bool is_nifti(const std::string& p) { return ends_with(p, ".nii") || ends_with(p, ".nii.gz"); }
bool is_image(const std::string& p) { return ends_with(p, ".png") || ends_with(p, ".jpg") || ends_with(p, ".jpeg"); }

std::string stem_of(const fs::path& p) {
  std::string n = p.filename().string();
  for (const char* e : {".nii.gz", ".nii", ".png", ".jpg", ".jpeg"})
    if (ends_with(n, e)) return n.substr(0, n.size() - std::string(e).size());
  return n;
}

void check_writable_folder(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  GB_CHECK(!ec && fs::is_directory(dir), dir.string(), ": cannot create the output folder (",
           ec ? ec.message() : "not a folder", ")");
  const fs::path probe = dir / (".glassbox-write-test-" + std::to_string(::getpid()));
  {
    std::ofstream f(probe.string());
    GB_CHECK(f.good(), dir.string(), ": the output folder is not writable");
  }
  fs::remove(probe);
}

const char* kClassNames[] = {"background", "liver", "tumour"};
std::string class_name(int64_t c) { return c < 3 ? kClassNames[c] : "class" + std::to_string(c); }

}  // namespace

std::vector<SegmentJob> plan_segmentation(const std::string& in, const std::string& out, const SegmentOptions& opt) {
  GB_CHECK(!in.empty(), "segment: --in is required");
  GB_CHECK(!out.empty(), "segment: --out is required");
  GB_CHECK(fs::exists(in), in, ": no such file or folder");
  std::vector<SegmentJob> jobs;
  const bool out_is_file = is_nifti(out) || ends_with(out, ".png");
  auto output_for = [&](InputKind k, const std::string& name) {
    return (fs::path(out) / (name + (k == InputKind::Image ? "_seg.png" : "_seg.nii.gz"))).string();
  };
  if (fs::is_regular_file(in)) {
    SegmentJob j;
    j.input = in;
    j.name = stem_of(in);
    if (is_nifti(in)) {
      j.kind = InputKind::Nifti;
    } else if (is_image(in)) {
      j.kind = InputKind::Image;
    } else {
      fail(in, ": not a NIfTI (.nii, .nii.gz) or PNG/JPG file; for DICOM give the series folder");
    }
    if (out_is_file) {
      GB_CHECK((j.kind == InputKind::Image) == ends_with(out, ".png"), out, ": a ",
               j.kind == InputKind::Image ? "slice gives a .png" : "volume gives a .nii.gz", " label map");
      j.output = out;
    } else {
      j.output = output_for(j.kind, j.name);
    }
    jobs.push_back(j);
  } else {
    GB_CHECK(fs::is_directory(in), in, ": neither a file nor a folder");
    std::vector<std::string> niftis, images, others;
    for (auto& e : fs::directory_iterator(in)) {
      if (!e.is_regular_file()) continue;
      const std::string p = e.path().string();
      (is_nifti(p) ? niftis : is_image(p) ? images : others).push_back(p);
    }
    std::sort(niftis.begin(), niftis.end());
    std::sort(images.begin(), images.end());
    // A LiTS folder holds volume-N and its label map segmentation-N: only the volumes are CT.
    if (std::any_of(niftis.begin(), niftis.end(), [](const std::string& p) { return stem_of(p).rfind("volume-", 0) == 0; }))
      niftis.erase(std::remove_if(niftis.begin(), niftis.end(),
                                  [](const std::string& p) { return stem_of(p).rfind("segmentation-", 0) == 0; }),
                   niftis.end());
    if (!niftis.empty() || !images.empty()) {
      GB_CHECK(!out_is_file, out, ": a folder of inputs needs an output folder, not a file name");
      for (auto& p : niftis) jobs.push_back({InputKind::Nifti, p, output_for(InputKind::Nifti, stem_of(p)), stem_of(p)});
      for (auto& p : images) jobs.push_back({InputKind::Image, p, output_for(InputKind::Image, stem_of(p)), stem_of(p)});
    } else {
      GB_CHECK(!others.empty(), in, ": the folder is empty (expected NIfTI volumes, PNG/JPG slices or a DICOM series)");
      auto series = io::list_dicom_series(in);
      GB_CHECK(!series.empty(), in, ": holds no NIfTI, PNG/JPG or DICOM image files (", others.size(),
               " other files)");
      if (series.size() > 1) {
        std::string uids;
        for (auto& s : series) uids += " " + (s.series_uid.empty() ? std::string("(no UID)") : s.series_uid);
        fail(in, ": holds ", series.size(), " DICOM series (", uids.substr(1),
             "); point --in at a folder with one series");
      }
      std::string name = fs::path(in).filename().string();
      if (name.empty()) name = fs::path(in).parent_path().filename().string();
      SegmentJob j{InputKind::Dicom, in, out_is_file ? out : output_for(InputKind::Dicom, name), name};
      GB_CHECK(!out_is_file || is_nifti(out), out, ": a DICOM series gives a .nii.gz label map");
      jobs.push_back(j);
    }
  }
  // Nothing is written unless every output may be.
  std::vector<std::string> seen;
  for (auto& j : jobs) {
    GB_CHECK(fs::absolute(j.output) != fs::absolute(j.input), j.output, ": the output would overwrite the input");
    if (fs::exists(j.output) && !opt.force)
      fail(j.output, ": already exists; use --force to overwrite it (nothing was written)");
    GB_CHECK(std::find(seen.begin(), seen.end(), j.output) == seen.end(), j.output, ": two inputs map to this output");
    seen.push_back(j.output);
  }
  check_writable_folder(fs::path(jobs.front().output).parent_path().empty() ? fs::path(".")
                                                                            : fs::path(jobs.front().output).parent_path());
  return jobs;
}

SegmentResult segment_one(models::SegmentationModel& model, const io::Preprocess& pre, const SegmentJob& job,
                          const SegmentOptions& opt, const std::function<void(int64_t, int64_t)>& progress) {
  auto t0 = std::chrono::steady_clock::now();
  SegmentResult r;
  r.output = job.output;
  const io::Units in_units = job.kind == InputKind::Image ? io::Units::Pixel8 : io::Units::HU;
  io::check_units(pre, in_units, job.input);
  const int64_t classes = model.config().classes;
  if (job.kind == InputKind::Image) {
    GB_CHECK(pre.depth == 0, job.input, ": a 3-D model cannot segment a single slice");
    Tensor img = io::read_image(job.input, 0).to(DType::F32);  // [C, H, W] 0..255
    const int64_t H = img.size(1), W = img.size(2);
    GB_CHECK(H >= kMinSliceSize && W >= kMinSliceSize, job.input, ": ", W, "x", H, " pixels is too small for the model (at least ",
             kMinSliceSize, "x", kMinSliceSize, ")");
    train::PredictOptions po;
    po.pre = pre;
    po.probabilities = opt.probabilities;
    train::VolumePrediction p = train::predict_image(model, img, po);
    Tensor lab = opt.post ? eval::keep_largest_liver(p.labels) : p.labels;
    io::write_png(job.output, lab);
    if (opt.probabilities) {
      for (int64_t c = 1; c < classes; ++c) {
        // 8-bit PNG: p * 255 rounded (write_png rounds f32 to the nearest integer).
        auto pv = p.probabilities.view_slice(0, c, c + 1).contiguous().to_vector_as<float>();
        for (auto& x : pv) x = std::clamp(x, 0.f, 1.f) * 255.f;
        Tensor pc = Tensor::from_vector(pv, {H, W});
        std::string f = (fs::path(job.output).parent_path() / (job.name + "_prob_" + class_name(c) + ".png")).string();
        io::write_png(f, pc);
        r.probability_files.push_back(f);
      }
    }
    r.shape = {1, H, W};
    auto v = lab.to_vector_as<int32_t>();
    for (int32_t x : v) r.liver_voxels += x >= 1, r.tumour_voxels += x == 2;
    if (progress) progress(1, 1);
  } else {
    io::Volume vol = job.kind == InputKind::Nifti ? io::read_nifti(job.input) : io::read_dicom_series(job.input);
    const int64_t D = vol.data.size(0), H = vol.data.size(1), W = vol.data.size(2);
    GB_CHECK(H >= kMinSliceSize && W >= kMinSliceSize, job.input, ": slices of ", W, "x", H,
             " voxels are too small for the model (at least ", kMinSliceSize, "x", kMinSliceSize, ")");
    Tensor labels, probs;
    if (pre.depth > 0) {
      train::SlidingWindowOptions so;
      so.window = pre.window;
      so.units = pre.units;
      so.overlap = opt.overlap;
      so.batch = std::max<int64_t>(1, opt.batch / 4);
      so.progress = progress;
      labels = train::predict_volume_3d(model, vol, so, opt.probabilities ? &probs : nullptr);
    } else {
      train::PredictOptions po;
      po.pre = pre;
      po.batch = opt.batch;
      po.probabilities = opt.probabilities;
      po.progress = progress;
      train::VolumePrediction p = train::predict_volume_full(model, vol, po);
      labels = p.labels, probs = p.probabilities;
    }
    if (opt.post) labels = eval::keep_largest_liver(labels);
    io::WriteOptions wo;
    wo.dtype = io::NiftiDType::U8;
    io::write_nifti_in_geometry(job.output, vol, labels, wo);
    if (opt.probabilities) {
      io::WriteOptions wf;
      wf.dtype = io::NiftiDType::F32;
      for (int64_t c = 1; c < classes; ++c) {
        std::string f = (fs::path(job.output).parent_path() / (job.name + "_prob_" + class_name(c) + ".nii.gz")).string();
        io::write_nifti_in_geometry(f, vol, probs.view_slice(0, c, c + 1).view_reshape({D, H, W}).contiguous(), wf);
        r.probability_files.push_back(f);
      }
    }
    r.shape = {D, H, W};
    const int32_t* p = labels.contiguous().data<int32_t>();
    for (int64_t i = 0; i < D * H * W; ++i) r.liver_voxels += p[i] >= 1, r.tumour_voxels += p[i] == 2;
    const double ml = vol.spacing[0] * vol.spacing[1] * vol.spacing[2] / 1000.0;
    r.liver_ml = (double)r.liver_voxels * ml;
    r.tumour_ml = (double)r.tumour_voxels * ml;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace gb::pipeline

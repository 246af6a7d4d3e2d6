// `glassbox phantom`: the built-in phantom generator as a command; writes a LiTS-layout dataset
// (volume-N.nii.gz int16 HU, segmentation-N.nii.gz u8 labels 0/1/2) that every other command reads.
#include <cstdio>
#include <filesystem>

#include "app/command.h"
#include "io/phantom.h"

namespace {

struct PhantomArgs {
  std::string out;
  int64_t cases = 10, size = 128, depth = 48;
  uint64_t seed = 1234;
  double min_tumour_mm = 4, max_tumour_mm = 30;
  bool force = false;
};

int run_phantom(const PhantomArgs& a) {
  namespace fs = std::filesystem;
  GB_CHECK(a.cases >= 1 && a.cases <= 10000, "phantom: --cases ", a.cases, " must be in 1..10000");
  GB_CHECK(a.size >= 16 && a.size <= 1024, "phantom: --size ", a.size, " must be in 16..1024");
  GB_CHECK(a.depth >= 3 && a.depth <= 2048, "phantom: --depth ", a.depth, " must be in 3..2048");
  if (fs::exists(fs::path(a.out) / "volume-0.nii.gz") && !a.force)
    gb::fail(a.out, ": already holds a phantom dataset (volume-0.nii.gz); use --force to overwrite it");
  gb::io::PhantomOptions po;
  po.width = po.height = a.size;
  po.depth = a.depth;
  po.min_tumour_mm = a.min_tumour_mm;
  po.max_tumour_mm = a.max_tumour_mm;
  auto paths = gb::io::write_phantom_dataset(a.out, a.seed, a.cases, po);
  std::printf("phantom: %zu CT volumes (%lldx%lldx%lld, seed %llu) in the LiTS layout -> %s\n", paths.size(),
              (long long)a.size, (long long)a.size, (long long)a.depth, (unsigned long long)a.seed, a.out.c_str());
  return 0;
}

gb::app::Register reg("phantom", "write a seeded phantom CT dataset (LiTS layout, NIfTI)", [](CLI::App& sub) {
  auto a = std::make_shared<PhantomArgs>();  // owned by the action below (freed at exit)
  sub.add_option("--out", a->out, "output folder")->required();
  sub.add_option("--cases", a->cases, "number of volumes")->capture_default_str();
  sub.add_option("--seed", a->seed, "seed: the same seed gives the same volumes, bit for bit")->capture_default_str();
  sub.add_option("--size", a->size, "in-plane size (pixels)")->capture_default_str();
  sub.add_option("--depth", a->depth, "slices per volume")->capture_default_str();
  sub.add_option("--min-tumour-mm", a->min_tumour_mm, "smallest tumour radius (mm)")->capture_default_str();
  sub.add_option("--max-tumour-mm", a->max_tumour_mm, "largest tumour radius (mm)")->capture_default_str();
  sub.add_flag("--force", a->force, "overwrite an existing dataset");
  return [a] { return run_phantom(*a); };
});

}  // namespace

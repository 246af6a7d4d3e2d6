// One preprocessing description: the Loader (training) and inference produce the identical tensor for
// the same slice; the description survives JSON and checkpoints; wrong units are refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/loader.h"
#include "io/phantom.h"
#include "train/checkpoint.h"
#include "train/predict.h"

using namespace gb;

TEST(PreprocessSpec, TrainingAndInferenceGiveTheIdenticalTensor) {
  for (bool ctx : {false, true}) {
    io::PhantomOptions po;
    po.width = po.height = 40;
    po.depth = 6;
    auto ds = io::open_phantom(3, 1, po);
    io::LoaderOptions lo;
    lo.pre.height = 32, lo.pre.width = 48;
    lo.pre.window = {-150, 300};
    lo.pre.channels = ctx ? 3 : 1;
    lo.pre.context_2p5d = ctx;
    lo.batch_size = 1;
    lo.shuffle = false;
    io::Loader l(*ds, lo);
    l.start_epoch(0);
    io::Sample s = ds->load(0);
    io::Batch b;
    for (int64_t k = 0; l.next(b); ++k) {
      Tensor inf = io::model_input_slice(s.image.data, k, lo.pre);
      ASSERT_EQ(inf.shape(), b.image.shape());
      EXPECT_EQ(inf.to_vector(), b.image.to_vector()) << "slice " << k << " context " << ctx;
    }
  }
}

TEST(PreprocessSpec, JsonRoundTripAndValidation) {
  io::Preprocess p;
  p.units = io::Units::Pixel8;
  p.channels = 3;
  p.context_2p5d = true;
  p.height = 64, p.width = 96;
  io::Preprocess q = io::Preprocess::from_json(p.to_json());
  EXPECT_EQ(q.to_json(), p.to_json());
  EXPECT_THROW(io::Preprocess::from_json("{\"units\":\"hu\"}", "x.json"), Error);
  p.channels = 1;
  EXPECT_THROW(p.validate(), Error);  // 2.5-D needs 3 channels
}

TEST(PreprocessSpec, CheckpointCarriesItAndUnitsAreChecked) {
  auto m = models::make_model(models::named_config("micro", 32, 3, 1), 1);
  io::Preprocess p;
  p.units = io::Units::Pixel8;
  p.height = p.width = 32;
  const std::string path = (std::filesystem::temp_directory_path() / "gb_pre_ckpt.safetensors").string();
  train::save_checkpoint(path, *m, p);
  train::Checkpoint c = train::load_checkpoint(path);
  EXPECT_TRUE(c.preprocess_stored);
  EXPECT_EQ(c.pre.to_json(), p.to_json());
  try {
    io::check_units(c.pre, io::Units::HU, "ct.nii.gz");
    FAIL() << "HU input to a pixel model must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ct.nii.gz: the model expects 8-bit pixel slices"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(io::check_units(c.pre, io::Units::Pixel8, "a.png"));
  std::filesystem::remove(path);
}

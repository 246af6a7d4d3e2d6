#include <gtest/gtest.h>

#include <fstream>

#include "datasets_test_util.h"
#include "io/image.h"

using namespace gb;
using namespace gb::io;
using gbtest::ScratchDir;

TEST(Image, PngRoundTripGreyAndRgb) {
  ScratchDir d("png");
  Tensor g = gbtest::grey_image(7, 33, [](int64_t y, int64_t x) { return (y * 37 + x * 11) % 256; });
  write_png(d.str("g.png"), g);
  Tensor r = read_image(d.str("g.png"));
  ASSERT_EQ(r.shape(), (Shape{1, 7, 33}));
  EXPECT_EQ(r.to_vector(), g.to_vector());
  EXPECT_EQ(read_image_info(d.str("g.png")).channels, 1);

  Tensor rgb = Tensor::empty({3, 5, 3}, DType::U8);
  for (int64_t i = 0; i < rgb.numel(); ++i) rgb.data<uint8_t>()[i] = (uint8_t)(i * 5 + 1);
  write_png(d.str("c.png"), rgb);
  Tensor rc = read_image(d.str("c.png"));
  ASSERT_EQ(rc.shape(), (Shape{3, 5, 3}));
  EXPECT_EQ(rc.to_vector(), rgb.to_vector());
  // Forced grey: stb's luma (77 R + 150 G + 29 B) >> 8.
  Tensor grey = read_image(d.str("c.png"), 1);
  const uint8_t* p = rgb.data<uint8_t>();
  EXPECT_EQ(grey.data<uint8_t>()[0], (uint8_t)((77 * p[0] + 150 * p[15] + 29 * p[30]) >> 8));
  // Forced RGB from grey replicates.
  Tensor g3 = read_image(d.str("g.png"), 3);
  EXPECT_EQ(g3.at({2, 3, 4}), g.at({0, 3, 4}));
}

TEST(Image, LabelImageAndWriteFromIntegers) {
  ScratchDir d("lab");
  Tensor lab = Tensor::from_vector(std::vector<int32_t>{0, 1, 2, 2, 1, 0}, {2, 3});
  write_png(d.str("m.png"), lab);
  Tensor r = read_label_image(d.str("m.png"));
  EXPECT_EQ(r.dtype(), DType::I32);
  EXPECT_EQ(r.to_vector(), lab.to_vector());
  // F32 values are rounded; out-of-range values are refused with the file named.
  write_png(d.str("f.png"), Tensor::from_vector(std::vector<float>{0.4f, 254.6f}, {1, 2}));
  EXPECT_EQ(read_image(d.str("f.png")).to_vector(), (std::vector<double>{0, 255}));
  std::string e = gbtest::error_of([&] { write_png(d.str("bad.png"), Tensor::full({2, 2}, 300.0)); });
  EXPECT_NE(e.find("bad.png"), std::string::npos) << e;
  EXPECT_NE(e.find("300"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(d.str("bad.png")));
  EXPECT_FALSE(std::filesystem::exists(d.str("bad.png.tmp")));
}

TEST(Image, ErrorsNameTheFile) {
  ScratchDir d("imgerr");
  std::string e = gbtest::error_of([&] { read_image(d.str("missing.png")); });
  EXPECT_NE(e.find("missing.png"), std::string::npos) << e;
  std::ofstream(d.str("junk.png")) << "this is not a png";
  e = gbtest::error_of([&] { read_image(d.str("junk.png")); });
  EXPECT_NE(e.find("junk.png"), std::string::npos) << e;
  // A colour label image is refused.
  Tensor rgb = Tensor::zeros({3, 2, 2}, DType::U8);
  rgb.data<uint8_t>()[0] = 200;
  write_png(d.str("colour.png"), rgb);
  e = gbtest::error_of([&] { read_label_image(d.str("colour.png")); });
  EXPECT_NE(e.find("colour.png"), std::string::npos) << e;
  e = gbtest::error_of([&] { write_png(d.str("nofolder/x.png"), rgb); });
  EXPECT_NE(e.find("x.png"), std::string::npos) << e;
}

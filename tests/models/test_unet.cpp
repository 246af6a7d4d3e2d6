// U-Net 2D (Ronneberger + BatchNorm) and 3D U-Net (Cicek): shapes, modes, gradients.
#include <gtest/gtest.h>

#include "gradcheck_util.h"
#include "models/unet.h"

using namespace gb;
using namespace gb::models;

TEST(UNet, Shapes2DAnd3D) {
  auto m2 = make_model(named_config("unet2d-tiny", 32, 3, 1), 1);
  m2->eval();
  NoGradGuard ng;
  EXPECT_EQ(m2->forward(Tensor::zeros({2, 1, 32, 48})).shape(), (Shape{2, 3, 32, 48}));
  EXPECT_EQ(m2->find_tensor("enc0.0.weight").shape(), (Shape{8, 1, 3, 3}));
  EXPECT_EQ(m2->find_tensor("enc3.3.weight").shape(), (Shape{64, 64, 3, 3}));
  EXPECT_EQ(m2->find_tensor("up2.reduce.weight").shape(), (Shape{32, 64, 1, 1}));
  EXPECT_EQ(m2->find_tensor("head.weight").shape(), (Shape{3, 8, 1, 1}));
  EXPECT_THROW(m2->forward(Tensor::zeros({1, 1, 30, 32})), Error);

  auto m3 = make_model(named_config("unet3d-tiny", 0, 2, 1), 1);
  m3->eval();
  EXPECT_EQ(m3->forward(Tensor::zeros({1, 1, 8, 12, 16})).shape(), (Shape{1, 2, 8, 12, 16}));
  // Cicek: channels doubled before pooling: b -> 2b at level 0
  EXPECT_EQ(m3->find_tensor("enc0.0.weight").shape(), (Shape{4, 1, 3, 3, 3}));
  EXPECT_EQ(m3->find_tensor("enc0.3.weight").shape(), (Shape{8, 4, 3, 3, 3}));
  EXPECT_EQ(m3->find_tensor("enc2.3.weight").shape(), (Shape{32, 16, 3, 3, 3}));
  std::printf("unet2d (base 64, depth 4): %lld parameters; unet3d (base 32, depth 3): %lld parameters\n",
              (long long)make_model(named_config("unet2d", 0, 3, 1))->num_parameters(),
              (long long)make_model(named_config("unet3d", 0, 3, 1))->num_parameters());
}

TEST(UNet, TrainAndEvalDiffer) {
  auto m = make_model(named_config("unet2d-tiny", 16, 2, 1), 3);
  Tensor x = Tensor::empty({2, 1, 16, 16});
  Generator g(2);
  g.uniform_(x, -1, 1);
  NoGradGuard ng;
  m->train();
  Tensor a = m->forward(x);
  m->eval();
  Tensor b = m->forward(x);
  Tensor c = m->forward(x);
  EXPECT_NE(a.to_vector(), b.to_vector());
  EXPECT_EQ(b.to_vector(), c.to_vector());
}

TEST(UNet, Gradcheck2DF64) {
  ModelConfig c = named_config("unet2d-tiny", 16, 2, 1);
  c.unet.base = 2;
  c.unet.depth = 2;
  auto m = make_model(c, 4);
  m->to(DType::F64);
  m->train();
  Tensor x = Tensor::empty({2, 1, 8, 8}, DType::F64);
  Generator g(5);
  g.uniform_(x, -1, 1);
  gbtest::gradcheck_params(*m, x, {"enc0.0.weight", "enc2.4.bias", "up1.reduce.weight", "dec0.1.weight", "head.bias"}, 3);
}

TEST(UNet, Gradcheck3DF64) {
  ModelConfig c = named_config("unet3d-tiny", 0, 2, 1);
  c.unet.base = 1;
  c.unet.depth = 1;
  auto m = make_model(c, 4);
  m->to(DType::F64);
  m->train();
  Tensor x = Tensor::empty({2, 1, 4, 4, 4}, DType::F64);
  Generator g(6);
  g.uniform_(x, -1, 1);
  gbtest::gradcheck_params(*m, x, {"enc0.0.weight", "enc1.3.weight", "up0.reduce.bias", "dec0.4.weight", "head.weight"}, 3);
}

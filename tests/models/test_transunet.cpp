// TransUNet: official names and sizes, shapes through every block, 1 vs 3 channels, gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "gradcheck_util.h"
#include "models/transunet.h"
#include "tensor/cpu/parallel.h"

using namespace gb;
using namespace gb::models;

static std::shared_ptr<TransUNet> build(const ModelConfig& c, uint64_t seed = 7) {
  return std::dynamic_pointer_cast<TransUNet>(make_model(c, seed));
}

// The full-size model, built once (initialising 105 M parameters takes seconds).
static TransUNet& r50() {
  static auto m = build(named_config("R50-ViT-B_16", 224, 9));
  return *m;
}

TEST(TransUNet, R50ViTB16ParameterCountEqualsOfficial) {
  TransUNet* m = &r50();
  const int64_t n = m->num_parameters();
  std::printf("R50-ViT-B_16 @224, 9 classes: %lld parameters\n", (long long)n);
  // The official architecture counted by hand (vit_seg_modeling*.py): ResNetV2 + embeddings +
  // 12 blocks + DecoderCup + head; published as "105.28 M".
  auto unit = [](int64_t cin, int64_t cout, int64_t cmid, bool proj) {
    int64_t k = cin * cmid + 9 * cmid * cmid + cmid * cout + 4 * cmid + 2 * cout;  // convs + gn1..3
    return proj ? k + cin * cout + 2 * cout : k;                                    // + downsample, gn_proj
  };
  const int64_t resnet = 64 * 3 * 49 + 128 + unit(64, 256, 64, true) + 2 * unit(256, 256, 64, false) +
                         unit(256, 512, 128, true) + 3 * unit(512, 512, 128, false) + unit(512, 1024, 256, true) +
                         8 * unit(1024, 1024, 256, false);
  const int64_t D = 768, embeddings = 1024 * D + D + 196 * D;
  const int64_t block = 4 * (D * D + D) + 2 * D * 3072 + 3072 + D + 4 * D, encoder = 12 * block + 2 * D;
  auto cbr = [](int64_t i, int64_t o) { return 9 * i * o + 2 * o; };  // conv3x3 (no bias) + BatchNorm
  const int64_t decoder = cbr(768, 512) + cbr(1024, 256) + cbr(256, 256) + cbr(512, 128) + cbr(128, 128) +
                          cbr(192, 64) + cbr(64, 64) + cbr(64, 16) + cbr(16, 16);
  const int64_t head = 16 * 9 * 9 + 9;
  EXPECT_EQ(n, resnet + embeddings + encoder + decoder + head);
  EXPECT_EQ(n, 105277081);  // 105.28 M
  auto v = build(named_config("ViT-B_16", 224, 9));
  std::printf("ViT-B_16 @224, 9 classes: %lld parameters\n", (long long)v->num_parameters());
}

TEST(TransUNet, StateDictKeysFollowOfficialOrderAndNames) {
  auto sd = r50().state_dict();
  ASSERT_GT(sd.size(), 10u);
  EXPECT_EQ(sd[0].first, "transformer.embeddings.position_embeddings");
  EXPECT_EQ(sd[1].first, "transformer.embeddings.hybrid_model.root.conv.weight");
  EXPECT_EQ(sd[2].first, "transformer.embeddings.hybrid_model.root.gn.weight");
  EXPECT_EQ(sd[4].first, "transformer.embeddings.hybrid_model.body.block1.unit1.gn1.weight");
  EXPECT_EQ(sd.back().first, "segmentation_head.0.bias");
  std::map<std::string, Shape> shapes;
  for (auto& [n, t] : sd) shapes[n] = t.shape();
  const std::map<std::string, Shape> expect = {
      {"transformer.embeddings.position_embeddings", {1, 196, 768}},
      {"transformer.embeddings.patch_embeddings.weight", {768, 1024, 1, 1}},
      {"transformer.embeddings.hybrid_model.root.conv.weight", {64, 3, 7, 7}},
      {"transformer.embeddings.hybrid_model.body.block2.unit1.downsample.weight", {512, 256, 1, 1}},
      {"transformer.embeddings.hybrid_model.body.block2.unit1.gn_proj.weight", {512}},
      {"transformer.embeddings.hybrid_model.body.block3.unit9.conv2.weight", {256, 256, 3, 3}},
      {"transformer.encoder.layer.0.attn.query.weight", {768, 768}},
      {"transformer.encoder.layer.11.ffn.fc1.weight", {3072, 768}},
      {"transformer.encoder.layer.11.ffn_norm.bias", {768}},
      {"transformer.encoder.encoder_norm.weight", {768}},
      {"decoder.conv_more.0.weight", {512, 768, 3, 3}},
      {"decoder.conv_more.1.running_var", {512}},
      {"decoder.conv_more.1.num_batches_tracked", {}},
      {"decoder.blocks.0.conv1.0.weight", {256, 1024, 3, 3}},
      {"decoder.blocks.2.conv1.0.weight", {64, 192, 3, 3}},
      {"decoder.blocks.3.conv1.0.weight", {16, 64, 3, 3}},
      {"segmentation_head.0.weight", {9, 16, 3, 3}},
  };
  for (auto& [n, s] : expect) {
    ASSERT_TRUE(shapes.count(n)) << n;
    EXPECT_EQ(shapes[n], s) << n;
  }
  EXPECT_FALSE(shapes.count("transformer.embeddings.hybrid_model.body.block1.unit2.downsample.weight"));
  EXPECT_TRUE(shapes.count("transformer.embeddings.hybrid_model.body.block1.unit1.downsample.weight"));
}

TEST(TransUNet, ShapesThroughEveryBlockTiny) {
  ModelConfig c = named_config("tiny", 128, 3, 1);
  auto m = build(c);
  m->eval();
  std::map<std::string, Shape> seen;
  for (const char* n : {"transformer.embeddings.hybrid_model.root", "transformer.embeddings.hybrid_model.body.block1",
                        "transformer.embeddings.hybrid_model.body.block2", "transformer.embeddings.hybrid_model.body.block3",
                        "transformer.embeddings.patch_embeddings", "transformer.embeddings",
                        "transformer.encoder.layer.0", "transformer.encoder.layer.0.attn", "transformer.encoder",
                        "decoder.conv_more", "decoder.blocks.0", "decoder.blocks.1", "decoder.blocks.2", "decoder.blocks.3",
                        "segmentation_head"})
    m->register_forward_hook(n, [&seen, n](const Tensor& y) { seen[n] = y.shape(); });
  NoGradGuard ng;
  Tensor x = Tensor::empty({2, 1, 128, 128});
  Generator g(3);
  g.uniform_(x, -1, 1);
  Tensor y = m->forward(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 128, 128}));
  const int64_t w = c.vit.width, h = c.vit.hidden;
  EXPECT_EQ(seen["transformer.embeddings.hybrid_model.root"], (Shape{2, w, 64, 64}));
  EXPECT_EQ(seen["transformer.embeddings.hybrid_model.body.block1"], (Shape{2, 4 * w, 31, 31}));  // padded to 32 as skip
  EXPECT_EQ(seen["transformer.embeddings.hybrid_model.body.block2"], (Shape{2, 8 * w, 16, 16}));
  EXPECT_EQ(seen["transformer.embeddings.hybrid_model.body.block3"], (Shape{2, 16 * w, 8, 8}));
  EXPECT_EQ(seen["transformer.embeddings.patch_embeddings"], (Shape{2, h, 8, 8}));
  EXPECT_EQ(seen["transformer.embeddings"], (Shape{2, 64, h}));
  EXPECT_EQ(seen["transformer.encoder.layer.0"], (Shape{2, 64, h}));
  EXPECT_EQ(seen["transformer.encoder.layer.0.attn"], (Shape{2, 64, h}));
  EXPECT_EQ(seen["decoder.conv_more"], (Shape{2, c.vit.head_channels, 8, 8}));
  EXPECT_EQ(seen["decoder.blocks.0"], (Shape{2, c.vit.decoder_channels[0], 16, 16}));
  EXPECT_EQ(seen["decoder.blocks.1"], (Shape{2, c.vit.decoder_channels[1], 32, 32}));
  EXPECT_EQ(seen["decoder.blocks.2"], (Shape{2, c.vit.decoder_channels[2], 64, 64}));
  EXPECT_EQ(seen["decoder.blocks.3"], (Shape{2, c.vit.decoder_channels[3], 128, 128}));
  EXPECT_EQ(seen["segmentation_head"], (Shape{2, 3, 128, 128}));
}

TEST(TransUNet, OneChannelIsRepeatedToThreeAndNonSquareWorks) {
  ModelConfig c = named_config("micro", 32, 2, 1);
  c.size = {32, 48};
  auto m = build(c);
  m->eval();
  NoGradGuard ng;
  Tensor x = Tensor::empty({1, 1, 32, 48});
  Generator g(5);
  g.uniform_(x, -1, 1);
  Tensor y1 = m->forward(x);
  Tensor y3 = m->forward(concat({x, x, x}, 1));
  EXPECT_EQ(y1.shape(), (Shape{1, 2, 32, 48}));
  EXPECT_EQ(y1.to_vector(), y3.to_vector());
  EXPECT_THROW(m->forward(Tensor::zeros({1, 1, 32, 32})), Error);  // built for 32x48
  EXPECT_THROW(make_model(named_config("micro", 40)), Error);       // 40 is not divisible by 16
}

TEST(TransUNet, ViTWithoutResNetShapes) {
  ModelConfig c = named_config("tiny-vit", 64, 4, 3);
  auto m = build(c);
  m->eval();
  NoGradGuard ng;
  Tensor y = m->forward(Tensor::zeros({1, 3, 64, 64}));
  EXPECT_EQ(y.shape(), (Shape{1, 4, 64, 64}));
  EXPECT_EQ(m->find_tensor("transformer.embeddings.patch_embeddings.weight").shape(), (Shape{c.vit.hidden, 3, 16, 16}));
  EXPECT_EQ(m->find_module("transformer.embeddings.hybrid_model"), nullptr);
}

TEST(TransUNet, AttentionProbabilitiesAreExposed) {
  auto m = build(named_config("micro", 32, 2, 1));
  m->eval();
  m->keep_attention(true);
  Tensor x = Tensor::zeros({1, 1, 32, 32});
  Tensor y = m->forward(x);
  auto probs = m->attention_probs();
  ASSERT_EQ(probs.size(), 1u);
  EXPECT_EQ(probs[0].shape(), (Shape{1, 2, 4, 4}));
  auto v = probs[0].to_vector();
  for (int r = 0; r < 8; ++r) {
    double s = 0;
    for (int k = 0; k < 4; ++k) s += v[r * 4 + k];
    EXPECT_NEAR(s, 1.0, 1e-5);
  }
}

TEST(TransUNet, SeedNamesTheWeights) {
  auto a = build(named_config("micro"), 11), b = build(named_config("micro"), 11), c = build(named_config("micro"), 12);
  auto sa = a->state_dict(), sb = b->state_dict(), sc = c->state_dict();
  bool all_same = true, any_diff = false;
  for (size_t i = 0; i < sa.size(); ++i) {
    all_same &= sa[i].second.to_vector() == sb[i].second.to_vector();
    any_diff |= sa[i].second.to_vector() != sc[i].second.to_vector();
  }
  EXPECT_TRUE(all_same);
  EXPECT_TRUE(any_diff);
}

TEST(TransUNet, GradcheckMicroF64) {
  ModelConfig c = named_config("micro", 32, 2, 1);
  c.vit.dropout = 0;  // deterministic forward for central differences
  auto m = build(c, 21);
  m->to(DType::F64);
  m->train();  // BatchNorm with batch statistics
  Tensor x = Tensor::empty({2, 1, 32, 32}, DType::F64);
  Generator g(9);
  g.uniform_(x, -1, 1);
  gbtest::gradcheck_params(*m, x,
                           {"transformer.embeddings.hybrid_model.root.conv.weight",
                            "transformer.embeddings.hybrid_model.body.block2.unit1.gn_proj.bias",
                            "transformer.embeddings.position_embeddings", "transformer.encoder.layer.0.attn.query.weight",
                            "transformer.encoder.layer.0.ffn.fc2.bias", "decoder.conv_more.0.weight",
                            "decoder.blocks.1.conv1.1.weight", "segmentation_head.0.bias"},
                           3);
}

TEST(TransUNet, R50ViTB16ForwardFlopsAt224) {
  // multiply-adds x 2 of convolutions, linears and attention matmuls (see layers/module.h)
  TransUNet& m = r50();
  m.eval();
  m.reset_flops();
  {
    NoGradGuard ng;
    nn::FlopCountGuard fc;
    m.forward(Tensor::zeros({1, 1, 224, 224}));
  }
  const nn::Flops f = m.flops();
  std::printf("R50-ViT-B_16 @224 forward: %.0f FLOP (mac x 2) + %.0f other\n", f.mac, f.other);
  EXPECT_NEAR(f.mac / 1e9, 58.4, 0.1);
  // the attention matmuls by hand: 12 layers x 2 matmuls x 12 heads x 196^2 x 64 multiply-adds x 2
  const double attn = 12.0 * 2 * 12 * 196 * 196 * 64 * 2;
  double own_attn = 0;
  for (auto& [n, mod] : m.named_modules())
    if (mod->type_name() == "MultiHeadAttention") own_attn += mod->own_flops().mac;
  EXPECT_EQ(own_attn, attn);
  // ViT linears: 12 x (4 D^2 + 2 D 3072) x 196 x 2
  EXPECT_NEAR(m.module("transformer.encoder").flops().mac, 12.0 * (4 * 768 * 768 + 2 * 768 * 3072) * 196 * 2 + attn, 1);
}

TEST(TransUNet, MicroLearnsAFixedBatch) {
  // a few plain SGD steps on one batch must lower 0.5 CE + 0.5 Dice: forward, backward and the
  // parameter list work together (the trainer proper lives in train/)
  ModelConfig c = named_config("micro", 32, 2, 1);
  auto m = build(c, 5);
  m->train();
  Tensor x = Tensor::empty({2, 1, 32, 32});
  Generator g(4);
  g.uniform_(x, -1, 1);
  std::vector<int32_t> lab(2 * 32 * 32);
  for (int i = 0; i < 2 * 32 * 32; ++i) lab[i] = (i % 32) < 16 ? 0 : 1;  // left / right halves
  Tensor y = Tensor::from_vector(lab, {2, 32, 32});
  m->set_dropout_seed(1);
  double first = 0, last = 0;
  for (int step = 0; step < 15; ++step) {
    m->zero_grad();
    Tensor logits = m->forward(x);
    Tensor loss = add(mul_scalar(cross_entropy(logits, y), 0.5), mul_scalar(soft_dice_loss(logits, y), 0.5));
    loss.backward();
    (step == 0 ? first : last) = loss.item();
    NoGradGuard ng;
    for (auto& [n, p] : m->named_parameters()) {
      Tensor gp = p.grad();
      if (!gp.defined()) continue;
      Tensor upd = sub(p, mul_scalar(gp, 0.05));
      p.copy_from(upd);
    }
  }
  std::printf("micro: loss %.4f -> %.4f after 15 SGD steps\n", first, last);
  EXPECT_LT(last, first * 0.8);
}

TEST(TransUNet, HooksGiveGradCamIngredients) {
  // activation and gradient of decoder.conv_more, by name, during an ordinary forward / backward
  auto m = build(named_config("micro", 32, 2, 1));
  m->eval();
  Tensor act, grad;
  m->register_forward_hook("decoder.conv_more", [&](const Tensor& y) { act = y; });
  m->register_backward_hook("decoder.conv_more", [&](const Tensor& g) { grad = g.clone(); });
  Tensor x = Tensor::empty({1, 1, 32, 32});
  Generator g(1);
  g.uniform_(x, -1, 1);
  Tensor logits = m->forward(x);
  ASSERT_TRUE(act.defined());
  EXPECT_EQ(act.shape(), (Shape{1, 16, 2, 2}));
  EXPECT_EQ(act.grad_fn()->scope, "decoder.conv_more.2");  // the ReLU that ends the block
  sum(slice(logits, 1, 1, 2)).backward();                    // T = sum of class-1 logits
  ASSERT_TRUE(grad.defined());
  EXPECT_EQ(grad.shape(), act.shape());
  double n = 0;
  for (double v : grad.to_vector()) n += v * v;
  EXPECT_GT(n, 0.0);
}

TEST(TransUNet, GradcheckViTOnlyF64) {
  ModelConfig c = named_config("tiny-vit", 32, 2, 3);
  c.vit.hidden = 16;
  c.vit.heads = 2;
  c.vit.layers = 1;
  c.vit.mlp_dim = 32;
  c.vit.head_channels = 16;
  c.vit.decoder_channels = {8, 8, 4, 4};
  c.vit.dropout = 0;
  auto m = build(c, 8);
  m->to(DType::F64);
  m->train();
  Tensor x = Tensor::empty({2, 3, 32, 32}, DType::F64);
  Generator g(10);
  g.uniform_(x, -1, 1);
  gbtest::gradcheck_params(*m, x,
                           {"transformer.embeddings.patch_embeddings.weight", "transformer.encoder.layer.0.attn.key.weight",
                            "transformer.encoder.layer.0.ffn.fc1.weight", "transformer.encoder.encoder_norm.weight",
                            "decoder.blocks.3.conv2.0.weight"},
                           3);
}

TEST(TransUNet, BitwiseSameForAnyThreadCount) {
  auto m = build(named_config("tiny", 64, 3, 1), 3);
  m->train();
  m->set_dropout_seed(5);
  Tensor x = Tensor::empty({2, 1, 64, 64});
  Generator g(2);
  g.uniform_(x, -1, 1);
  const int prev = cpu::num_threads();
  std::vector<std::vector<double>> outs, grads;
  for (int t : {1, 3}) {
    cpu::set_num_threads(t);
    m->set_dropout_seed(5);
    m->zero_grad();
    Tensor y = m->forward(x);
    sum(mul(y, y)).backward();
    outs.push_back(y.to_vector());
    grads.push_back(m->find_tensor("transformer.embeddings.hybrid_model.root.conv.weight").grad().to_vector());
  }
  cpu::set_num_threads(prev);
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(grads[0], grads[1]);
}

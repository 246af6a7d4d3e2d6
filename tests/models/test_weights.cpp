// Weights in and out: our checkpoints (bit-identical round trip), an official PyTorch state_dict
// exported to safetensors, the official ImageNet-21k .npz (JAX names, HWIO, position-embedding
// resize), and corrupt files.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "models/pretrained.h"
#include "models/transunet.h"
#include "weights_util.h"

using namespace gb;
using namespace gb::models;
using namespace gb::train;

namespace {

std::shared_ptr<TransUNet> micro(uint64_t seed, int64_t size = 32) {
  return std::dynamic_pointer_cast<TransUNet>(make_model(named_config("micro", size, 3, 1), seed));
}

Tensor input(const Shape& s, uint64_t seed) {
  Tensor x = Tensor::empty(s);
  Generator g(seed);
  g.uniform_(x, -1, 1);
  return x;
}

Tensor eval_forward(SegmentationModel& m, const Tensor& x) {
  m.eval();
  NoGradGuard ng;
  return m.forward(x);
}

// Expects `fn` to throw a gb::Error whose message contains every string in `parts`.
template <class F> void expect_error(F fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    for (auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << "  [want: " << p << "]";
  }
}

}  // namespace

TEST(Weights, CheckpointRoundTripIsBitIdentical) {
  auto m = micro(3);
  m->train();
  m->forward(input({2, 1, 32, 32}, 1));  // moves BatchNorm running statistics away from 0 / 1
  const std::string path = gbtest::temp_path("ckpt.safetensors");
  Tensor mom = input({4, 5}, 9);
  save_checkpoint(path, *m, {{"sgd.momentum.x", mom}}, {{"epoch", "7"}});
  Checkpoint c = load_checkpoint(path);
  std::remove(path.c_str());
  EXPECT_EQ(c.metadata.at("epoch"), "7");
  EXPECT_EQ(c.model->config().to_json(), m->config().to_json());
  ASSERT_TRUE(c.train_state.count("sgd.momentum.x"));
  EXPECT_EQ(c.train_state.at("sgd.momentum.x").to_vector(), mom.to_vector());
  auto a = m->state_dict(), b = c.model->state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second.to_vector(), b[i].second.to_vector()) << a[i].first;
  }
  Tensor x = input({1, 1, 32, 32}, 2);
  EXPECT_EQ(eval_forward(*m, x).to_vector(), eval_forward(*c.model, x).to_vector());
}

TEST(Weights, OfficialPyTorchSafetensorsExportLoads) {
  // What `safetensors.torch.save_file(net.state_dict(), ...)` writes: same keys, OIHW, F32, and
  // num_batches_tracked as a 0-dim I64.
  auto src = micro(5);
  src->train();
  src->forward(input({2, 1, 32, 32}, 4));
  nlohmann::ordered_json h;
  std::vector<uint8_t> data;
  for (auto& [n, t] : src->state_dict()) {
    const uint64_t b = data.size();
    if (t.dtype() == DType::I32) {
      gbtest::put(data, (uint64_t)(int64_t)t.data<int32_t>()[0], 8);
      h[n] = {{"dtype", "I64"}, {"shape", nlohmann::json::array()}, {"data_offsets", {b, data.size()}}};
    } else {
      Tensor c = t.contiguous();
      const uint8_t* p = static_cast<const uint8_t*>(c.raw_data());
      data.insert(data.end(), p, p + c.numel() * 4);
      h[n] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {b, data.size()}}};
    }
  }
  std::string hs = h.dump();
  std::vector<uint8_t> file;
  gbtest::put(file, hs.size(), 8);
  file.insert(file.end(), hs.begin(), hs.end());
  file.insert(file.end(), data.begin(), data.end());
  const std::string path = gbtest::temp_path("official.safetensors");
  gbtest::write_bytes(path, file);
  auto dst = micro(6);
  nn::LoadReport r = load_weights_file(*dst, path);
  std::remove(path.c_str());
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(dst->find_tensor("decoder.conv_more.1.num_batches_tracked").data<int32_t>()[0], 1);
  Tensor x = input({1, 1, 32, 32}, 2);
  EXPECT_EQ(eval_forward(*src, x).to_vector(), eval_forward(*dst, x).to_vector());
}

namespace {

// The JAX/npz form of a TransUNet parameter (the inverse of the official load_from mapping).
Tensor hwio(const Tensor& oihw) { return oihw.view_permute({2, 3, 1, 0}).contiguous(); }
Tensor t2(const Tensor& w) { return w.view_permute({1, 0}).contiguous(); }

std::vector<gbtest::ZipMember> official_npz_members(TransUNet& m, const Tensor& posemb) {
  std::vector<gbtest::ZipMember> z;
  bool flip = false;
  auto add = [&](const std::string& k, const Tensor& t) {
    z.push_back({k + ".npy", gbtest::npy_f32(t), flip});
    flip = !flip;  // half stored, half deflated
  };
  auto P = [&](const std::string& n) { return m.find_tensor(n); };
  const int64_t D = m.config().vit.hidden, H = m.config().vit.heads;
  add("embedding/kernel", hwio(P("transformer.embeddings.patch_embeddings.weight")));
  add("embedding/bias", P("transformer.embeddings.patch_embeddings.bias"));
  add("Transformer/encoder_norm/scale", P("transformer.encoder.encoder_norm.weight"));
  add("Transformer/encoder_norm/bias", P("transformer.encoder.encoder_norm.bias"));
  add("Transformer/posembed_input/pos_embedding", posemb);
  for (int64_t i = 0; i < m.config().vit.layers; ++i) {
    const std::string o = "transformer.encoder.layer." + std::to_string(i) + ".";
    const std::string j = "Transformer/encoderblock_" + std::to_string(i) + "/";
    for (std::string q : {"query", "key", "value"}) {
      add(j + "MultiHeadDotProductAttention_1/" + q + "/kernel", t2(P(o + "attn." + q + ".weight")).view_reshape({D, H, D / H}));
      add(j + "MultiHeadDotProductAttention_1/" + q + "/bias", P(o + "attn." + q + ".bias").view_reshape({H, D / H}));
    }
    add(j + "MultiHeadDotProductAttention_1/out/kernel", t2(P(o + "attn.out.weight")).view_reshape({H, D / H, D}));
    add(j + "MultiHeadDotProductAttention_1/out/bias", P(o + "attn.out.bias"));
    add(j + "MlpBlock_3/Dense_0/kernel", t2(P(o + "ffn.fc1.weight")));
    add(j + "MlpBlock_3/Dense_0/bias", P(o + "ffn.fc1.bias"));
    add(j + "MlpBlock_3/Dense_1/kernel", t2(P(o + "ffn.fc2.weight")));
    add(j + "MlpBlock_3/Dense_1/bias", P(o + "ffn.fc2.bias"));
    add(j + "LayerNorm_0/scale", P(o + "attention_norm.weight"));
    add(j + "LayerNorm_0/bias", P(o + "attention_norm.bias"));
    add(j + "LayerNorm_2/scale", P(o + "ffn_norm.weight"));
    add(j + "LayerNorm_2/bias", P(o + "ffn_norm.bias"));
  }
  const std::string h = "transformer.embeddings.hybrid_model.";
  if (!m.find_module("transformer.embeddings.hybrid_model")) return z;  // ViT-B_16.npz has no ResNet
  add("conv_root/kernel", hwio(P(h + "root.conv.weight")));
  add("gn_root/scale", P(h + "root.gn.weight"));
  add("gn_root/bias", P(h + "root.gn.bias"));
  for (auto& [n, t] : m.state_dict()) {
    if (n.compare(0, h.size() + 5, h + "body.") != 0) continue;
    // body.blockB.unitU.<layer>.<param>
    std::string rest = n.substr(h.size() + 5);
    size_t a = rest.find('.'), b = rest.find('.', a + 1), c = rest.find('.', b + 1);
    std::string block = rest.substr(0, a), unit = rest.substr(a + 1, b - a - 1), layer = rest.substr(b + 1, c - b - 1),
                param = rest.substr(c + 1);
    const std::string j = block + "/" + unit + "/";
    if (layer == "downsample") add(j + "conv_proj/kernel", hwio(t));
    else if (layer.compare(0, 4, "conv") == 0) add(j + layer + "/kernel", hwio(t));
    else add(j + layer + "/" + (param == "weight" ? "scale" : "bias"), t);
  }
  return z;
}

Tensor randomise(TransUNet& m, uint64_t seed) {
  // gives every parameter distinct random values (GroupNorm weights are all 1 at init)
  Generator g(seed);
  for (auto& [n, t] : m.named_parameters()) {
    Tensor v = t;
    g.uniform_(v, -1, 1);
  }
  return Tensor();
}

}  // namespace

TEST(Weights, OfficialNpzLoadsLikeLoadFrom) {
  auto ref = micro(1);  // holds the values the npz will carry
  randomise(*ref, 100);
  const int64_t D = ref->config().vit.hidden;
  // ImageNet checkpoints carry a class token: 1 + 2x2 tokens for this 2x2 grid -> dropped
  Tensor posemb = input({1, 5, D}, 33);
  const std::string path = gbtest::temp_path("r50.npz");
  gbtest::write_bytes(path, gbtest::zip_bytes(official_npz_members(*ref, posemb)));
  auto m = micro(2);
  const auto dec_before = m->find_tensor("decoder.conv_more.0.weight").to_vector();
  std::string note;
  nn::LoadReport r = load_official_npz_file(*m, path, &note);
  std::remove(path.c_str());
  EXPECT_NE(note.find("class token dropped"), std::string::npos) << note;
  // every encoder / ResNet parameter equals the reference; decoder and head keep their init
  for (auto& [n, t] : m->named_parameters()) {
    const bool mapped = n.compare(0, 12, "transformer.") == 0 && n != "transformer.embeddings.position_embeddings";
    if (mapped) {
      EXPECT_EQ(t.to_vector(), ref->find_tensor(n).to_vector()) << n;
    }
  }
  EXPECT_EQ(m->find_tensor("decoder.conv_more.0.weight").to_vector(), dec_before);
  for (auto& n : r.missing) EXPECT_NE(n.compare(0, 12, "transformer."), 0) << n << " should have been loaded";
  EXPECT_TRUE(std::find(r.missing.begin(), r.missing.end(), "segmentation_head.0.weight") != r.missing.end());
  // HWIO -> OIHW, checked on one element: OIHW[o][i][h][w] == HWIO[h][w][i][o]
  Tensor w = m->find_tensor("transformer.embeddings.hybrid_model.root.conv.weight");
  Tensor hw = hwio(ref->find_tensor("transformer.embeddings.hybrid_model.root.conv.weight"));
  EXPECT_EQ(w.at({5, 2, 1, 6}), hw.at({1, 6, 2, 5}));
  // query kernel [D, H, Dh] -> weight[o][i] = kernel[i][o / Dh][o % Dh]
  Tensor pe = m->find_tensor("transformer.embeddings.position_embeddings");
  auto pv = pe.to_vector(), sv = posemb.to_vector();
  for (int64_t i = 0; i < 4 * D; ++i) EXPECT_EQ(pv[i], sv[D + i]);
}

TEST(Weights, PositionEmbeddingResizedAsScipyZoomOrder1) {
  // 2x2 grid (+ class token) into a 48x48 model: 3x3 grid. Corners aligned: the corners copy, the
  // centre is the mean of the four, edge midpoints the mean of two.
  const int64_t D = 16;
  Tensor posemb = input({1, 5, D}, 8);
  std::string note;
  Tensor out = adapt_position_embedding(posemb, 3, 3, &note);
  EXPECT_NE(note.find("2x2 -> 3x3"), std::string::npos) << note;
  ASSERT_EQ(out.shape(), (Shape{1, 9, D}));
  auto s = posemb.to_vector(), o = out.to_vector();
  auto old = [&](int y, int x, int d) { return s[(1 + y * 2 + x) * D + d]; };
  auto now = [&](int y, int x, int d) { return o[(y * 3 + x) * D + d]; };
  for (int d = 0; d < D; ++d) {
    EXPECT_FLOAT_EQ(now(0, 0, d), old(0, 0, d));
    EXPECT_FLOAT_EQ(now(2, 2, d), old(1, 1, d));
    EXPECT_FLOAT_EQ(now(0, 2, d), old(0, 1, d));
    EXPECT_NEAR(now(1, 1, d), (old(0, 0, d) + old(0, 1, d) + old(1, 0, d) + old(1, 1, d)) / 4, 1e-6);
    EXPECT_NEAR(now(0, 1, d), (old(0, 0, d) + old(0, 1, d)) / 2, 1e-6);
  }
  // 14x14 -> 16x16 like 224 -> 256 input: interior point by hand (scipy: in = out * 13 / 15)
  Tensor big = input({1, 197, 2}, 9);
  Tensor r = adapt_position_embedding(big, 16, 16);
  auto bv = big.to_vector(), rv = r.to_vector();
  const double c = 7 * 13.0 / 15.0;  // row and column 7
  const int i0 = (int)c;
  const double w = c - i0;
  auto B = [&](int y, int x) { return bv[(1 + y * 14 + x) * 2]; };
  const double expect = (1 - w) * ((1 - w) * B(i0, i0) + w * B(i0, i0 + 1)) + w * ((1 - w) * B(i0 + 1, i0) + w * B(i0 + 1, i0 + 1));
  EXPECT_NEAR(rv[(7 * 16 + 7) * 2], expect, 1e-6);
  // and the whole model path
  auto ref = micro(1, 48);
  auto m48 = micro(2, 48);
  auto members = official_npz_members(*ref, posemb);
  std::map<std::string, Tensor> npz;
  auto parsed = io::parse_npz(gbtest::zip_bytes(members).data(), gbtest::zip_bytes(members).size(), "mem.npz");
  npz.insert(parsed.begin(), parsed.end());
  load_official_npz(*m48, npz);
  EXPECT_EQ(m48->find_tensor("transformer.embeddings.position_embeddings").to_vector(), out.to_vector());
}

TEST(Weights, NpzMissingOrMisShapedKeysAreListed) {
  auto ref = micro(1);
  auto members = official_npz_members(*ref, input({1, 5, 16}, 1));
  members.erase(members.begin() + 1);  // embedding/bias
  auto m = micro(2);
  auto bytes = gbtest::zip_bytes(members);
  auto parsed = io::parse_npz(bytes.data(), bytes.size(), "x.npz");
  std::map<std::string, Tensor> npz(parsed.begin(), parsed.end());
  npz["conv_root/kernel"] = Tensor::zeros({3, 3, 3, 8});
  expect_error([&] { map_official_npz(*m, npz); }, {"embedding/bias", "conv_root/kernel"});
  // partial loading: everything else loads, the two problems are reported
  nn::LoadReport r = load_official_npz(*m, npz, nullptr, false);
  ASSERT_EQ(r.mismatched.size(), 2u);
  EXPECT_NE(r.mismatched[0].find("embedding/bias"), std::string::npos) << r.mismatched[0];
  EXPECT_NE(r.mismatched[1].find("conv_root/kernel"), std::string::npos) << r.mismatched[1];
  EXPECT_EQ(m->find_tensor("transformer.encoder.layer.0.attn.key.bias").to_vector(),
            ref->find_tensor("transformer.encoder.layer.0.attn.key.bias").to_vector());
}

TEST(Weights, NpyFormats) {
  // Fortran order, big-endian, int64 and bool; object arrays refused
  std::vector<double> v = {1, 2, 3, 4, 5, 6};  // Fortran [2,3]: column-major
  auto b = gbtest::npy_bytes("<f8", {2, 3}, v.data(), 48, true);
  Tensor t = io::parse_npy(b.data(), b.size(), "f.npy");
  EXPECT_EQ(t.dtype(), DType::F64);
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1, 3, 5, 2, 4, 6}));
  uint8_t be[8] = {0x3f, 0x80, 0, 0, 0x40, 0, 0, 0};  // big-endian f4 1.0, 2.0
  b = gbtest::npy_bytes(">f4", {2}, be, 8);
  EXPECT_EQ(io::parse_npy(b.data(), b.size(), "be.npy").to_vector(), (std::vector<double>{1, 2}));
  int64_t iv[2] = {-3, 7};
  b = gbtest::npy_bytes("<i8", {2}, iv, 16);
  Tensor ti = io::parse_npy(b.data(), b.size(), "i.npy");
  EXPECT_EQ(ti.dtype(), DType::I32);
  EXPECT_EQ(ti.to_vector(), (std::vector<double>{-3, 7}));
  uint8_t obj[8] = {0x80, 2, 0, 0, 0, 0, 0, 0};
  b = gbtest::npy_bytes("|O", {1}, obj, 8);
  expect_error([&] { io::parse_npy(b.data(), b.size(), "obj.npy"); }, {"obj.npy", "object arrays", "pickle"});
  b = gbtest::npy_bytes("<f4", {4}, be, 8);  // 16 bytes needed, 8 present
  expect_error([&] { io::parse_npy(b.data(), b.size(), "short.npy"); }, {"short.npy", "truncated"});
}

TEST(Weights, CorruptSafetensorsGiveClearErrors) {
  auto m = micro(1);
  const std::string path = gbtest::temp_path("good.safetensors");
  save_checkpoint(path, *m);
  auto good = gbtest::read_bytes(path);
  std::remove(path.c_str());
  ASSERT_GT(good.size(), 100u);
  uint64_t hl = 0;
  for (int i = 7; i >= 0; --i) hl = (hl << 8) | good[i];
  std::string header(good.begin() + 8, good.begin() + 8 + hl);
  auto with_header = [&](std::string h) {
    std::vector<uint8_t> f;
    gbtest::put(f, h.size(), 8);
    f.insert(f.end(), h.begin(), h.end());
    f.insert(f.end(), good.begin() + 8 + hl, good.end());
    return f;
  };
  auto check = [&](const std::vector<uint8_t>& bytes, const std::vector<std::string>& parts) {
    const std::string p = gbtest::temp_path("bad.safetensors");
    gbtest::write_bytes(p, bytes);
    std::vector<std::string> all = parts;
    all.push_back(p);
    expect_error([&] { io::read_safetensors(p); }, all);
    std::remove(p.c_str());
  };
  check(std::vector<uint8_t>(good.begin(), good.begin() + 4), {"8-byte header length"});
  check(std::vector<uint8_t>(good.begin(), good.end() - 10), {"out of range"});  // truncated data
  std::vector<uint8_t> longhdr = good;
  longhdr[5] = 0x10;
  check(longhdr, {"runs past the end"});
  check(with_header("{not json"), {"not valid JSON"});
  std::string h2 = header;
  h2.replace(h2.find("\"F32\""), 5, "\"F99\"");
  check(with_header(h2), {"unsupported dtype 'F99'"});
  std::string h3 = header;
  h3.replace(h3.find("\"F32\""), 5, "\"F64\"");  // same offsets, twice the bytes
  check(with_header(h3), {"bytes but data_offsets"});
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(header);
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "__metadata__") {
      it.value()["data_offsets"][1] = 1ull << 40;
      break;
    }
  check(with_header(j.dump()), {"out of range"});
  expect_error([] { io::read_safetensors("/nonexistent/dir/x.safetensors"); }, {"/nonexistent/dir/x.safetensors"});
  expect_error([&] { load_checkpoint(gbtest::temp_path("missing.safetensors")); }, {"missing.safetensors"});
}

TEST(Weights, CorruptNpzGiveClearErrors) {
  auto z = gbtest::zip_bytes({{"a.npy", gbtest::npy_f32(input({3, 4}, 1)), true}, {"b.npy", gbtest::npy_f32(input({2}, 2)), false}});
  auto ok = io::parse_npz(z.data(), z.size(), "ok.npz");
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok[0].first, "a");
  EXPECT_EQ(ok[0].second.shape(), (Shape{3, 4}));
  EXPECT_EQ(ok[1].second.to_vector(), input({2}, 2).to_vector());
  auto bad = [&](std::vector<uint8_t> b, const std::vector<std::string>& parts) {
    std::vector<std::string> all = parts;
    all.push_back("bad.npz");
    expect_error([&] { io::parse_npz(b.data(), b.size(), "bad.npz"); }, all);
  };
  bad(std::vector<uint8_t>(z.begin(), z.begin() + z.size() / 2), {"not a zip"});
  std::vector<uint8_t> flip = z;
  flip[60] ^= 0x55;  // inside member a's deflate stream
  try {
    io::parse_npz(flip.data(), flip.size(), "bad.npz");
    ADD_FAILURE() << "corruption not detected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.npz: member 'a.npy'"), std::string::npos) << e.what();
  }
  bad(std::vector<uint8_t>(10, 0), {"not a zip"});
  uint8_t obj[8] = {0x80, 2, 0, 0, 0, 0, 0, 0};
  auto zo = gbtest::zip_bytes({{"o.npy", gbtest::npy_bytes("|O", {1}, obj, 8), false}});
  bad(zo, {"o.npy", "pickle"});
}

TEST(Weights, FilesFromOtherWriters) {
  const std::string dir = std::string(GB_SOURCE_DIR) + "/tests/models/corpus/";
  io::SafetensorsData s = io::read_safetensors(dir + "mixed_dtypes.safetensors");
  ASSERT_EQ(s.tensors.size(), 3u);
  EXPECT_EQ(s.metadata.at("k"), "v");
  EXPECT_EQ(s.tensors[0].second.to_vector(), (std::vector<double>{1, 2}));
  EXPECT_EQ(s.tensors[1].second.dtype(), DType::I32);
  EXPECT_EQ(s.tensors[1].second.item(), 3);
  EXPECT_EQ(s.tensors[2].second.shape(), (Shape{1, 2}));
  EXPECT_EQ(s.tensors[2].second.to_vector(), (std::vector<double>{1, 2}));  // BF16 -> F32
  for (const char* f : {"python_stored.npz", "python_deflate.npz"}) {
    auto z = io::read_npz(dir + f);
    ASSERT_EQ(z.size(), 2u) << f;
    EXPECT_EQ(z[0].first, "x");
    EXPECT_EQ(z[0].second.shape(), (Shape{2, 3}));
    EXPECT_EQ(z[0].second.to_vector(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(z[1].first, "y/z");
    EXPECT_EQ(z[1].second.to_vector(), (std::vector<double>{1, 2}));
  }
  auto z64 = io::read_npz(dir + "python_zip64.npz");
  ASSERT_EQ(z64.size(), 1u);
  EXPECT_EQ(z64[0].second.dtype(), DType::F64);
  EXPECT_EQ(z64[0].second.to_vector(), (std::vector<double>{1.5}));
}

TEST(Weights, OfficialViTOnlyNpzLoads) {
  // ViT-B_16.npz layout: embedding/kernel is a 16x16 HWIO patch kernel, no ResNet entries
  ModelConfig c = named_config("tiny-vit", 32, 2, 3);
  auto ref = std::dynamic_pointer_cast<TransUNet>(make_model(c, 1));
  auto m = std::dynamic_pointer_cast<TransUNet>(make_model(c, 2));
  randomise(*ref, 7);
  Tensor posemb = input({1, 5, c.vit.hidden}, 3);
  auto bytes = gbtest::zip_bytes(official_npz_members(*ref, posemb));
  auto parsed = io::parse_npz(bytes.data(), bytes.size(), "vit.npz");
  load_official_npz(*m, std::map<std::string, Tensor>(parsed.begin(), parsed.end()));
  Tensor w = m->find_tensor("transformer.embeddings.patch_embeddings.weight");
  EXPECT_EQ(w.shape(), (Shape{c.vit.hidden, 3, 16, 16}));
  EXPECT_EQ(w.to_vector(), ref->find_tensor("transformer.embeddings.patch_embeddings.weight").to_vector());
  EXPECT_EQ(m->find_tensor("transformer.encoder.layer.2.attn.out.weight").to_vector(),
            ref->find_tensor("transformer.encoder.layer.2.attn.out.weight").to_vector());
}

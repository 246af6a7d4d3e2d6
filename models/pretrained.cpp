#include "models/pretrained.h"

#include <cmath>
#include <sstream>

namespace gb::models {

Tensor zoom_linear_grid(const Tensor& grid_in, int64_t gh, int64_t gw) {
  GB_CHECK(grid_in.dim() == 3 && gh > 0 && gw > 0, "zoom_linear_grid: expected [h, w, D] and a positive size, got ",
           grid_in.desc());
  Tensor g = grid_in.to(DType::F64).contiguous();
  const int64_t ih = g.size(0), iw = g.size(1), D = g.size(2);
  const double* src = g.data<double>();
  Tensor out = Tensor::empty({gh, gw, D}, DType::F64);
  double* dst = out.data<double>();
  // scipy (grid_mode=False): in = out * (in_n - 1) / (out_n - 1); factor 1 when out_n == 1
  auto coord = [](int64_t o, int64_t in_n, int64_t out_n, int64_t& i0, double& w1) {
    const double z = out_n > 1 ? (double)(in_n - 1) / (double)(out_n - 1) : 1.0;
    double c = (double)o * z;
    if (c > (double)(in_n - 1)) c = (double)(in_n - 1);
    i0 = (int64_t)std::floor(c);
    if (i0 >= in_n - 1) i0 = in_n - 1;
    w1 = c - (double)i0;
  };
  for (int64_t y = 0; y < gh; ++y) {
    int64_t y0;
    double wy;
    coord(y, ih, gh, y0, wy);
    const int64_t y1 = std::min(y0 + 1, ih - 1);
    for (int64_t x = 0; x < gw; ++x) {
      int64_t x0;
      double wx;
      coord(x, iw, gw, x0, wx);
      const int64_t x1 = std::min(x0 + 1, iw - 1);
      for (int64_t d = 0; d < D; ++d) {
        const double a = src[(y0 * iw + x0) * D + d], b = src[(y0 * iw + x1) * D + d];
        const double c = src[(y1 * iw + x0) * D + d], e = src[(y1 * iw + x1) * D + d];
        dst[(y * gw + x) * D + d] = (1 - wy) * ((1 - wx) * a + wx * b) + wy * ((1 - wx) * c + wx * e);
      }
    }
  }
  return out.to(grid_in.dtype());
}

Tensor adapt_position_embedding(const Tensor& posemb, int64_t gh, int64_t gw, std::string* note) {
  GB_CHECK(posemb.dim() == 3 && posemb.size(0) == 1, "position embedding: expected [1, N, D], got ", posemb.desc());
  const int64_t n = posemb.size(1), D = posemb.size(2), want = gh * gw;
  std::ostringstream os;
  Tensor out;
  if (n == want) {
    out = posemb.contiguous();
    os << "position embedding copied (" << n << " tokens)";
  } else if (n - 1 == want) {
    out = posemb.view_slice(1, 1, n).contiguous();
    os << "position embedding: class token dropped (" << n << " -> " << want << " tokens)";
  } else {
    // official ("seg" classifier): drop the first token, zoom the square grid of the rest
    const int64_t g = (int64_t)std::llround(std::sqrt((double)(n - 1)));
    GB_CHECK(g * g == n - 1, "position embedding: ", n, " tokens minus the class token do not form a square grid");
    Tensor grid = posemb.view_slice(1, 1, n).contiguous().view_reshape({g, g, D});
    out = zoom_linear_grid(grid, gh, gw).view_reshape({1, want, D});
    os << "position embedding resized: grid " << g << "x" << g << " -> " << gh << "x" << gw
       << " (linear, corners aligned, as scipy.ndimage.zoom order=1)";
  }
  if (note) *note = os.str();
  return out;
}

namespace {

std::string join(const std::string& a, const std::string& b) { return a + "/" + b; }

struct Mapper {
  const std::map<std::string, Tensor>& npz;
  nn::TensorMap sd;
  std::vector<std::string> problems;

  const Tensor* get(const std::string& key) {
    auto it = npz.find(key);
    if (it == npz.end()) {
      problems.push_back("missing '" + key + "'");
      return nullptr;
    }
    return &it->second;
  }
  // kind: 0 copy (reshaped to the target), 1 HWIO -> OIHW, 2 [in, out] (any split) -> [out, in]
  void map(const std::string& ours, const Tensor& target, const std::string& key, int kind) {
    const Tensor* t = get(key);
    if (!t) return;
    Tensor v;
    if (kind == 1) {
      if (t->dim() != 4 || target.dim() != 4 || t->size(0) != target.size(2) || t->size(1) != target.size(3) ||
          t->size(2) != target.size(1) || t->size(3) != target.size(0)) {
        problems.push_back("'" + key + "' " + str(t->shape()) + " is not the HWIO form of " + ours + " " +
                           str(target.shape()));
        return;
      }
      v = t->view_permute({3, 2, 0, 1}).contiguous();
    } else if (kind == 2) {
      if (target.dim() != 2 || t->numel() != target.numel()) {
        problems.push_back("'" + key + "' " + str(t->shape()) + " does not fit " + ours + " " + str(target.shape()));
        return;
      }
      v = t->contiguous().view_reshape({target.size(1), target.size(0)}).view_permute({1, 0}).contiguous();
    } else {
      if (t->numel() != target.numel()) {
        problems.push_back("'" + key + "' " + str(t->shape()) + " does not fit " + ours + " " + str(target.shape()));
        return;
      }
      v = t->contiguous().view_reshape(target.shape());
    }
    sd[ours] = v;
  }
};

}  // namespace

nn::TensorMap map_official_npz(TransUNet& model, const std::map<std::string, Tensor>& npz, std::string* note,
                               std::vector<std::string>* skipped) {
  Mapper m{npz, {}, {}};
  auto P = [&](const std::string& n) { return model.find_tensor(n); };
  const std::string emb = "transformer.embeddings.";
  m.map(emb + "patch_embeddings.weight", P(emb + "patch_embeddings.weight"), "embedding/kernel", 1);
  m.map(emb + "patch_embeddings.bias", P(emb + "patch_embeddings.bias"), "embedding/bias", 0);
  m.map("transformer.encoder.encoder_norm.weight", P("transformer.encoder.encoder_norm.weight"),
        "Transformer/encoder_norm/scale", 0);
  m.map("transformer.encoder.encoder_norm.bias", P("transformer.encoder.encoder_norm.bias"),
        "Transformer/encoder_norm/bias", 0);
  if (const Tensor* pe = m.get("Transformer/posembed_input/pos_embedding")) {
    Tensor target = P(emb + "position_embeddings");
    try {
      Tensor v = adapt_position_embedding(*pe, model.grid_h(), model.grid_w(), note);
      if (v.size(2) != target.size(2))
        m.problems.push_back("pos_embedding width " + std::to_string(v.size(2)) + " vs hidden " +
                             std::to_string(target.size(2)));
      else
        m.sd[emb + "position_embeddings"] = v;
    } catch (const Error& e) {
      m.problems.push_back(e.what());
    }
  }
  const int64_t layers = (int64_t)model.transformer->encoder->layer->size();
  for (int64_t i = 0; i < layers; ++i) {
    const std::string ours = "transformer.encoder.layer." + std::to_string(i) + ".";
    const std::string root = "Transformer/encoderblock_" + std::to_string(i);
    for (const char* q : {"query", "key", "value", "out"}) {
      const std::string jx = join(root, std::string("MultiHeadDotProductAttention_1/") + q);
      m.map(ours + "attn." + q + ".weight", P(ours + "attn." + q + ".weight"), join(jx, "kernel"), 2);
      m.map(ours + "attn." + q + ".bias", P(ours + "attn." + q + ".bias"), join(jx, "bias"), 0);
    }
    for (int f = 0; f < 2; ++f) {
      const std::string fc = ours + "ffn.fc" + std::to_string(f + 1) + ".";
      const std::string jx = join(root, "MlpBlock_3/Dense_" + std::to_string(f));
      m.map(fc + "weight", P(fc + "weight"), join(jx, "kernel"), 2);
      m.map(fc + "bias", P(fc + "bias"), join(jx, "bias"), 0);
    }
    for (auto [n, j] : {std::pair<const char*, const char*>{"attention_norm", "LayerNorm_0"}, {"ffn_norm", "LayerNorm_2"}}) {
      m.map(ours + n + ".weight", P(ours + n + ".weight"), join(join(root, j), "scale"), 0);
      m.map(ours + n + ".bias", P(ours + n + ".bias"), join(join(root, j), "bias"), 0);
    }
  }
  if (auto& hm = model.transformer->embeddings->hybrid_model) {
    const std::string h = emb + "hybrid_model.";
    m.map(h + "root.conv.weight", P(h + "root.conv.weight"), "conv_root/kernel", 1);
    m.map(h + "root.gn.weight", P(h + "root.gn.weight"), "gn_root/scale", 0);
    m.map(h + "root.gn.bias", P(h + "root.gn.bias"), "gn_root/bias", 0);
    for (auto& [bname, block] : hm->body->children())
      for (auto& [uname, unit] : block->children()) {
        const std::string ours = h + "body." + bname + "." + uname + ".";
        const std::string jx = bname + "/" + uname + "/";
        for (const char* c : {"conv1", "conv2", "conv3"})
          m.map(ours + c + ".weight", P(ours + c + ".weight"), jx + c + "/kernel", 1);
        for (const char* g : {"gn1", "gn2", "gn3"}) {
          m.map(ours + g + ".weight", P(ours + g + ".weight"), jx + g + "/scale", 0);
          m.map(ours + g + ".bias", P(ours + g + ".bias"), jx + g + "/bias", 0);
        }
        if (unit->find_module("downsample")) {
          m.map(ours + "downsample.weight", P(ours + "downsample.weight"), jx + "conv_proj/kernel", 1);
          m.map(ours + "gn_proj.weight", P(ours + "gn_proj.weight"), jx + "gn_proj/scale", 0);
          m.map(ours + "gn_proj.bias", P(ours + "gn_proj.bias"), jx + "gn_proj/bias", 0);
        }
      }
  }
  if (skipped) {
    *skipped = m.problems;
  } else if (!m.problems.empty()) {
    std::ostringstream os;
    for (auto& p : m.problems) os << "\n  " << p;
    fail("official npz does not fit this TransUNet (", m.problems.size(), " problems):", os.str());
  }
  return m.sd;
}

nn::LoadReport load_official_npz(TransUNet& model, const std::map<std::string, Tensor>& npz, std::string* note,
                                 bool strict) {
  std::vector<std::string> skipped;
  nn::TensorMap sd = map_official_npz(model, npz, note, strict ? nullptr : &skipped);
  nn::LoadReport r = model.load_state_dict(sd, false, "official npz");
  for (auto& s : skipped) r.mismatched.push_back("npz: " + s);
  return r;
}

}  // namespace gb::models

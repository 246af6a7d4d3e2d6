#include "models/unet.h"

namespace gb::models {

std::shared_ptr<nn::Unary> UNet::conv(int64_t in, int64_t out, int64_t k, bool bias, Generator& gen) {
  if (!c3()) return std::make_shared<nn::Conv2d>(in, out, k, 1, k / 2, bias, gen);
  nn::Conv3dSpec s;
  s.in = in;
  s.out = out;
  s.kernel = {k, k, k};
  s.padding = {k / 2, k / 2, k / 2};
  s.bias = bias;
  return std::make_shared<nn::Conv3d>(s, gen);
}

std::shared_ptr<nn::Sequential> UNet::double_conv(int64_t in, int64_t mid, int64_t out, Generator& gen) {
  auto s = std::make_shared<nn::Sequential>();
  const int64_t rank = c3() ? 5 : 4;
  s->add(conv(in, mid, 3, false, gen));
  s->add(std::make_shared<nn::BatchNorm>(mid, rank));
  s->add(std::make_shared<nn::ReLU>());
  s->add(conv(mid, out, 3, false, gen));
  s->add(std::make_shared<nn::BatchNorm>(out, rank));
  s->add(std::make_shared<nn::ReLU>());
  return s;
}

UNet::UNet(const ModelConfig& c, Generator& gen) : SegmentationModel(c) {
  const UNetConfig& u = c.unet;
  GB_CHECK(u.dims == 2 || u.dims == 3, "UNet: dims must be 2 or 3, got ", u.dims);
  GB_CHECK(u.depth >= 1 && u.depth <= 6 && u.base >= 1, "UNet: bad depth ", u.depth, " or base ", u.base);
  GB_CHECK((int64_t)c.size.size() == u.dims, "UNet: size needs ", u.dims, " values");
  for (int64_t s : c.size)
    GB_CHECK(s > 0 && s % (int64_t(1) << u.depth) == 0, "UNet: size ", s, " is not divisible by 2^depth = ",
             int64_t(1) << u.depth);
  GB_CHECK(c.in_channels >= 1 && c.classes >= 1, "UNet: bad channels");
  // channels out of encoder level l: 2D base * 2^l; 3D (Cicek) base * 2^(l+1) with mid base * 2^l
  std::vector<int64_t> ch(u.depth + 1);
  int64_t in = c.in_channels;
  for (int64_t l = 0; l <= u.depth; ++l) {
    const int64_t mid = u.base << l;
    ch[l] = c3() ? u.base << (l + 1) : mid;
    enc_.push_back(register_module("enc" + std::to_string(l), double_conv(in, mid, ch[l], gen)));
    in = ch[l];
  }
  if (c3())
    pool_ = register_module("pool", std::make_shared<nn::MaxPool3d>(2, 2));
  else
    pool_ = register_module("pool", std::make_shared<nn::MaxPool2d>(2, 2));
  for (int64_t l = u.depth - 1; l >= 0; --l) {
    auto up = std::make_shared<nn::Sequential>();
    up->add("up", std::make_shared<nn::Upsample>(2, true));
    // 2D: halve channels as Ronneberger's up-conv; 3D: keep them as Cicek's
    const int64_t up_out = c3() ? in : in / 2;
    up->add("reduce", conv(in, up_out, 1, true, gen));
    up_.push_back(register_module("up" + std::to_string(l), up));
    dec_.push_back(register_module("dec" + std::to_string(l), double_conv(up_out + ch[l], ch[l], ch[l], gen)));
    in = ch[l];
  }
  head_ = register_module("head", conv(in, c.classes, 1, true, gen));
}

Tensor UNet::forward(const Tensor& x) {
  return run([&] {
    const int64_t rank = c3() ? 5 : 4;
    GB_CHECK(x.dim() == rank && x.size(1) == config_.in_channels, type_name(), ": expected ", rank, "-d input with ",
             config_.in_channels, " channels, got ", x.desc());
    const int64_t depth = config_.unet.depth;
    for (int64_t d = 2; d < rank; ++d)
      GB_CHECK(x.size(d) % (int64_t(1) << depth) == 0, type_name(), ": spatial size ", str(x.shape()),
               " is not divisible by 2^depth = ", int64_t(1) << depth);
    std::vector<Tensor> skips;
    Tensor h = x;
    for (int64_t l = 0; l <= depth; ++l) {
      h = enc_[l]->forward(h);
      if (l < depth) {
        skips.push_back(h);
        h = pool_->forward(h);
      }
    }
    for (int64_t i = 0; i < depth; ++i) {
      const int64_t l = depth - 1 - i;
      h = up_[i]->forward(h);
      h = dec_[i]->forward(concat({skips[l], h}, 1));
    }
    return head_->forward(h);
  });
}

}  // namespace gb::models

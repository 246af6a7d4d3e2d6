#include "models/resnet_skip.h"

namespace gb::models {

PreActBottleneck::PreActBottleneck(int64_t cin, int64_t cout, int64_t cmid, int64_t stride, int64_t groups,
                                   Generator& gen) {
  // registration order = official attribute order (state_dict order)
  gn1 = register_module("gn1", std::make_shared<nn::GroupNorm>(groups, cmid, 1e-6));
  conv1 = register_module("conv1", std::make_shared<nn::StdConv2d>(cin, cmid, 1, 1, 0, false, gen));
  gn2 = register_module("gn2", std::make_shared<nn::GroupNorm>(groups, cmid, 1e-6));
  conv2 = register_module("conv2", std::make_shared<nn::StdConv2d>(cmid, cmid, 3, stride, 1, false, gen));
  gn3 = register_module("gn3", std::make_shared<nn::GroupNorm>(groups, cout, 1e-6));
  conv3 = register_module("conv3", std::make_shared<nn::StdConv2d>(cmid, cout, 1, 1, 0, false, gen));
  if (stride != 1 || cin != cout) {
    downsample = register_module("downsample", std::make_shared<nn::StdConv2d>(cin, cout, 1, stride, 0, false, gen));
    gn_proj = register_module("gn_proj", std::make_shared<nn::GroupNorm>(cout, cout, 1e-5));  // torch default eps
  }
}

Tensor PreActBottleneck::forward(const Tensor& x) {
  return run([&] {
    Tensor residual = x;
    if (downsample) residual = gn_proj->forward(downsample->forward(x));
    Tensor y = relu(gn1->forward(conv1->forward(x)));
    y = relu(gn2->forward(conv2->forward(y)));
    y = gn3->forward(conv3->forward(y));
    return relu(add(residual, y));
  });
}

ResNetV2::ResNetV2(const std::vector<int64_t>& units, int64_t width, int64_t groups, Generator& gen) : width_(width) {
  GB_CHECK(units.size() == 3 && units[0] > 0 && units[1] > 0 && units[2] > 0,
           "ResNetV2: expected 3 stages with >= 1 unit each");
  root = register_module("root", std::make_shared<nn::Sequential>());
  root->add("conv", std::make_shared<nn::StdConv2d>(3, width, 7, 2, 3, false, gen));
  root->add("gn", std::make_shared<nn::GroupNorm>(groups, width, 1e-6));
  root->add("relu", std::make_shared<nn::ReLU>());
  body = register_module("body", std::make_shared<nn::Sequential>());
  const int64_t cin[3] = {width, width * 4, width * 8}, cout[3] = {width * 4, width * 8, width * 16},
                cmid[3] = {width, width * 2, width * 4}, stride[3] = {1, 2, 2};
  for (int b = 0; b < 3; ++b) {
    auto block = body->add("block" + std::to_string(b + 1), std::make_shared<nn::Sequential>());
    for (int64_t u = 1; u <= units[b]; ++u)
      block->add("unit" + std::to_string(u),
                 std::make_shared<PreActBottleneck>(u == 1 ? cin[b] : cout[b], cout[b], cmid[b], u == 1 ? stride[b] : 1,
                                                    groups, gen));
  }
}

Tensor ResNetV2::forward(const Tensor& x_in, std::vector<Tensor>& features) {
  return run([&] {
    GB_CHECK(x_in.dim() == 4 && x_in.size(1) == 3, "ResNetV2 '", full_name(), "': expected [N, 3, H, W], got ",
             x_in.desc());
    const int64_t H = x_in.size(2), W = x_in.size(3);
    std::vector<Tensor> feats;
    Tensor x = root->forward(x_in);
    feats.push_back(x);
    x = max_pool2d(x, {3, 3}, {2, 2}, {0, 0});  // official: created in forward, not a child
    auto& blocks = body->children();
    for (size_t i = 0; i + 1 < blocks.size(); ++i) {
      x = dynamic_cast<nn::Unary&>(*blocks[i].second).forward(x);
      // official: right_size = int(in_size / 4 / (i + 1)); pad bottom/right with zeros by 1 or 2
      const int64_t rh = H / 4 / (int64_t)(i + 1), rw = W / 4 / (int64_t)(i + 1);
      const int64_t ph = rh - x.size(2), pw = rw - x.size(3);
      GB_CHECK(ph >= 0 && ph < 3 && pw >= 0 && pw < 3, "ResNetV2: stage ", i + 1, " output ", str(x.shape()),
               " does not pad to ", rh, "x", rw, " (input ", H, "x", W, " must be divisible by 16)");
      feats.push_back(ph || pw ? pad(x, {0, pw, 0, ph}) : x);
    }
    x = dynamic_cast<nn::Unary&>(*blocks.back().second).forward(x);
    features.assign(feats.rbegin(), feats.rend());
    return x;
  });
}

}  // namespace gb::models

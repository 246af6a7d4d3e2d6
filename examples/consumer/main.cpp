// Builds the "micro" TransUNet from an installed glassbox and runs one forward pass on zeros:
// input [1, in_channels, H, W] -> logits [1, classes, H, W].
#include <cstdio>

#include "autograd/node.h"
#include "models/config.h"
#include "models/model.h"
#include "tensor/tensor.h"

int main() {
  gb::models::ModelConfig c = gb::models::named_config("micro");
  auto model = gb::models::make_model(c);
  model->eval();
  gb::NoGradGuard no_grad;  // inference only: no graph is recorded
  gb::Shape in{1, c.in_channels};
  in.insert(in.end(), c.size.begin(), c.size.end());
  gb::Tensor y = model->forward(gb::Tensor::zeros(in));
  std::printf("glassbox consumer: micro TransUNet %s -> %s\n", gb::str(in).c_str(), gb::str(y.shape()).c_str());
  return 0;
}

#include "layers/init.h"

#include <cmath>

namespace gb::nn::init {

static int64_t receptive(const Tensor& w) {
  int64_t r = 1;
  for (int64_t d = 2; d < w.dim(); ++d) r *= w.size(d);
  return r;
}
int64_t fan_in(const Tensor& w) {
  GB_CHECK(w.dim() >= 2, "init::fan_in: weight needs >= 2 dims, got ", w.desc());
  return w.size(1) * receptive(w);
}
int64_t fan_out(const Tensor& w) {
  GB_CHECK(w.dim() >= 2, "init::fan_out: weight needs >= 2 dims, got ", w.desc());
  return w.size(0) * receptive(w);
}

void uniform(Tensor& t, double lo, double hi, Generator& gen) { gen.uniform_(t, lo, hi); }
void normal(Tensor& t, double mean, double std, Generator& gen) { gen.normal_(t, mean, std); }

void kaiming_uniform_a_sqrt5(Tensor& w, Generator& gen) {
  const double b = 1.0 / std::sqrt((double)fan_in(w));
  gen.uniform_(w, -b, b);
}

void default_bias(Tensor& b, int64_t weight_fan_in, Generator& gen) {
  const double bound = weight_fan_in > 0 ? 1.0 / std::sqrt((double)weight_fan_in) : 0.0;
  gen.uniform_(b, -bound, bound);
}

void xavier_uniform(Tensor& w, Generator& gen, double gain) {
  const double b = gain * std::sqrt(6.0 / (double)(fan_in(w) + fan_out(w)));
  gen.uniform_(w, -b, b);
}

}  // namespace gb::nn::init

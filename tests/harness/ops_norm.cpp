// Harness cases: normalisation ops (autograd/norm.cpp). Channel counts 1, 3, 33; groups 1, 3 and
// C; odd spatial sizes, a 3-D volume, non-contiguous inputs; batch_norm in training and eval mode.
#include "tests/harness/harness.h"

namespace gb::harness {
namespace {
using V = std::vector<Tensor>;

InputSpec gamma_spec(int64_t c) { return in_range({c}, 0.5, 1.5); }

// Running buffers are created inside the case function: the harness calls it many times, and the
// in-place update must not leak from one call into the next.
Tensor bn(const V& a, bool training, bool running) {
  const int64_t C = a[0].size(1);
  std::vector<double> m(C), v(C);
  for (int64_t c = 0; c < C; ++c) {
    m[c] = 0.1 * (double)c - 0.2;
    v[c] = 0.5 + 0.25 * (double)c;
  }
  Tensor rm = running ? Tensor::from_vector(m, {C}).to(a[0].dtype()) : Tensor();
  Tensor rv = running ? Tensor::from_vector(v, {C}).to(a[0].dtype()) : Tensor();
  Tensor g = a.size() > 1 ? a[1] : Tensor(), b = a.size() > 2 ? a[2] : Tensor();
  return batch_norm(a[0], g, b, rm, rv, training, 0.1, 1e-5);
}

GB_HARNESS_CASES({
    // ---- group_norm
    {"group_norm", "[2,6,7,5] groups 3 affine", {in({2, 6, 7, 5}), gamma_spec(6), in({6})},
     [](const V& a) { return group_norm(a[0], 3, a[1], a[2], 1e-6); }},
    {"group_norm", "[1,33,3] groups = C (33) affine", {in({1, 33, 3}), gamma_spec(33), in({33})},
     [](const V& a) { return group_norm(a[0], 33, a[1], a[2], 1e-5); }},
    {"group_norm", "[3,1,7] C=1 groups 1 affine", {in({3, 1, 7}), gamma_spec(1), in({1})},
     [](const V& a) { return group_norm(a[0], 1, a[1], a[2], 1e-5); }},
    {"group_norm", "[2,3,5,7] groups 1 no affine", {in({2, 3, 5, 7})},
     [](const V& a) { return group_norm(a[0], 1, Tensor(), Tensor(), 1e-5); }},
    {"group_norm", "[2,3,5,7] groups 3, gamma only", {in({2, 3, 5, 7}), gamma_spec(3)},
     [](const V& a) { return group_norm(a[0], 3, a[1], Tensor(), 1e-5); }},
    {"group_norm", "volume [1,4,3,5,7] groups 2 affine", {in({1, 4, 3, 5, 7}), gamma_spec(4), in({4})},
     [](const V& a) { return group_norm(a[0], 2, a[1], a[2], 1e-6); }},
    {"group_norm", "non-contiguous [2,4,5,7] groups 2", {in_nc({2, 4, 5, 7}), gamma_spec(4), in({4})},
     [](const V& a) { return group_norm(a[0], 2, a[1], a[2], 1e-6); }},
    {"group_norm", "[2,4] no spatial groups 2", {in({2, 4}), gamma_spec(4), in({4})},
     [](const V& a) { return group_norm(a[0], 2, a[1], a[2], 1e-5); }},
    // ---- batch_norm
    {"batch_norm", "train [2,3,5,7] affine", {in({2, 3, 5, 7}), gamma_spec(3), in({3})},
     [](const V& a) { return bn(a, true, true); }},
    {"batch_norm", "train [3,1,7] C=1", {in({3, 1, 7}), gamma_spec(1), in({1})},
     [](const V& a) { return bn(a, true, true); }},
    {"batch_norm", "train [7,33] no spatial, no running stats", {in({7, 33}), gamma_spec(33), in({33})},
     [](const V& a) { return bn(a, true, false); }},
    {"batch_norm", "train volume [2,4,3,5,7] no affine", {in({2, 4, 3, 5, 7})},
     [](const V& a) { return bn(a, true, true); }},
    {"batch_norm", "train non-contiguous [2,3,5,7]", {in_nc({2, 3, 5, 7}), gamma_spec(3), in({3})},
     [](const V& a) { return bn(a, true, true); }},
    {"batch_norm", "eval [2,3,5,7] affine", {in({2, 3, 5, 7}), gamma_spec(3), in({3})},
     [](const V& a) { return bn(a, false, true); }},
    {"batch_norm", "eval non-contiguous [1,33,3,5]", {in_nc({1, 33, 3, 5}), gamma_spec(33), in({33})},
     [](const V& a) { return bn(a, false, true); }},
    {"batch_norm", "eval volume [2,4,3,5,7] no affine", {in({2, 4, 3, 5, 7})},
     [](const V& a) { return bn(a, false, true); }},
    // ---- layer_norm
    {"layer_norm", "[2,7,33] affine", {in({2, 7, 33}), gamma_spec(33), in({33})},
     [](const V& a) { return layer_norm(a[0], a[1], a[2], 1e-6); }},
    {"layer_norm", "non-contiguous [2,7,33]", {in_nc({2, 7, 33}), gamma_spec(33), in({33})},
     [](const V& a) { return layer_norm(a[0], a[1], a[2], 1e-6); }},
    {"layer_norm", "[3,65] no affine", {in({3, 65})}, [](const V& a) { return layer_norm(a[0], Tensor(), Tensor(), 1e-5); }},
    {"layer_norm", "[1,3] affine, values around 5", {in_range({1, 3}, 4, 6), gamma_spec(3), in({3})},
     [](const V& a) { return layer_norm(a[0], a[1], a[2], 1e-6); }},
    // ---- two consumers of the same inputs: a backward that assigns instead of adding loses one
    {"group_norm", "two consumers (+= contract)", {in({2, 6, 3, 5}), gamma_spec(6), in({6})},
     [](const V& a) { return add(group_norm(a[0], 3, a[1], a[2], 1e-6), group_norm(a[0], 2, a[1], a[2], 1e-5)); }},
    {"batch_norm", "two consumers (+= contract)", {in({3, 4, 5}), gamma_spec(4), in({4})},
     [](const V& a) { return add(bn(a, true, true), bn(a, false, true)); }},
    {"layer_norm", "two consumers (+= contract)", {in({3, 7}), gamma_spec(7), in({7})},
     [](const V& a) { return add(layer_norm(a[0], a[1], a[2], 1e-6), layer_norm(a[0], a[1], a[2], 1e-3)); }},
    {"layer_norm", "ViT-like [2,5,768]", {in({2, 5, 768}), gamma_spec(768), in({768})},
     [](const V& a) { return layer_norm(a[0], a[1], a[2], 1e-6); }},
});

}  // namespace
}  // namespace gb::harness

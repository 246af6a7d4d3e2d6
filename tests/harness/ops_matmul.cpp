// Harness cases: matmul, linear (autograd/matmul.cpp) and scaled_dot_product_attention
// (autograd/attention.cpp). Sizes straddle nothing in particular (1, 3, 7, 33, 65) to hit the GEMM
// edge tiles; non-contiguous cases cover transposed views (GEMM transpose flags), batch-permuted views
// (leading dimension > width) and strided views that must be copied.
#include "tests/harness/harness.h"

namespace gb::harness {
namespace {
using V = std::vector<Tensor>;

Tensor sdpa_with_probs(const V& a, double scale) {
  Tensor p;
  Tensor o = scaled_dot_product_attention(a[0], a[1], a[2], scale, &p);
  return concat({o, p}, 3);  // [B, H, T, Dh + T]: the probabilities feed the checked output
}

GB_HARNESS_CASES({
    {"matmul", "1x1x1", {in({1, 1}), in({1, 1})}, [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "3x7 @ 7x5", {in({3, 7}), in({7, 5})}, [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "33x65 @ 65x17", {in({33, 65}), in({65, 17})}, [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "transposed a (nc)", {in_nc({33, 65}), in({65, 17})}, [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "transposed b (nc)", {in({3, 7}), in_nc({7, 5})}, [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "both transposed (nc)", {in_nc({7, 33}), in_nc({33, 3})}, [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "batched [2,3,7,5] @ [2,3,5,4]", {in({2, 3, 7, 5}), in({2, 3, 5, 4})},
     [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "broadcast [3,1,7,5] @ [2,5,4]", {in({3, 1, 7, 5}), in({2, 5, 4})},
     [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "batched @ matrix [2,7,33] @ [33,3]", {in({2, 7, 33}), in({33, 3})},
     [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "matrix @ batched [7,5] @ [3,5,4]", {in({7, 5}), in({3, 5, 4})},
     [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "batched transposed (nc) [2,3,7,5] @ [2,3,5,4]nc", {in_nc({2, 3, 7, 5}), in_nc({2, 3, 5, 4})},
     [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "batched transposed a @ matrix [2,7,33]nc @ [33,3]", {in_nc({2, 7, 33}), in({33, 3})},
     [](const V& a) { return matmul(a[0], a[1]); }},
    {"matmul", "batch-permuted view (ld > width)", {in({7, 3, 5}), in({3, 5, 4})},
     [](const V& a) { return matmul(permute(a[0], {1, 0, 2}), a[1]); }},
    {"matmul", "strided view is copied", {in({3, 14}), in({7, 5})},
     [](const V& a) { return matmul(slice(a[0], 1, 0, 14, 2), a[1]); }},
    {"matmul", "expanded batch of b", {in({2, 7, 5}), in({1, 5, 4})},
     [](const V& a) { return matmul(a[0], expand(a[1], {2, 5, 4})); }},
    {"matmul", "broadcast both transposed (nc) [3,1,7,5] @ [2,5,4]", {in_nc({3, 1, 7, 5}), in_nc({2, 5, 4})},
     [](const V& a) { return matmul(a[0], a[1]); }},
    {"linear", "[2,7,33] -> 17 with bias", {in({2, 7, 33}), in({17, 33}), in({17})},
     [](const V& a) { return linear(a[0], a[1], a[2]); }},
    {"linear", "[2,7,33] -> 5 no bias", {in({2, 7, 33}), in({5, 33})},
     [](const V& a) { return linear(a[0], a[1], Tensor()); }},
    {"linear", "2-D transposed x and w (nc)", {in_nc({7, 33}), in_nc({5, 33}), in({5})},
     [](const V& a) { return linear(a[0], a[1], a[2]); }},
    {"linear", "[1] -> 1", {in({1}), in({1, 1}), in({1})}, [](const V& a) { return linear(a[0], a[1], a[2]); }},
    {"scaled_dot_product_attention", "B1 H1 T7 Dh5 + probs", {in({1, 1, 7, 5}), in({1, 1, 7, 5}), in({1, 1, 7, 5})},
     [](const V& a) { return sdpa_with_probs(a, 0.4472135955); }},
    {"scaled_dot_product_attention", "B2 H3 T7 Dh5 + probs", {in({2, 3, 7, 5}), in({2, 3, 7, 5}), in({2, 3, 7, 5})},
     [](const V& a) { return sdpa_with_probs(a, 0.4472135955); }},
    {"scaled_dot_product_attention", "B2 H2 T7 Dh5 out only", {in({2, 2, 7, 5}), in({2, 2, 7, 5}), in({2, 2, 7, 5})},
     [](const V& a) { return scaled_dot_product_attention(a[0], a[1], a[2], 1.0); }},
    {"scaled_dot_product_attention", "B1 H3 T7 Dh5 transposed q (nc)",
     {in_nc({1, 3, 7, 5}), in({1, 3, 7, 5}), in({1, 3, 7, 5})},
     [](const V& a) { return sdpa_with_probs(a, 0.5); }},
});

}  // namespace
}  // namespace gb::harness

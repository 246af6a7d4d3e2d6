// Harness cases: softmax / log_softmax (autograd/softmax.cpp) and the losses (autograd/loss.cpp).
// Softmax over dims 0, 1 and -1; cross-entropy with class weights and ignore_index; soft Dice with
// and without weights; one_hot (forward only).
#include "tests/harness/harness.h"

namespace gb::harness {
namespace {
using V = std::vector<Tensor>;

InputSpec weights(int64_t c) {
  InputSpec s = in_range({c}, 0.5, 2.0);
  s.grad = false;  // class weights are constants
  return s;
}
InputSpec labels_ignoring(Shape s, int64_t classes, int32_t ignore) {
  InputSpec i = in_labels(std::move(s), classes);
  i.ignore_value = ignore;
  return i;
}
OpCase no_grad(OpCase c) {
  c.check_grad = false;
  return c;
}

GB_HARNESS_CASES({
    // ---- softmax / log_softmax
    {"softmax", "dim 0 of [3,7,5]", {in_range({3, 7, 5}, -3, 3)}, [](const V& a) { return softmax(a[0], 0); }},
    {"softmax", "dim 1 of [3,7,5]", {in_range({3, 7, 5}, -3, 3)}, [](const V& a) { return softmax(a[0], 1); }},
    {"softmax", "dim -1 of [2,33]", {in_range({2, 33}, -3, 3)}, [](const V& a) { return softmax(a[0], -1); }},
    {"softmax", "dim -1 non-contiguous [4,7]", {in_nc({4, 7})}, [](const V& a) { return softmax(a[0], -1); }},
    // Rows as long as the ViT's attention rows (196 tokens; 197 = 12 full vector blocks + a tail), with
    // a wide logit range: the vectorised f32 path (softmax_fast.h) against the reference.
    {"softmax", "dim -1 of [6,197] wide range", {in_range({6, 197}, -30, 30)},
     [](const V& a) { return softmax(a[0], -1); }},
    {"softmax", "dim 1 size 1 [3,1,5]", {in({3, 1, 5})}, [](const V& a) { return softmax(a[0], 1); }},
    {"log_softmax", "dim 0 of [3,7,5]", {in_range({3, 7, 5}, -3, 3)}, [](const V& a) { return log_softmax(a[0], 0); }},
    {"log_softmax", "dim 1 of [2,3,5,7]", {in_range({2, 3, 5, 7}, -3, 3)}, [](const V& a) { return log_softmax(a[0], 1); }},
    {"log_softmax", "dim -1 non-contiguous [5,33]", {in_nc({5, 33})}, [](const V& a) { return log_softmax(a[0], -1); }},
    {"log_softmax", "dim -1 of [4,50] wide range", {in_range({4, 50}, -30, 30)},
     [](const V& a) { return log_softmax(a[0], -1); }},
    // ---- cross_entropy
    {"cross_entropy", "[4,3] logits, [4] targets", {in_range({4, 3}, -3, 3), in_labels({4}, 3)},
     [](const V& a) { return cross_entropy(a[0], a[1]); }},
    {"cross_entropy", "[2,3,5,7]", {in_range({2, 3, 5, 7}, -3, 3), in_labels({2, 5, 7}, 3)},
     [](const V& a) { return cross_entropy(a[0], a[1]); }},
    {"cross_entropy", "[2,3,5,7] class weights", {in_range({2, 3, 5, 7}, -3, 3), in_labels({2, 5, 7}, 3), weights(3)},
     [](const V& a) { return cross_entropy(a[0], a[1], a[2]); }},
    {"cross_entropy", "[2,3,5,7] ignore_index -100", {in_range({2, 3, 5, 7}, -3, 3), labels_ignoring({2, 5, 7}, 3, -100)},
     [](const V& a) { return cross_entropy(a[0], a[1]); }},
    {"cross_entropy", "[2,3,5,7] weights + ignore_index 255",
     {in_range({2, 3, 5, 7}, -3, 3), labels_ignoring({2, 5, 7}, 3, 255), weights(3)},
     [](const V& a) { return cross_entropy(a[0], a[1], a[2], 255); }},
    {"cross_entropy", "33 classes [2,33,3]", {in_range({2, 33, 3}, -3, 3), in_labels({2, 3}, 33)},
     [](const V& a) { return cross_entropy(a[0], a[1]); }},
    {"cross_entropy", "C=1 [3,1,5]", {in({3, 1, 5}), in_labels({3, 5}, 1)},
     [](const V& a) { return cross_entropy(a[0], a[1]); }},
    {"cross_entropy", "volume [1,4,3,5,7]", {in_range({1, 4, 3, 5, 7}, -3, 3), in_labels({1, 3, 5, 7}, 4)},
     [](const V& a) { return cross_entropy(a[0], a[1]); }},
    {"cross_entropy", "non-contiguous [2,3,5,7]", {in_nc({2, 3, 5, 7}), in_labels({2, 5, 7}, 3)},
     [](const V& a) { return cross_entropy(a[0], a[1]); }},
    // ---- soft_dice_loss
    {"soft_dice_loss", "[2,3,5,7]", {in_range({2, 3, 5, 7}, -3, 3), in_labels({2, 5, 7}, 3)},
     [](const V& a) { return soft_dice_loss(a[0], a[1]); }},
    {"soft_dice_loss", "[2,3,5,7] class weights", {in_range({2, 3, 5, 7}, -3, 3), in_labels({2, 5, 7}, 3), weights(3)},
     [](const V& a) { return soft_dice_loss(a[0], a[1], a[2]); }},
    {"soft_dice_loss", "[1,2,7] smooth 1", {in_range({1, 2, 7}, -3, 3), in_labels({1, 7}, 2)},
     [](const V& a) { return soft_dice_loss(a[0], a[1], Tensor(), 1.0); }},
    {"soft_dice_loss", "non-contiguous [2,4,3,5]", {in_nc({2, 4, 3, 5}), in_labels({2, 3, 5}, 4)},
     [](const V& a) { return soft_dice_loss(a[0], a[1]); }},
    {"soft_dice_loss", "volume [2,3,3,4,5]", {in_range({2, 3, 3, 4, 5}, -3, 3), in_labels({2, 3, 4, 5}, 3)},
     [](const V& a) { return soft_dice_loss(a[0], a[1]); }},
    // ---- two consumers of the same logits: a backward that assigns instead of adding loses one
    {"softmax", "two consumers (+= contract)", {in({3, 7})},
     [](const V& a) { return add(softmax(a[0], 0), log_softmax(a[0], 0)); }},
    {"cross_entropy", "two consumers (+= contract)", {in_range({2, 3, 5}, -3, 3), in_labels({2, 5}, 3), weights(3)},
     [](const V& a) { return add(cross_entropy(a[0], a[1]), cross_entropy(a[0], a[1], a[2])); }},
    {"soft_dice_loss", "two consumers (+= contract)", {in_range({2, 3, 5}, -3, 3), in_labels({2, 5}, 3)},
     [](const V& a) { return add(soft_dice_loss(a[0], a[1]), cross_entropy(a[0], a[1])); }},
    // ---- more positions than one partial-sum chunk (cuda kernels: 256 per chunk; last chunk partial)
    {"cross_entropy", "multi-chunk [2,3,17,19] weights + ignore_index -100",
     {in_range({2, 3, 17, 19}, -3, 3), labels_ignoring({2, 17, 19}, 3, -100), weights(3)},
     [](const V& a) { return cross_entropy(a[0], a[1], a[2]); }},
    {"soft_dice_loss", "multi-chunk S [2,3,17,19] class weights",
     {in_range({2, 3, 17, 19}, -3, 3), in_labels({2, 17, 19}, 3), weights(3)},
     [](const V& a) { return soft_dice_loss(a[0], a[1], a[2]); }},
    // ---- one_hot (not differentiable)
    no_grad({"one_hot", "[2,5,7] 3 classes", {in_labels({2, 5, 7}, 3)}, [](const V& a) { return one_hot(a[0], 3); }}),
    no_grad({"one_hot", "[3] 33 classes f64", {in_labels({3}, 33)}, [](const V& a) { return one_hot(a[0], 33, DType::F64); }}),
});

}  // namespace
}  // namespace gb::harness

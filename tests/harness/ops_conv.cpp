// Harness cases: conv2d, conv3d, weight_standardize (autograd/conv.cpp). Shapes cover the layers of
// TransUNet at toy sizes (1x1, 3x3 pad 1, the 7x7/2 pad 3 root, strided 1x1 projections), dilation,
// groups, no bias, odd and 33-wide inputs, and non-contiguous inputs and weights.
// The "direct" cases are shapes the direct kernels take (tensor/cpu/conv_direct.h: 2-D, one group,
// few channels): widths that are not a multiple of the vector (16 floats on AVX-512, 8 on AVX2),
// several output rows per task and several images, channel counts that split into uneven blocks,
// pad 0 / 1 / 2, a W-strided conv (column phases), dilation and a 3x2 kernel. Each output row is at
// least 16 wide, so the shape rule (conv_direct.cpp conv_use_direct) sends every pass the direct
// kernels support to them (test_conv_values ShapeRuleAndHarnessCasesTakeDirectPath checks that).
// Every case also runs on cpu-im2col.
#include "tests/harness/harness.h"

namespace gb::harness {
namespace {
using V = std::vector<Tensor>;

Conv2dOpts c2(std::array<int64_t, 2> stride, std::array<int64_t, 2> pad, std::array<int64_t, 2> dil = {1, 1},
              int64_t groups = 1) {
  Conv2dOpts o;
  o.stride = stride;
  o.padding = pad;
  o.dilation = dil;
  o.groups = groups;
  return o;
}
Conv3dOpts c3(std::array<int64_t, 3> stride, std::array<int64_t, 3> pad, std::array<int64_t, 3> dil = {1, 1, 1},
              int64_t groups = 1) {
  Conv3dOpts o;
  o.stride = stride;
  o.padding = pad;
  o.dilation = dil;
  o.groups = groups;
  return o;
}

GB_HARNESS_CASES({
    {"conv2d", "1x1 N=2 [2,4,5,5] -> 3, bias", {in({2, 4, 5, 5}), in({3, 4, 1, 1}), in({3})},
     [](const V& a) { return conv2d(a[0], a[1], a[2]); }},
    {"conv2d", "3x3 pad 1 N=1 [1,3,7,7] -> 4, bias", {in({1, 3, 7, 7}), in({4, 3, 3, 3}), in({4})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {1, 1})); }},
    {"conv2d", "7x7 stride 2 pad 3 (ResNet root) [1,3,9,9] -> 4, no bias", {in({1, 3, 9, 9}), in({4, 3, 7, 7})},
     [](const V& a) { return conv2d(a[0], a[1], Tensor(), c2({2, 2}, {3, 3})); }},
    {"conv2d", "3x3 stride 2 pad 1 N=2 [2,2,7,7] -> 3", {in({2, 2, 7, 7}), in({3, 2, 3, 3}), in({3})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({2, 2}, {1, 1})); }},
    {"conv2d", "1x1 stride 2 projection [2,4,7,7] -> 3, no bias", {in({2, 4, 7, 7}), in({3, 4, 1, 1})},
     [](const V& a) { return conv2d(a[0], a[1], Tensor(), c2({2, 2}, {0, 0})); }},
    {"conv2d", "3x3 dilation 2 pad 2 [1,2,7,7] -> 3", {in({1, 2, 7, 7}), in({3, 2, 3, 3}), in({3})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {2, 2}, {2, 2})); }},
    {"conv2d", "groups 2 3x3 pad 1 N=2 [2,4,5,5] -> 6", {in({2, 4, 5, 5}), in({6, 2, 3, 3}), in({6})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {1, 1}, {1, 1}, 2)); }},
    {"conv2d", "depthwise groups 3 3x3 [1,3,5,7] -> 3, no bias", {in({1, 3, 5, 7}), in({3, 1, 3, 3})},
     [](const V& a) { return conv2d(a[0], a[1], Tensor(), c2({1, 1}, {1, 1}, {1, 1}, 3)); }},
    {"conv2d", "3x3 pad 1 33 wide [1,2,3,33] -> 3", {in({1, 2, 3, 33}), in({3, 2, 3, 3}), in({3})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {1, 1})); }},
    // Winograd F(2x2, 3x3) edges (column cpu-winograd): odd output sizes (partial 2x2 tiles), no
    // padding, and padding 2 (the input gradient then runs with padding 0)
    {"conv2d", "3x3 no pad N=2 odd sizes [2,3,8,9] -> 2", {in({2, 3, 8, 9}), in({2, 3, 3, 3}), in({2})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {0, 0})); }},
    {"conv2d", "3x3 pad 2 [1,2,6,5] -> 3, no bias", {in({1, 2, 6, 5}), in({3, 2, 3, 3})},
     [](const V& a) { return conv2d(a[0], a[1], Tensor(), c2({1, 1}, {2, 2})); }},
    {"conv2d", "3x2 kernel stride (2,1) pad (0,1) [1,2,7,6] -> 2", {in({1, 2, 7, 6}), in({2, 2, 3, 2}), in({2})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({2, 1}, {0, 1})); }},
    {"conv2d", "kernel = input 3x3 no pad [2,1,3,3] -> 1", {in({2, 1, 3, 3}), in({1, 1, 3, 3}), in({1})},
     [](const V& a) { return conv2d(a[0], a[1], a[2]); }},
    {"conv2d", "non-contiguous input 3x3 pad 1 [1,2,7,6]", {in_nc({1, 2, 7, 6}), in({3, 2, 3, 3}), in({3})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {1, 1})); }},
    {"conv2d", "non-contiguous weight 3x3 stride 2 [1,2,7,7]", {in({1, 2, 7, 7}), in_nc({3, 2, 3, 3})},
     [](const V& a) { return conv2d(a[0], a[1], Tensor(), c2({2, 2}, {1, 1})); }},
    {"conv2d", "input without grad (frozen input) [1,2,5,5]", {in_const({1, 2, 5, 5}), in({2, 2, 3, 3}), in({2})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {1, 1})); }},
    {"conv2d", "weight without grad [1,2,5,5]", {in({1, 2, 5, 5}), in_const({2, 2, 3, 3})},
     [](const V& a) { return conv2d(a[0], a[1], Tensor(), c2({1, 1}, {1, 1})); }},
    {"conv2d", "only bias takes a gradient [2,2,5,5]", {in_const({2, 2, 5, 5}), in_const({2, 2, 3, 3}), in({2})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({2, 2}, {1, 1})); }},

    {"conv2d", "direct 3x3 pad 1 N=2 [2,8,13,37] -> 3, bias", {in({2, 8, 13, 37}), in({3, 8, 3, 3}), in({3})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {1, 1})); }},
    {"conv2d", "direct 3x3 pad 1 [1,16,9,20] -> 8", {in({1, 16, 9, 20}), in({8, 16, 3, 3})},
     [](const V& a) { return conv2d(a[0], a[1], Tensor(), c2({1, 1}, {1, 1})); }},
    {"conv2d", "direct 3x3 pad 0 N=3 [3,5,6,19] -> 10, bias", {in({3, 5, 6, 19}), in({10, 5, 3, 3}), in({10})},
     [](const V& a) { return conv2d(a[0], a[1], a[2]); }},
    {"conv2d", "direct 3x3 pad 1 [1,3,4,41] -> 17 (uneven blocks)", {in({1, 3, 4, 41}), in({17, 3, 3, 3}), in({17})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {1, 1})); }},
    {"conv2d", "direct 3x3 pad 2 [1,4,5,17] -> 2 (gx pad 0)", {in({1, 4, 5, 17}), in({2, 4, 3, 3})},
     [](const V& a) { return conv2d(a[0], a[1], Tensor(), c2({1, 1}, {2, 2})); }},
    {"conv2d", "direct 7x7 stride 2 pad 3 N=2 [2,3,11,37] -> 5", {in({2, 3, 11, 37}), in({5, 3, 7, 7})},
     [](const V& a) { return conv2d(a[0], a[1], Tensor(), c2({2, 2}, {3, 3})); }},
    {"conv2d", "direct 3x3 dilation 2 pad 2 [1,3,7,18] -> 4", {in({1, 3, 7, 18}), in({4, 3, 3, 3}), in({4})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {2, 2}, {2, 2})); }},
    {"conv2d", "direct 1x1 N=2 [2,6,3,23] -> 4, bias", {in({2, 6, 3, 23}), in({4, 6, 1, 1}), in({4})},
     [](const V& a) { return conv2d(a[0], a[1], a[2]); }},
    {"conv2d", "direct 3x2 kernel pad (1,0) [1,2,5,20] -> 3", {in({1, 2, 5, 20}), in({3, 2, 3, 2}), in({3})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({1, 1}, {1, 0})); }},
    {"conv2d", "3x3 stride 2 dilation 2 pad 2 groups 2 N=2 [2,4,9,9] -> 4", {in({2, 4, 9, 9}), in({4, 2, 3, 3}), in({4})},
     [](const V& a) { return conv2d(a[0], a[1], a[2], c2({2, 2}, {2, 2}, {2, 2}, 2)); }},

    {"conv3d", "3x3x3 pad 1 [1,2,4,5,5] -> 3, bias", {in({1, 2, 4, 5, 5}), in({3, 2, 3, 3, 3}), in({3})},
     [](const V& a) { return conv3d(a[0], a[1], a[2], c3({1, 1, 1}, {1, 1, 1})); }},
    {"conv3d", "3x3x3 stride 2 pad 1 [1,2,5,5,5] -> 2, no bias", {in({1, 2, 5, 5, 5}), in({2, 2, 3, 3, 3})},
     [](const V& a) { return conv3d(a[0], a[1], Tensor(), c3({2, 2, 2}, {1, 1, 1})); }},
    {"conv3d", "1x1x1 N=2 [2,3,3,3,3] -> 2", {in({2, 3, 3, 3, 3}), in({2, 3, 1, 1, 1}), in({2})},
     [](const V& a) { return conv3d(a[0], a[1], a[2]); }},
    {"conv3d", "groups 2 dilation 2 pad 2 [1,4,5,5,5] -> 4", {in({1, 4, 5, 5, 5}), in({4, 2, 3, 3, 3}), in({4})},
     [](const V& a) { return conv3d(a[0], a[1], a[2], c3({1, 1, 1}, {2, 2, 2}, {2, 2, 2}, 2)); }},
    {"conv3d", "2x3x1 kernel stride (1,2,1) [1,1,3,7,4] -> 2", {in({1, 1, 3, 7, 4}), in({2, 1, 2, 3, 1}), in({2})},
     [](const V& a) { return conv3d(a[0], a[1], a[2], c3({1, 2, 1}, {0, 1, 0})); }},
    {"conv3d", "non-contiguous input [1,2,3,4,5]", {in_nc({1, 2, 3, 4, 5}), in({2, 2, 3, 3, 3})},
     [](const V& a) { return conv3d(a[0], a[1], Tensor(), c3({1, 1, 1}, {1, 1, 1})); }},
    {"conv3d", "depthwise 3x3x2 stride (2,1,3) dil (1,2,1) pad (1,2,0) [1,3,5,6,8] -> 3, no bias",
     {in({1, 3, 5, 6, 8}), in({3, 1, 3, 3, 2})},
     [](const V& a) { return conv3d(a[0], a[1], Tensor(), c3({2, 1, 3}, {1, 2, 0}, {1, 2, 1}, 3)); }},
    {"conv3d", "weight without grad stride 2 [1,2,4,5,5] -> 2", {in({1, 2, 4, 5, 5}), in_const({2, 2, 3, 3, 3}), in({2})},
     [](const V& a) { return conv3d(a[0], a[1], a[2], c3({2, 2, 2}, {1, 1, 1})); }},

    {"weight_standardize", "[8,3,3,3]", {in({8, 3, 3, 3})}, [](const V& a) { return weight_standardize(a[0]); }},
    // K = 148: many full 8-lane blocks and a 4-element tail (the optimised kernel's lanes)
    {"weight_standardize", "rows of 148 [5,4,37]", {in({5, 4, 37})}, [](const V& a) { return weight_standardize(a[0]); }},
    {"weight_standardize", "eps 1e-6 [4,7,1,1]", {in({4, 7, 1, 1})},
     [](const V& a) { return weight_standardize(a[0], 1e-6); }},
    {"weight_standardize", "non-contiguous [3,2,3,5]", {in_nc({3, 2, 3, 5})},
     [](const V& a) { return weight_standardize(a[0]); }},
    {"weight_standardize", "StdConv2d: conv2d(x, ws(w)) 3x3 pad 1", {in({1, 2, 5, 5}), in({3, 2, 3, 3})},
     [](const V& a) { return conv2d(a[0], weight_standardize(a[1]), Tensor(), c2({1, 1}, {1, 1})); }},
});

}  // namespace
}  // namespace gb::harness

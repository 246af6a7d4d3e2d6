// Harness cases: max_pool2d/3d (autograd/pool.cpp) and upsample_bilinear2d/trilinear3d
// (autograd/upsample.cpp). Pools use distinct inputs (no ties: the gradient of a max is only defined
// away from them); upsampling covers x2 in both corner modes and non-integer ratios up and down.
#include "tests/harness/harness.h"

namespace gb::harness {
namespace {
using V = std::vector<Tensor>;

InputSpec distinct_nc(Shape s) {
  InputSpec i = in_distinct(std::move(s));
  i.noncontig = true;
  return i;
}

GB_HARNESS_CASES({
    {"max_pool2d", "3x3/2 pad 0 on 11x11 (root pool, 224->55 style)", {in_distinct({1, 2, 11, 11})},
     [](const V& a) { return max_pool2d(a[0], {3, 3}, {2, 2}); }},
    {"max_pool2d", "3x3/2 pad 1 N=2 [2,3,7,7]", {in_distinct({2, 3, 7, 7})},
     [](const V& a) { return max_pool2d(a[0], {3, 3}, {2, 2}, {1, 1}); }},
    {"max_pool2d", "2x2/2 odd width 33 [1,3,6,33]", {in_distinct({1, 3, 6, 33})},
     [](const V& a) { return max_pool2d(a[0], {2, 2}, {2, 2}); }},
    {"max_pool2d", "3x2 stride (1,2) pad (1,1) [1,1,5,7]", {in_distinct({1, 1, 5, 7})},
     [](const V& a) { return max_pool2d(a[0], {3, 2}, {1, 2}, {1, 1}); }},
    {"max_pool2d", "non-contiguous 3x3/1 pad 1 [1,2,5,6]", {distinct_nc({1, 2, 5, 6})},
     [](const V& a) { return max_pool2d(a[0], {3, 3}, {1, 1}, {1, 1}); }},
    {"max_pool2d", "all negative: padding never wins [1,1,4,4]", {in_range({1, 1, 4, 4}, -3, -1)},
     [](const V& a) { return max_pool2d(a[0], {2, 2}, {1, 1}, {1, 1}); }},
    {"max_pool3d", "2x2x2/2 [1,2,4,5,5]", {in_distinct({1, 2, 4, 5, 5})},
     [](const V& a) { return max_pool3d(a[0], {2, 2, 2}, {2, 2, 2}); }},
    {"max_pool3d", "3x3x3/2 pad 1 N=2 [2,1,5,5,5]", {in_distinct({2, 1, 5, 5, 5})},
     [](const V& a) { return max_pool3d(a[0], {3, 3, 3}, {2, 2, 2}, {1, 1, 1}); }},
    {"max_pool3d", "non-contiguous 1x3x3/1 pad (0,1,1) [1,2,3,4,5]", {distinct_nc({1, 2, 3, 4, 5})},
     [](const V& a) { return max_pool3d(a[0], {1, 3, 3}, {1, 1, 1}, {0, 1, 1}); }},
    {"max_pool2d", "2x2 stride 3 (gaps between windows) [1,2,8,9]", {in_distinct({1, 2, 8, 9})},
     [](const V& a) { return max_pool2d(a[0], {2, 2}, {3, 3}); }},
    {"max_pool3d", "2x3x3 stride (1,2,1) pad (1,1,0) [1,2,4,6,5]", {in_distinct({1, 2, 4, 6, 5})},
     [](const V& a) { return max_pool3d(a[0], {2, 3, 3}, {1, 2, 1}, {1, 1, 0}); }},

    {"upsample_bilinear2d", "x2 align_corners [1,2,3,4] -> 6x8", {in({1, 2, 3, 4})},
     [](const V& a) { return upsample_bilinear2d(a[0], 6, 8, true); }},
    {"upsample_bilinear2d", "x2 half-pixel [1,2,3,4] -> 6x8", {in({1, 2, 3, 4})},
     [](const V& a) { return upsample_bilinear2d(a[0], 6, 8, false); }},
    {"upsample_bilinear2d", "5->7 align_corners N=2 [2,1,5,5]", {in({2, 1, 5, 5})},
     [](const V& a) { return upsample_bilinear2d(a[0], 7, 7, true); }},
    {"upsample_bilinear2d", "5->7 half-pixel N=2 [2,1,5,5]", {in({2, 1, 5, 5})},
     [](const V& a) { return upsample_bilinear2d(a[0], 7, 7, false); }},
    {"upsample_bilinear2d", "7->3 down align_corners [1,2,7,7]", {in({1, 2, 7, 7})},
     [](const V& a) { return upsample_bilinear2d(a[0], 3, 3, true); }},
    {"upsample_bilinear2d", "7->3 down half-pixel [1,2,7,7]", {in({1, 2, 7, 7})},
     [](const V& a) { return upsample_bilinear2d(a[0], 3, 3, false); }},
    {"upsample_bilinear2d", "1x1 -> 3x33 [1,1,1,1]", {in({1, 1, 1, 1})},
     [](const V& a) { return upsample_bilinear2d(a[0], 3, 33, false); }},
    {"upsample_bilinear2d", "to 1x1 align_corners [1,1,4,3]", {in({1, 1, 4, 3})},
     [](const V& a) { return upsample_bilinear2d(a[0], 1, 1, true); }},
    {"upsample_bilinear2d", "non-contiguous 3x5 -> 7x4 half-pixel", {in_nc({2, 1, 5, 3})},
     [](const V& a) { return upsample_bilinear2d(a[0], 7, 4, false); }},
    {"upsample_trilinear3d", "x2 align_corners [1,1,2,3,3] -> 4,6,6", {in({1, 1, 2, 3, 3})},
     [](const V& a) { return upsample_trilinear3d(a[0], 4, 6, 6, true); }},
    {"upsample_trilinear3d", "mixed ratios half-pixel [1,2,3,2,4] -> 5,3,7", {in({1, 2, 3, 2, 4})},
     [](const V& a) { return upsample_trilinear3d(a[0], 5, 3, 7, false); }},
    {"upsample_trilinear3d", "non-contiguous [1,1,3,4,3] -> 2,5,5 align_corners", {in_nc({1, 1, 3, 3, 4})},
     [](const V& a) { return upsample_trilinear3d(a[0], 2, 5, 5, true); }},
    {"upsample_trilinear3d", "down non-integer half-pixel [1,2,5,6,7] -> 3,4,2", {in({1, 2, 5, 6, 7})},
     [](const V& a) { return upsample_trilinear3d(a[0], 3, 4, 2, false); }},
    {"upsample_trilinear3d", "up non-integer align_corners [2,1,3,4,2] -> 7,5,5", {in({2, 1, 3, 4, 2})},
     [](const V& a) { return upsample_trilinear3d(a[0], 7, 5, 5, true); }},
});

}  // namespace
}  // namespace gb::harness

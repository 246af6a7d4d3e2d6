// Harness cases: reductions (autograd/reduce.cpp) and shape ops (autograd/views.cpp).
#include "tests/harness/harness.h"

namespace gb::harness {
namespace {
using V = std::vector<Tensor>;

GB_HARNESS_CASES({
    {"sum", "all of [3,7]", {in({3, 7})}, [](const V& a) { return sum(a[0]); }},
    {"sum", "dims {0,2} of [2,3,5]", {in({2, 3, 5})}, [](const V& a) { return sum(a[0], {0, 2}); }},
    {"sum", "dim -1 keepdim, non-contiguous", {in_nc({4, 7})}, [](const V& a) { return sum(a[0], {-1}, true); }},
    {"mean", "dims {1} of [3,33]", {in({3, 33})}, [](const V& a) { return mean(a[0], {1}); }},
    {"max", "dim 1 of [3,7,5] distinct", {in_distinct({3, 7, 5})}, [](const V& a) { return max(a[0], 1); }},
    {"max", "dim -1 keepdim [1,65]", {in_distinct({1, 65})}, [](const V& a) { return max(a[0], -1, true); }},
    {"argmax", "dim 1 of [3,7,5] (i32, no gradient)", {in_const({3, 7, 5})}, [](const V& a) { return argmax(a[0], 1); },
     1e-5, 1e-7, 1e-6, 2e-4, 1e-5, false},
    {"argmax", "dim -1 keepdim, non-contiguous", {[] { InputSpec i = in_nc({4, 7}); i.grad = false; return i; }()},
     [](const V& a) { return argmax(a[0], -1, true); }, 1e-5, 1e-7, 1e-6, 2e-4, 1e-5, false},
    {"reshape", "[3,7,2] -> [7,-1]", {in({3, 7, 2})}, [](const V& a) { return mul(reshape(a[0], {7, -1}), reshape(a[0], {7, 6})); }},
    {"reshape", "of a non-contiguous view (copies)", {in_nc({3, 4})}, [](const V& a) { return reshape(a[0], {12}); }},
    {"permute", "[2,3,5] -> (2,0,1)", {in({2, 3, 5})}, [](const V& a) { return contiguous(permute(a[0], {2, 0, 1})); }},
    {"transpose", "[4,7] then matmul-free use", {in({4, 7})}, [](const V& a) { return mul(transpose(a[0], 0, 1), transpose(a[0], 0, 1)); }},
    {"slice", "dim 1 [1:6:2] of [3,7]", {in({3, 7})}, [](const V& a) { return slice(a[0], 1, 1, 6, 2); }},
    {"slice", "overlapping slices summed", {in({33})}, [](const V& a) { return add(slice(a[0], 0, 0, 20), slice(a[0], 0, 13, 33)); }},
    {"expand", "[3,1] -> [2,3,5]", {in({3, 1})}, [](const V& a) { return expand(a[0], {2, 3, 5}); }},
    {"contiguous", "of transpose", {in_nc({5, 3})}, [](const V& a) { return contiguous(a[0]); }},
    {"concat", "dim 1: [2,3,4] [2,1,4] [2,5,4]", {in({2, 3, 4}), in({2, 1, 4}), in({2, 5, 4})}, [](const V& a) { return concat({a[0], a[1], a[2]}, 1); }},
    {"concat", "dim 0 with non-contiguous", {in_nc({3, 7}), in({1, 7})}, [](const V& a) { return concat({a[0], a[1]}, 0); }},
    {"pad", "[1,2,5,5] by (1,2,0,1) value 0.5", {in({1, 2, 5, 5})}, [](const V& a) { return pad(a[0], {1, 2, 0, 1}, 0.5); }},
    {"pad", "negative (crop) [3,7] by (-1,2)", {in({3, 7})}, [](const V& a) { return pad(a[0], {-1, 2}); }},
});

}  // namespace
}  // namespace gb::harness

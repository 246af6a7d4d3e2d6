// Harness cases: elementwise ops (autograd/elementwise.cpp). Shapes cover broadcasting both ways,
// size-1 and odd sizes, and non-contiguous views.
#include "tests/harness/harness.h"

namespace gb::harness {
namespace {
using V = std::vector<Tensor>;

GB_HARNESS_CASES({
    {"add", "same shape 3x7", {in({3, 7}), in({3, 7})}, [](const V& a) { return add(a[0], a[1]); }},
    {"add", "broadcast [2,1,33] + [5,1]", {in({2, 1, 33}), in({5, 1})}, [](const V& a) { return add(a[0], a[1]); }},
    {"add", "non-contiguous", {in_nc({4, 7}), in({7})}, [](const V& a) { return add(a[0], a[1]); }},
    {"sub", "broadcast [3,7] - [1,7]", {in({3, 7}), in({1, 7})}, [](const V& a) { return sub(a[0], a[1]); }},
    {"mul", "broadcast [1,3,1] * [7,1,5]", {in({1, 3, 1}), in({7, 1, 5})}, [](const V& a) { return mul(a[0], a[1]); }},
    {"mul", "same input twice", {in({33})}, [](const V& a) { return mul(a[0], a[0]); }},
    {"div", "broadcast [3,7] / [7]", {in({3, 7}), in_range({7}, 0.5, 2)}, [](const V& a) { return div(a[0], a[1]); }},
    {"add_scalar", "[7,3]", {in({7, 3})}, [](const V& a) { return add_scalar(a[0], 2.5); }},
    {"mul_scalar", "[1]", {in({1})}, [](const V& a) { return mul_scalar(a[0], -3.0); }},
    {"neg", "[65]", {in({65})}, [](const V& a) { return neg(a[0]); }},
    {"exp", "[3,7]", {in({3, 7})}, [](const V& a) { return exp(a[0]); }},
    {"log", "[3,7] positive", {in_range({3, 7}, 0.5, 3)}, [](const V& a) { return log(a[0]); }},
    {"sqrt", "[33] positive", {in_range({33}, 0.5, 3)}, [](const V& a) { return sqrt(a[0]); }},
    {"square", "non-contiguous", {in_nc({3, 5})}, [](const V& a) { return square(a[0]); }},
    {"pow_scalar", "x^1.5", {in_range({7}, 0.5, 2)}, [](const V& a) { return pow_scalar(a[0], 1.5); }},
    {"relu", "[2,3,7,7] away from 0", {in_distinct({2, 3, 7, 7})}, [](const V& a) { return relu(a[0]); }},
    {"gelu", "exact erf [65]", {in_range({65}, -4, 4)}, [](const V& a) { return gelu(a[0]); }},
    // Wide range: the optimised f32 path's exp underflows and its erf saturates in here.
    {"gelu", "wide range [3,65,33] in [-12, 12]", {in_range({3, 65, 33}, -12, 12)}, [](const V& a) { return gelu(a[0]); }},
    {"sigmoid", "[3,7]", {in_range({3, 7}, -4, 4)}, [](const V& a) { return sigmoid(a[0]); }},
    {"tanh", "[3,7]", {in_range({3, 7}, -3, 3)}, [](const V& a) { return tanh(a[0]); }},
    {"dropout", "p=0.3 training", {in({4, 33})}, [](const V& a) {
       Generator g(99);
       return dropout(a[0], 0.3, true, g);
     }},
    {"dropout", "eval is identity", {in({4, 7})}, [](const V& a) {
       Generator g(99);
       return mul_scalar(dropout(a[0], 0.3, false, g), 1.0);
     }},
});

}  // namespace
}  // namespace gb::harness

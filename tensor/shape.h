// Shapes and strides. Up to kMaxDims dimensions (5 covers NCDHW for 3-D U-Net; 8 leaves room for
// intermediate reshapes such as patch extraction).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace gb {

constexpr int kMaxDims = 8;
using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);
std::string str(const Shape& s);  // "[2,3,7,7]"
template <size_t S> std::string str(const std::array<int64_t, S>& a) { return str(Shape(a.begin(), a.end())); }
Shape contiguous_strides(const Shape& s);
// Normalise a possibly negative dimension index; `op` names the caller in the error.
int64_t wrap_dim(int64_t d, int64_t ndim, const char* op);
// Numpy broadcasting of two shapes, aligned at the right; throws "<op>: cannot broadcast ..." otherwise.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
void check_shape(const Shape& s, const char* op);  // non-negative sizes, at most kMaxDims dims

}  // namespace gb

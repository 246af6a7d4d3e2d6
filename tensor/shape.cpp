#include "tensor/shape.h"

#include <sstream>

#include "tensor/error.h"

namespace gb {

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::string str(const Shape& s) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "," : "") << s[i];
  os << ']';
  return os.str();
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int i = (int)s.size() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i] > 0 ? s[i] : 1;
  }
  return st;
}

int64_t wrap_dim(int64_t d, int64_t ndim, const char* op) {
  GB_CHECK(d >= -ndim && d < ndim, op, ": dimension ", d, " out of range for a ", ndim, "-d tensor");
  return d < 0 ? d + ndim : d;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    GB_CHECK(da == db || da == 1 || db == 1, op, ": cannot broadcast shapes ", str(a), " and ", str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void check_shape(const Shape& s, const char* op) {
  GB_CHECK((int)s.size() <= kMaxDims, op, ": shape ", str(s), " has more than ", kMaxDims, " dimensions");
  for (auto d : s) GB_CHECK(d >= 0, op, ": negative size in shape ", str(s));
}

}  // namespace gb

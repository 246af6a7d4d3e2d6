// Errors are exceptions whose message starts with the op (or file) name, e.g.
//   "conv2d: input has 3 channels but weight expects 4 (input [2,3,7,7], weight [8,4,3,3])".
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace gb {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void cat(std::ostringstream&) {}
template <class A, class... R> void cat(std::ostringstream& os, const A& a, const R&... r) {
  os << a;
  cat(os, r...);
}
}  // namespace detail

template <class... A> [[noreturn]] void fail(const A&... a) {
  std::ostringstream os;
  detail::cat(os, a...);
  throw Error(os.str());
}

}  // namespace gb

// GB_CHECK(cond, "op: message ", values...) — always on (not an assert): shape checks are cheap.
#define GB_CHECK(cond, ...)            \
  do {                                 \
    if (!(cond)) ::gb::fail(__VA_ARGS__); \
  } while (0)

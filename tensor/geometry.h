// Geometry of the windowed ops (convolution, pooling, linear resampling), shared by every backend:
// plain structs with the index arithmetic in GB_HD (host + device) functions, so the CUDA kernels and
// the CPU kernels compute the same windows and CPU tests exercise the arithmetic the GPU runs.
// A 2-D op is the 3-D op with depth 1 (D = KD = OD = 1). Spatial arrays are {D, H, W}.
#pragma once
#include <array>
#include <cstdint>

#if defined(__CUDACC__)
#define GB_HD __host__ __device__
#else
#define GB_HD
#endif

namespace gb {

// Output size along one dimension (torch): floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1.
GB_HD inline int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

// Convolution, buffers contiguous:
//   x [N, C, D, H, W]   w [O, C/groups, KD, KH, KW]   bias [O]   y [N, O, OD, OH, OW]
struct ConvGeom {
  int64_t N = 1, C = 1, O = 1, groups = 1;
  std::array<int64_t, 3> in{1, 1, 1};      // D, H, W
  std::array<int64_t, 3> k{1, 1, 1};       // KD, KH, KW
  std::array<int64_t, 3> out{1, 1, 1};     // OD, OH, OW
  std::array<int64_t, 3> stride{1, 1, 1}, pad{0, 0, 0}, dil{1, 1, 1};

  int64_t Cg() const { return C / groups; }
  int64_t Og() const { return O / groups; }
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t k_size() const { return k[0] * k[1] * k[2]; }
  // Forward multiply-adds counted as 2 FLOPs (the bias add is not counted).
  double flops() const { return 2.0 * (double)N * (double)O * (double)out_size() * (double)Cg() * (double)k_size(); }
};

// Max pooling: x [planes, D, H, W] (planes = N*C) -> y, idx [planes, OD, OH, OW].
struct PoolGeom {
  int64_t planes = 1;
  std::array<int64_t, 3> in{1, 1, 1}, k{1, 1, 1}, stride{1, 1, 1}, pad{0, 0, 0}, out{1, 1, 1};
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
};

// Linear resampling: x [planes, D, H, W] -> y [planes, OD, OH, OW] (tensor/cpu/upsample.h has the rules).
struct UpsampleGeom {
  int64_t planes = 1;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1};
  bool align_corners = false;
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
};

// Element offset of flat (row-major) index `i` of a tensor of `nd` dims with sizes `shape` and
// element strides `st` (nd <= kMaxDims of tensor/shape.h). Used by strided copies and accumulations on
// every backend.
GB_HD inline int64_t strided_offset(int64_t i, int nd, const int64_t* shape, const int64_t* st) {
  int64_t off = 0;
  for (int d = nd - 1; d >= 0; --d) {
    const int64_t s = shape[d];
    off += (i % s) * st[d];
    i /= s;
  }
  return off;
}

}  // namespace gb

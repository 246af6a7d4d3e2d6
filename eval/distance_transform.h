// Exact Euclidean distance transform, separable and linear in the number of voxels
// (Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions", Theory of Computing 2012):
// one 1-D pass per axis, each the lower envelope of the parabolas s²(q - p)² + f(p) through the
// values of the previous pass, so the result is the exact squared distance in mm² (no chamfer
// approximation) with a different spacing s per axis.
//
// Buffers are row-major [D, H, W] (W fastest); a 2-D image is D = 1.
#pragma once
#include <array>
#include <cstdint>

namespace gb::eval {

// feature: u8 [D*H*W], non-zero marks a feature voxel.
// spacing_dhw: mm per step along D, H, W (note: buffer order, not x/y/z).
// out: f64 [D*H*W]; out[v] = min over feature voxels f of |centre(v) - centre(f)|² in mm²,
//      +infinity everywhere when there is no feature voxel. O(D*H*W) time, O(H*W) extra memory.
// query (optional, u8 [D*H*W]): when given, out is only guaranteed at the query voxels (the last
//      pass, along D, skips the columns without one; elsewhere out holds the in-slice transform).
void squared_edt(const uint8_t* feature, const std::array<int64_t, 3>& dims, const std::array<double, 3>& spacing_dhw,
                 double* out, const uint8_t* query = nullptr);

// One 1-D pass, exposed for tests: f[0..n) sampled at steps of `step` mm (+inf = no sample) ->
// d[q] = min_p step²(q - p)² + f[p]. v (int64, n) and z (f64, n + 1) are scratch.
void squared_edt_1d(const double* f, int64_t n, double step, double* d, int64_t* v, double* z);

}  // namespace gb::eval

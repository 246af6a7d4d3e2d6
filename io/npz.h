// NumPy .npz / .npy reading (no pickle, ever): a zip archive of .npy members, stored or deflated
// (zlib), zip64 included (numpy writes its members with zip64 fields). Each member's CRC-32 is
// checked. .npy: magic, version 1-3 header dict {'descr', 'fortran_order', 'shape'}.
// Supported descr: f4 f8 f2 (-> f32), i4, i8 (-> i32, values must fit), u1, b1 (-> u8), either byte
// order; Fortran order is transposed into C order. Object arrays ('O') and structured dtypes are
// rejected with a gb::Error naming the file and member, as is any malformed or truncated input.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace gb::io {

// Members in archive order, names without the ".npy" suffix (as numpy.load gives them).
std::vector<std::pair<std::string, Tensor>> read_npz(const std::string& path);
std::vector<std::pair<std::string, Tensor>> parse_npz(const uint8_t* data, size_t n, const std::string& name = "<memory>");
// One .npy file's bytes; `name` labels errors.
Tensor parse_npy(const uint8_t* data, size_t n, const std::string& name);
Tensor read_npy(const std::string& path);

}  // namespace gb::io

// Test-only writers: a tiny .npy + zip (stored or deflate) writer and a raw safetensors writer that
// can emit I64 (as torch exports num_batches_tracked).
#pragma once
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace gbtest {

inline void put(std::vector<uint8_t>& b, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back((uint8_t)(v >> (8 * i)));
}

// .npy v1.0 of an f32 tensor (or raw bytes with a given descr)
inline std::vector<uint8_t> npy_bytes(const std::string& descr, const gb::Shape& shape, const void* data, size_t nbytes,
                                      bool fortran = false) {
  std::string sh = "(";
  for (size_t i = 0; i < shape.size(); ++i) sh += std::to_string(shape[i]) + (shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "");
  sh += ")";
  std::string h = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + sh + ", }";
  while ((10 + h.size() + 1) % 64) h.push_back(' ');
  h.push_back('\n');
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  put(b, h.size(), 2);
  b.insert(b.end(), h.begin(), h.end());
  const uint8_t* p = static_cast<const uint8_t*>(data);
  b.insert(b.end(), p, p + nbytes);
  return b;
}
inline std::vector<uint8_t> npy_f32(const gb::Tensor& t) {
  gb::Tensor c = t.to(gb::DType::F32).contiguous();
  return npy_bytes("<f4", c.shape(), c.raw_data(), (size_t)c.numel() * 4);
}

struct ZipMember {
  std::string name;
  std::vector<uint8_t> data;
  bool deflate = false;
};

inline std::vector<uint8_t> zip_bytes(const std::vector<ZipMember>& members) {
  std::vector<uint8_t> out, cd;
  for (auto& m : members) {
    std::vector<uint8_t> comp = m.data;
    if (m.deflate) {
      z_stream zs{};
      deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      comp.resize(deflateBound(&zs, m.data.size()) + 16);
      zs.next_in = const_cast<uint8_t*>(m.data.data());
      zs.avail_in = (uInt)m.data.size();
      zs.next_out = comp.data();
      zs.avail_out = (uInt)comp.size();
      deflate(&zs, Z_FINISH);
      comp.resize(zs.total_out);
      deflateEnd(&zs);
    }
    const uint32_t crc = (uint32_t)crc32(0L, m.data.data(), (uInt)m.data.size());
    const uint64_t local = out.size();
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, 0, 2);
    put(out, m.deflate ? 8 : 0, 2);
    put(out, 0, 4);  // time, date
    put(out, crc, 4);
    put(out, comp.size(), 4);
    put(out, m.data.size(), 4);
    put(out, m.name.size(), 2);
    put(out, 0, 2);
    out.insert(out.end(), m.name.begin(), m.name.end());
    out.insert(out.end(), comp.begin(), comp.end());
    put(cd, 0x02014b50, 4);
    put(cd, 20, 2);
    put(cd, 20, 2);
    put(cd, 0, 2);
    put(cd, m.deflate ? 8 : 0, 2);
    put(cd, 0, 4);
    put(cd, crc, 4);
    put(cd, comp.size(), 4);
    put(cd, m.data.size(), 4);
    put(cd, m.name.size(), 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 4);
    put(cd, local, 4);
    cd.insert(cd.end(), m.name.begin(), m.name.end());
  }
  const uint64_t cd_off = out.size();
  out.insert(out.end(), cd.begin(), cd.end());
  put(out, 0x06054b50, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, members.size(), 2);
  put(out, members.size(), 2);
  put(out, cd.size(), 4);
  put(out, cd_off, 4);
  put(out, 0, 2);
  return out;
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::vector<uint8_t> b;
  if (!f) return b;
  int c;
  while ((c = std::fgetc(f)) != EOF) b.push_back((uint8_t)c);
  std::fclose(f);
  return b;
}

inline std::string temp_path(const std::string& name) {
  const char* d = std::getenv("TMPDIR");
  return std::string(d ? d : "/tmp") + "/gb_models_test_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace gbtest

// safetensors (https://github.com/huggingface/safetensors): 8-byte little-endian header length N,
// N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
// then the raw little-endian data (offsets relative to its start).
//
// Reading accepts F32, F64, I32, U8 as they are; F16 / BF16 become F32; I64 and BOOL become I32 / U8
// (I64 values must fit in 32 bits: torch's BatchNorm num_batches_tracked is the usual one). Every
// structural fault (truncated file, header length past the end, bad JSON, offsets out of range or
// overlapping, byte count not matching dtype x shape, unknown dtype) is a gb::Error naming the file.
// Writing stores F32, F64, I32, U8 in the given order, header padded to 8 bytes, via a temporary
// file and rename.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace gb::io {

// ---- byte sources and atomic writes (shared with io/npz.cpp) ----


class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Copies [off, off + n) into dst; throws "<name>: truncated ..." when it is out of range.
  virtual void read(uint64_t off, void* dst, uint64_t n) const = 0;
  const std::string& name() const { return name_; }

 protected:
  std::string name_;
};

class MemorySource : public ByteSource {
 public:
  MemorySource(const uint8_t* d, size_t n, std::string name) : d_(d), n_(n) { name_ = std::move(name); }
  uint64_t size() const override { return n_; }
  void read(uint64_t off, void* dst, uint64_t n) const override {
    GB_CHECK(off <= n_ && n <= n_ - off, name_, ": truncated: need bytes [", off, ", ", off + n, ") of ", n_);
    if (n) std::memcpy(dst, d_ + off, n);
  }

 private:
  const uint8_t* d_;
  size_t n_;
};

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path);
  ~FileSource() override;
  uint64_t size() const override { return size_; }
  void read(uint64_t off, void* dst, uint64_t n) const override;

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Writes `bytes` produced by `fill(FILE*)` to path via path.tmp.<pid> + rename; errors name the path.
void write_file_atomically(const std::string& path, const std::string& what,
                           const std::function<void(std::FILE*)>& fill);


struct SafetensorsData {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in the header's order
  std::map<std::string, std::string> metadata;
  std::map<std::string, Tensor> map() const { return {tensors.begin(), tensors.end()}; }
};

SafetensorsData read_safetensors(const std::string& path);
// Same, from bytes in memory; `name` labels errors (fuzzing, embedded files).
SafetensorsData parse_safetensors(const uint8_t* data, size_t n, const std::string& name = "<memory>");

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace gb::io

// safetensors reader and writer; also the file/memory byte sources and the atomic writer that
// io/npz.cpp shares.
#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace gb::io {

FileSource::FileSource(const std::string& path) {
  name_ = path;
  fd_ = ::open(path.c_str(), O_RDONLY);
  GB_CHECK(fd_ >= 0, path, ": cannot open: ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail(path, ": not a regular file");
  }
  size_ = (uint64_t)st.st_size;
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSource::read(uint64_t off, void* dst, uint64_t n) const {
  GB_CHECK(off <= size_ && n <= size_ - off, name_, ": truncated: need bytes [", off, ", ", off + n, ") but the file has ",
           size_);
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    ssize_t r = ::pread(fd_, p, n > (1u << 30) ? (1u << 30) : (size_t)n, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    GB_CHECK(r > 0, name_, ": read error at byte ", off, ": ", r < 0 ? std::strerror(errno) : "unexpected end of file");
    p += r;
    off += (uint64_t)r;
    n -= (uint64_t)r;
  }
}

void write_file_atomically(const std::string& path, const std::string& what,
                           const std::function<void(std::FILE*)>& fill) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  GB_CHECK(f, path, ": cannot write ", what, ": ", std::strerror(errno));
  try {
    fill(f);
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  // fsync before the rename: after a crash or power cut the file under `path` is the old one or the
  // whole new one, never a torn write.
  const bool bad = std::ferror(f) != 0 || std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0;
  const bool close_failed = std::fclose(f) != 0;
  if (bad || close_failed) {
    std::remove(tmp.c_str());
    fail(path, ": writing ", what, " failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot rename the temporary file into place: ", std::strerror(e));
  }
}

// ---------------------------------------------------------------- safetensors
namespace {

using ojson = nlohmann::ordered_json;

struct DtypeInfo {
  const char* name;
  size_t size;
};

bool dtype_info(const std::string& s, DtypeInfo& out) {
  static const DtypeInfo known[] = {{"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                    {"I32", 4}, {"U8", 1},  {"BOOL", 1}};
  for (auto& k : known)
    if (s == k.name) {
      out = k;
      return true;
    }
  return false;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_float(uint16_t b) {
  uint32_t bits = (uint32_t)b << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Decodes `raw` (little-endian `dt`, n elements) into a tensor of the engine's dtype.
Tensor decode(const std::string& file, const std::string& key, const std::string& dt, const std::vector<uint8_t>& raw,
              const Shape& shape) {
  const int64_t n = numel(shape);
  if (dt == "F32" || dt == "F64" || dt == "I32" || dt == "U8" || dt == "BOOL") {
    DType t = dt == "F32" ? DType::F32 : dt == "F64" ? DType::F64 : dt == "I32" ? DType::I32 : DType::U8;
    Tensor out = Tensor::empty(shape, t);
    if (n) std::memcpy(out.raw_data(), raw.data(), raw.size());
    return out;
  }
  if (dt == "F16" || dt == "BF16") {
    Tensor out = Tensor::empty(shape, DType::F32);
    float* p = out.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, raw.data() + 2 * i, 2);
      p[i] = dt == "F16" ? half_to_float(h) : bf16_to_float(h);
    }
    return out;
  }
  // I64
  Tensor out = Tensor::empty(shape, DType::I32);
  int32_t* p = out.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t v;
    std::memcpy(&v, raw.data() + 8 * i, 8);
    GB_CHECK(v >= INT32_MIN && v <= INT32_MAX, file, ": tensor '", key, "' (I64) holds ", v,
             ", which does not fit the engine's i32");
    p[i] = (int32_t)v;
  }
  return out;
}

uint64_t checked_uint(const ojson& v, const std::string& file, const std::string& key, const char* what) {
  GB_CHECK(v.is_number_unsigned(), file, ": tensor '", key, "': ", what, " must be a non-negative integer, got ",
           v.dump());
  return v.get<uint64_t>();
}

SafetensorsData parse_source(const ByteSource& src) {
  const std::string& file = src.name();
  const uint64_t size = src.size();
  GB_CHECK(size >= 8, file, ": not a safetensors file: ", size, " bytes, need at least the 8-byte header length");
  uint8_t len8[8];
  src.read(0, len8, 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len8[i];
  GB_CHECK(n <= size - 8, file, ": header length ", n, " runs past the end of the file (", size, " bytes)");
  GB_CHECK(n <= (uint64_t)100 << 20, file, ": header length ", n, " is over the 100 MB limit of the format");
  std::string header(n, '\0');
  src.read(8, header.data(), n);
  ojson j;
  try {
    j = ojson::parse(header);
  } catch (const ojson::exception& e) {
    fail(file, ": header is not valid JSON: ", e.what());
  }
  GB_CHECK(j.is_object(), file, ": header must be a JSON object");
  const uint64_t data_start = 8 + n, data_len = size - data_start;
  SafetensorsData out;
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const ojson& v = it.value();
    if (key == "__metadata__") {
      GB_CHECK(v.is_object(), file, ": __metadata__ must be an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        GB_CHECK(m.value().is_string(), file, ": __metadata__ value of '", m.key(), "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    GB_CHECK(v.is_object() && v.contains("dtype") && v.contains("shape") && v.contains("data_offsets"), file,
             ": tensor '", key, "' needs dtype, shape and data_offsets");
    GB_CHECK(v["dtype"].is_string(), file, ": tensor '", key, "': dtype is not a string");
    const std::string dt = v["dtype"].get<std::string>();
    DtypeInfo info{};
    GB_CHECK(dtype_info(dt, info), file, ": tensor '", key, "' has unsupported dtype '", dt,
             "' (supported: F32 F64 F16 BF16 I64 I32 U8 BOOL)");
    const ojson& sh = v["shape"];
    GB_CHECK(sh.is_array() && sh.size() <= (size_t)kMaxDims, file, ": tensor '", key,
             "': shape must be an array of at most ", kMaxDims, " sizes");
    Shape shape;
    uint64_t count = 1;
    bool overflow = false;
    for (auto& d : sh) {
      const uint64_t s = checked_uint(d, file, key, "a shape entry");
      shape.push_back((int64_t)s);
      if (s != 0 && count > (data_len + 1) / s) overflow = true;  // more elements than bytes could hold
      count *= s;
      if (s == 0) overflow = false, count = 0;
    }
    const ojson& off = v["data_offsets"];
    GB_CHECK(off.is_array() && off.size() == 2, file, ": tensor '", key, "': data_offsets must be [begin, end]");
    const uint64_t b = checked_uint(off[0], file, key, "data_offsets[0]");
    const uint64_t e = checked_uint(off[1], file, key, "data_offsets[1]");
    GB_CHECK(b <= e && e <= data_len, file, ": tensor '", key, "': data_offsets [", b, ", ", e,
             "] are out of range (data section holds ", data_len, " bytes)");
    GB_CHECK(!overflow && count * info.size == e - b, file, ": tensor '", key, "' ", dt, str(shape), " needs ",
             overflow ? std::string("more") : std::to_string(count * info.size), " bytes but data_offsets give ", e - b);
    spans.push_back({b, e});
    std::vector<uint8_t> raw(e - b);
    src.read(data_start + b, raw.data(), e - b);
    out.tensors.push_back({key, decode(file, key, dt, raw, shape)});
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    GB_CHECK(spans[i].first >= spans[i - 1].second || spans[i].first == spans[i].second, file,
             ": tensors overlap in the data section (bytes ", spans[i].first, " < ", spans[i - 1].second, ")");
  return out;
}

}  // namespace

SafetensorsData read_safetensors(const std::string& path) {
  FileSource src(path);
  return parse_source(src);
}

SafetensorsData parse_safetensors(const uint8_t* data, size_t n, const std::string& name) {
  MemorySource src(data, n, name);
  return parse_source(src);
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  ojson h = ojson::object();
  if (!metadata.empty()) {
    ojson m = ojson::object();
    for (auto& [k, v] : metadata) m[k] = v;
    h["__metadata__"] = m;
  }
  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (auto& [name, t0] : tensors) {
    GB_CHECK(t0.defined(), path, ": cannot write undefined tensor '", name, "'");
    GB_CHECK(name != "__metadata__" && !h.contains(name), path, ": duplicate or reserved tensor name '", name, "'");
    Tensor t = t0.device() == Device::CPU ? t0.contiguous() : t0.to(Device::CPU).contiguous();
    const char* dt = t.dtype() == DType::F32   ? "F32"
                     : t.dtype() == DType::F64 ? "F64"
                     : t.dtype() == DType::I32 ? "I32"
                     : t.dtype() == DType::U8  ? "U8"
                                               : nullptr;
    GB_CHECK(dt, path, ": cannot write tensor '", name, "' of dtype ", dtype_name(t.dtype()));
    const uint64_t bytes = (uint64_t)t.numel() * dtype_size(t.dtype());
    h[name] = {{"dtype", dt}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    host.push_back(t);
  }
  std::string header = h.dump();
  while ((8 + header.size()) % 8) header.push_back(' ');
  write_file_atomically(path, "safetensors", [&](std::FILE* f) {
    uint8_t len8[8];
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) len8[i] = (uint8_t)(n >> (8 * i));
    std::fwrite(len8, 1, 8, f);
    std::fwrite(header.data(), 1, header.size(), f);
    for (auto& t : host)
      if (t.numel()) std::fwrite(t.raw_data(), dtype_size(t.dtype()), (size_t)t.numel(), f);
  });
}

}  // namespace gb::io

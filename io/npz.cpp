#include "io/npz.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

#include "io/safetensors.h"  // ByteSource, FileSource, MemorySource

namespace gb::io {

namespace {

uint64_t le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// ---------------------------------------------------------------- .npy header (a Python dict literal)
struct NpyHeader {
  std::string descr;
  bool fortran = false;
  Shape shape;
  bool has_descr = false, has_fortran = false, has_shape = false;
};

class DictParser {
 public:
  DictParser(const std::string& s, const std::string& where) : s_(s), where_(where) {}
  NpyHeader parse() {
    NpyHeader h;
    expect('{');
    while (true) {
      skip();
      if (peek() == '}') break;
      std::string key = string_lit();
      expect(':');
      skip();
      if (key == "descr") {
        GB_CHECK(peek() == '\'' || peek() == '"', where_,
                 ": structured dtypes (descr is not a string) are not supported");
        h.descr = string_lit();
        h.has_descr = true;
      } else if (key == "fortran_order") {
        if (s_.compare(i_, 4, "True") == 0) {
          h.fortran = true;
          i_ += 4;
        } else if (s_.compare(i_, 5, "False") == 0) {
          i_ += 5;
        } else {
          bad("fortran_order must be True or False");
        }
        h.has_fortran = true;
      } else if (key == "shape") {
        expect('(');
        while (true) {
          skip();
          if (peek() == ')') break;
          size_t j = i_;
          while (j < s_.size() && std::isdigit((unsigned char)s_[j])) ++j;
          if (j == i_ || j - i_ > 12) bad("shape entries must be non-negative integers");
          h.shape.push_back(std::stoll(s_.substr(i_, j - i_)));
          i_ = j;
          skip();
          if (peek() == ',') ++i_;
          else if (peek() != ')') bad("expected ',' or ')' in shape");
        }
        ++i_;
        GB_CHECK(h.shape.size() <= (size_t)kMaxDims, where_, ": ", h.shape.size(), " dimensions (at most ", kMaxDims,
                 " supported)");
        h.has_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip();
      if (peek() == ',') ++i_;
      else if (peek() != '}') bad("expected ',' or '}'");
    }
    GB_CHECK(h.has_descr && h.has_fortran && h.has_shape, where_,
             ": .npy header lacks one of 'descr', 'fortran_order', 'shape'");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& why) { fail(where_, ": bad .npy header (", why, "): ", s_); }
  void skip() {
    while (i_ < s_.size() && std::isspace((unsigned char)s_[i_])) ++i_;
  }
  char peek() { return i_ < s_.size() ? s_[i_] : '\0'; }
  void expect(char c) {
    skip();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string string_lit() {
    skip();
    char q = peek();
    if (q != '\'' && q != '"') bad("expected a string");
    size_t j = s_.find(q, i_ + 1);
    if (j == std::string::npos) bad("unterminated string");
    std::string r = s_.substr(i_ + 1, j - i_ - 1);
    i_ = j + 1;
    return r;
  }
  const std::string& s_;
  std::string where_;
  size_t i_ = 0;
};

float half_bits_to_float(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  int32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | ((uint32_t)exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((uint32_t)(exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

Tensor parse_npy(const uint8_t* d, size_t n, const std::string& where) {
  GB_CHECK(n >= 10 && std::memcmp(d, "\x93NUMPY", 6) == 0, where, ": not a .npy array (bad magic)");
  const int major = d[6];
  GB_CHECK(major >= 1 && major <= 3, where, ": unsupported .npy version ", major, ".", (int)d[7]);
  size_t hl, pos;
  if (major == 1) {
    hl = (size_t)le(d + 8, 2);
    pos = 10;
  } else {
    GB_CHECK(n >= 12, where, ": truncated .npy header");
    hl = (size_t)le(d + 8, 4);
    pos = 12;
  }
  GB_CHECK(hl <= n - pos, where, ": .npy header length ", hl, " runs past the end (", n, " bytes)");
  const std::string text((const char*)d + pos, hl);
  NpyHeader h = DictParser(text, where).parse();
  pos += hl;

  const std::string& ds = h.descr;
  GB_CHECK(ds.size() >= 2, where, ": bad descr '", ds, "'");
  GB_CHECK(ds.find('O') == std::string::npos, where,
           ": object arrays are not supported (they need pickle, which glassbox never runs)");
  const char order = ds[0];
  const std::string kind = ds.substr(1);
  GB_CHECK(order == '<' || order == '>' || order == '|' || order == '=', where, ": bad byte order in descr '", ds, "'");
  const bool swap = order == '>';
  size_t esize;
  DType out_t;
  if (kind == "f4") esize = 4, out_t = DType::F32;
  else if (kind == "f8") esize = 8, out_t = DType::F64;
  else if (kind == "f2") esize = 2, out_t = DType::F32;
  else if (kind == "i4") esize = 4, out_t = DType::I32;
  else if (kind == "i8") esize = 8, out_t = DType::I32;
  else if (kind == "u1" || kind == "b1") esize = 1, out_t = DType::U8;
  else fail(where, ": unsupported dtype '", ds, "' (supported: f2 f4 f8 i4 i8 u1 b1)");

  uint64_t count = 1;
  for (int64_t s : h.shape) {
    GB_CHECK(s == 0 || count <= (uint64_t)(n - pos) / (uint64_t)s + 1, where, ": shape ", str(h.shape),
             " is larger than the data (", n - pos, " bytes)");
    count *= (uint64_t)s;
  }
  GB_CHECK(count * esize <= n - pos, where, ": data truncated: shape ", str(h.shape), " of '", ds, "' needs ",
           count * esize, " bytes, ", n - pos, " present");
  // Fortran order: the bytes are the C-order array of the reversed shape; transpose afterwards.
  Shape file_shape = h.shape;
  if (h.fortran) std::reverse(file_shape.begin(), file_shape.end());
  Tensor t = Tensor::empty(file_shape, out_t);
  const uint8_t* src = d + pos;
  auto get = [&](uint64_t i, uint8_t* tmp) {
    std::memcpy(tmp, src + i * esize, esize);
    if (swap) std::reverse(tmp, tmp + esize);
  };
  uint8_t tmp[8];
  for (uint64_t i = 0; i < count; ++i) {
    get(i, tmp);
    if (kind == "f4") std::memcpy(t.data<float>() + i, tmp, 4);
    else if (kind == "f8") std::memcpy(t.data<double>() + i, tmp, 8);
    else if (kind == "f2") t.data<float>()[i] = half_bits_to_float((uint16_t)le(tmp, 2));
    else if (kind == "i4") std::memcpy(t.data<int32_t>() + i, tmp, 4);
    else if (kind == "i8") {
      int64_t v;
      std::memcpy(&v, tmp, 8);
      GB_CHECK(v >= INT32_MIN && v <= INT32_MAX, where, ": int64 value ", v, " does not fit the engine's i32");
      t.data<int32_t>()[i] = (int32_t)v;
    } else {
      t.data<uint8_t>()[i] = kind == "b1" ? (tmp[0] != 0) : tmp[0];
    }
  }
  if (h.fortran && t.dim() > 1) {
    std::vector<int64_t> perm(t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) perm[i] = t.dim() - 1 - i;
    t = t.view_permute(perm).contiguous();
  }
  return t;
}

namespace {

std::vector<std::pair<std::string, Tensor>> parse_zip(const ByteSource& src) {
  const std::string& file = src.name();
  const uint64_t size = src.size();
  GB_CHECK(size >= 22, file, ": not a zip/npz archive (", size, " bytes)");
  // End of central directory: the last "PK\5\6" within the final 22 + 65535 bytes.
  const uint64_t tail = std::min<uint64_t>(size, 22 + 65535);
  std::vector<uint8_t> t(tail);
  src.read(size - tail, t.data(), tail);
  int64_t eocd = -1;
  for (int64_t i = (int64_t)tail - 22; i >= 0; --i)
    if (t[i] == 'P' && t[i + 1] == 'K' && t[i + 2] == 5 && t[i + 3] == 6) {
      eocd = i;
      break;
    }
  GB_CHECK(eocd >= 0, file, ": not a zip/npz archive (no end-of-central-directory record)");
  const uint8_t* e = t.data() + eocd;
  uint64_t entries = le(e + 10, 2), cd_size = le(e + 12, 4), cd_off = le(e + 16, 4);
  const uint64_t eocd_pos = size - tail + (uint64_t)eocd;
  if (entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
    // zip64: locator (20 bytes) just before the EOCD points at the zip64 EOCD record
    GB_CHECK(eocd_pos >= 20, file, ": zip64 locator missing");
    uint8_t loc[20];
    src.read(eocd_pos - 20, loc, 20);
    GB_CHECK(le(loc, 4) == 0x07064b50, file, ": zip64 end-of-central-directory locator missing");
    const uint64_t z = le(loc + 8, 8);
    uint8_t rec[56];
    src.read(z, rec, 56);
    GB_CHECK(le(rec, 4) == 0x06064b50, file, ": bad zip64 end-of-central-directory record");
    entries = le(rec + 32, 8);
    cd_size = le(rec + 40, 8);
    cd_off = le(rec + 48, 8);
  }
  GB_CHECK(cd_off <= size && cd_size <= size - cd_off, file, ": central directory [", cd_off, ", +", cd_size,
           ") is outside the file (", size, " bytes)");
  GB_CHECK(entries <= cd_size / 46, file, ": ", entries, " entries cannot fit a central directory of ", cd_size,
           " bytes");
  std::vector<uint8_t> cd(cd_size);
  src.read(cd_off, cd.data(), cd_size);
  std::vector<std::pair<std::string, Tensor>> out;
  uint64_t p = 0;
  for (uint64_t k = 0; k < entries; ++k) {
    GB_CHECK(p + 46 <= cd_size && le(cd.data() + p, 4) == 0x02014b50, file, ": bad central directory entry ", k);
    const uint8_t* c = cd.data() + p;
    const uint64_t flags = le(c + 8, 2), method = le(c + 10, 2), crc = le(c + 16, 4);
    uint64_t csize = le(c + 20, 4), usize = le(c + 24, 4), local = le(c + 42, 4);
    const uint64_t nl = le(c + 28, 2), xl = le(c + 30, 2), cl = le(c + 32, 2);
    GB_CHECK(p + 46 + nl + xl + cl <= cd_size, file, ": central directory entry ", k, " runs past its end");
    const std::string name((const char*)c + 46, nl);
    // zip64 extra field (id 1): the 64-bit values of the fields that hold 0xFFFFFFFF, in this order
    const uint8_t* x = c + 46 + nl;
    for (uint64_t q = 0; q + 4 <= xl;) {
      const uint64_t id = le(x + q, 2), len = le(x + q + 2, 2);
      GB_CHECK(q + 4 + len <= xl, file, ": member '", name, "': bad extra field");
      if (id == 1) {
        uint64_t r = q + 4;
        auto take = [&](uint64_t& v) {
          if (v != 0xFFFFFFFFu) return;
          GB_CHECK(r + 8 <= q + 4 + len, file, ": member '", name, "': short zip64 extra field");
          v = le(x + r, 8);
          r += 8;
        };
        take(usize);
        take(csize);
        take(local);
      }
      q += 4 + len;
    }
    p += 46 + nl + xl + cl;
    const std::string where = file + ": member '" + name + "'";
    GB_CHECK(!(flags & 1), where, " is encrypted");
    GB_CHECK(method == 0 || method == 8, where, " uses compression method ", method, " (only stored and deflate)");
    uint8_t lh[30];
    src.read(local, lh, 30);
    GB_CHECK(le(lh, 4) == 0x04034b50, where, ": bad local header at byte ", local);
    const uint64_t data = local + 30 + le(lh + 26, 2) + le(lh + 28, 2);
    GB_CHECK(data <= size && csize <= size - data, where, ": data [", data, ", +", csize, ") runs past the end (",
             size, " bytes)");
    GB_CHECK(method == 8 || usize == csize, where, ": stored member with different sizes");
    GB_CHECK(usize <= csize * 1032 + 1024, where, ": claimed size ", usize, " is impossible for ", csize,
             " compressed bytes");
    std::vector<uint8_t> comp(csize);
    src.read(data, comp.data(), csize);
    std::vector<uint8_t> raw;
    if (method == 0) {
      raw.swap(comp);
    } else {
      raw.resize(usize);
      z_stream zs{};
      GB_CHECK(inflateInit2(&zs, -MAX_WBITS) == Z_OK, where, ": zlib init failed");
      uint64_t in_done = 0, out_done = 0;
      int rc = Z_OK;
      while (rc == Z_OK) {
        const uInt in_chunk = (uInt)std::min<uint64_t>(csize - in_done, 1u << 30);
        const uInt out_chunk = (uInt)std::min<uint64_t>(usize - out_done, 1u << 30);
        zs.next_in = comp.data() + in_done;
        zs.avail_in = in_chunk;
        zs.next_out = raw.data() + out_done;
        zs.avail_out = out_chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        in_done += in_chunk - zs.avail_in;
        out_done += out_chunk - zs.avail_out;
        if (rc == Z_OK && zs.avail_in == in_chunk && zs.avail_out == out_chunk) rc = Z_BUF_ERROR;  // no progress
      }
      inflateEnd(&zs);
      GB_CHECK(rc == Z_STREAM_END && out_done == usize, where, ": corrupt deflate data (zlib ", rc, ", ", out_done,
               " of ", usize, " bytes)");
    }
    uLong got = crc32(0L, Z_NULL, 0);
    for (uint64_t o = 0; o < raw.size(); o += 1u << 30)
      got = crc32(got, raw.data() + o, (uInt)std::min<uint64_t>(raw.size() - o, 1u << 30));
    GB_CHECK(got == crc, where, ": CRC-32 mismatch (corrupt archive)");
    std::string key = name;
    if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
    out.push_back({key, parse_npy(raw.data(), raw.size(), where)});
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> read_npz(const std::string& path) {
  FileSource src(path);
  return parse_zip(src);
}

std::vector<std::pair<std::string, Tensor>> parse_npz(const uint8_t* data, size_t n, const std::string& name) {
  MemorySource src(data, n, name);
  return parse_zip(src);
}

Tensor read_npy(const std::string& path) {
  FileSource src(path);
  std::vector<uint8_t> b(src.size());
  src.read(0, b.data(), b.size());
  return parse_npy(b.data(), b.size(), path);
}

}  // namespace gb::io

#include "report/html.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace gb::report {

std::string escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string base64(const std::string& in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = ((unsigned char)in[i] << 16) | ((unsigned char)in[i + 1] << 8) | (unsigned char)in[i + 2];
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i < in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    if (i + 1 < in.size()) v |= (unsigned char)in[i + 1] << 8;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  GB_CHECK(f.good(), path, ": cannot be read");
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

std::string data_uri(const std::string& path, const std::string& mime) {
  return "data:" + mime + ";base64," + base64(read_text(path));
}

std::string js_string(const std::string& s) {
  std::string o = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      case '<': o += (i + 1 < s.size() && s[i + 1] == '/') ? "\\u003c" : "<"; break;
      default:
        if ((unsigned char)c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", (unsigned)(unsigned char)c);
          o += b;
        } else {
          o += c;
        }
    }
  }
  return o + "\"";
}

std::string render_table(const Table& t) {
  std::string o = "<table class=\"sortable\">";
  if (!t.caption.empty()) o += "<caption>" + t.caption + "</caption>";
  o += "<thead><tr>";
  for (const auto& h : t.header) o += "<th title=\"click to sort\">" + h + "</th>";
  o += "</tr></thead><tbody>";
  for (const auto& r : t.rows) {
    o += "<tr>";
    for (const auto& c : r) o += "<td>" + c + "</td>";
    o += "</tr>";
  }
  return o + "</tbody></table>\n";
}

std::string fmt_num(double v) {
  if (!std::isfinite(v)) return "-";
  char b[32];
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-3))
    std::snprintf(b, sizeof b, "%.3e", v);
  else
    std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}

}  // namespace gb::report

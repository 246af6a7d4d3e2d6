// Small HTML building blocks for the report: escaping, base64 data URIs, sortable tables.
#pragma once
#include <string>
#include <vector>

namespace gb::report {

std::string escape(const std::string& s);  // & < > " '
std::string base64(const std::string& bytes);
// data:<mime>;base64,... of a file's bytes; throws naming the file when it cannot be read.
std::string data_uri(const std::string& path, const std::string& mime);
std::string read_text(const std::string& path);  // throws naming the file
// A JSON string literal (for embedding text in <script>): quotes, backslashes, control characters and
// "</" escaped so the text cannot end the script element.
std::string js_string(const std::string& s);

// A table whose columns sort when their header is clicked (numbers numerically, text by text).
// cells are already-escaped HTML; a cell that parses as a number sorts as one.
struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
std::string render_table(const Table& t);

// "0.9123" style: 4 significant decimals, "-" for NaN / missing.
std::string fmt_num(double v);

}  // namespace gb::report

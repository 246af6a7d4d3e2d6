// The fixed parts of the report page: head (style, error capture, Chart.js inlined), the script that
// draws the charts, sorts the tables, runs the slice viewers and the self-test, and the "how to read
// this" section.
#pragma once
#include <string>

namespace gb::report {

std::string page_head(const std::string& title, const std::string& chartjs_source);
std::string page_script();
std::string how_to_read();

}  // namespace gb::report

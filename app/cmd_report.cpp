// `glassbox report DIR... --out report.html`: one self-contained page from run, evaluate and explain
// folders (report/report.h).
#include <cstdio>
#include <filesystem>

#include "app/command.h"
#include "report/report.h"

static gb::app::Register reg("report", "one self-contained HTML page from run, evaluate and explain folders",
                             [](CLI::App& sub) {
  auto o = std::make_shared<gb::report::ReportOptions>();
  sub.add_option("folders", o->inputs, "run folders (glassbox train), evaluate and explain output folders")
      ->required();
  sub.add_option("--out", o->out, "the HTML file to write")->required();
  sub.add_flag("--force", o->force, "replace an existing report");
  sub.add_option("--title", o->title, "page title")->capture_default_str();
  sub.add_option("--max-cases", o->max_cases, "slice viewers per explain folder")->capture_default_str();
  sub.add_option("--max-slices", o->max_slices, "slices per viewer (evenly spaced when more)")->capture_default_str();
  sub.add_option("--chartjs", o->chartjs, "Chart.js UMD file (default: Debian's libjs-chart.js)");
  return [o] {
    o->command = gb::app::command_line();
    const auto r = gb::report::write_report(*o);
    std::printf("report: %s (%.1f MB: %lld images, %lld charts, %lld tables, %lld slice viewers)\n", r.path.c_str(),
                (double)r.bytes / 1e6, (long long)r.images, (long long)r.charts, (long long)r.tables,
                (long long)r.viewers);
    std::printf("open it in a browser: file://%s\n", std::filesystem::absolute(r.path).string().c_str());
    return 0;
  };
});

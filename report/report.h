// `glassbox report`: one self-contained HTML page (images embedded as data URIs, Chart.js inlined from
// Debian's libjs-chart.js, no network access) from the folders glassbox writes:
//   run folder      (run.json, log.csv from glassbox train / demo): the run's settings, and the training
//                   curves (loss, smoothed loss, learning rate, validation Dice) as interactive charts;
//   evaluate folder (metrics.json from glassbox evaluate): per-model summary with 95% intervals, every
//                   case, the paired comparisons; sortable tables;
//   explain folder  (metrics.json + <name>_s<k>_ct.png + <name>_s<k>_<method>_layer.png from glassbox
//                   explain): a slice viewer per case (CT with truth and prediction outlines, each map as
//                   an overlay with an opacity slider and a slice slider), the saliency metrics of the
//                   shown map beside the chance baselines (random and edge maps) of the same slice;
// and a short plain-language "how to read this" for every map and metric.
// The page checks itself when opened as report.html#selftest (used by the browser test): every image
// decodes, every chart drew, no script error; the verdict is written into <pre id="gb-selftest">.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gb::report {

enum class FolderKind { Run, Evaluate, Explain };
// What a folder holds; throws one line naming the folder when it is none of the three.
FolderKind detect_folder(const std::string& dir);

struct ReportOptions {
  std::vector<std::string> inputs;  // run / evaluate / explain folders, in the order shown
  std::string out;                  // the .html file (written to a temporary name, then renamed)
  bool force = false;               // replace an existing report
  std::string chartjs;              // Chart.js UMD build; "" = Debian's (find_chartjs)
  int64_t max_cases = 10;           // explain viewers per folder
  int64_t max_slices = 50;          // slices per viewer (evenly spaced when there are more)
  std::string title = "glassbox report";
  std::string command;              // the command line, shown in the header
};

struct ReportResult {
  std::string path;
  int64_t bytes = 0, images = 0, charts = 0, tables = 0, viewers = 0;
};

ReportResult write_report(const ReportOptions& opt);

// Debian's libjs-chart.js (/usr/share/javascript/chart.js/chart.min.js); throws saying how to install
// it when it is missing.
std::string find_chartjs();

}  // namespace gb::report

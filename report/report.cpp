#include "report/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "io/safetensors.h"
#include "report/html.h"
#include "report/page.h"
#include "tensor/error.h"

namespace gb::report {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json read_json(const fs::path& p) {
  try {
    return json::parse(read_text(p.string()));
  } catch (const json::exception& e) {
    fail(p.string(), ": not valid JSON (", e.what(), ")");
  }
}

// ---------------------------------------------------------------- generic tables from JSON
std::string cell(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return fmt_num(v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string()) return escape(v.get<std::string>());
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + cell(v[i]);
    return s + "]";
  }
  return escape(v.dump());
}

// A table of the scalar (and small array) fields of an array of objects; columns in first-seen order.
Table table_of(const json& arr, const std::string& caption, const std::set<std::string>& skip = {}) {
  Table t;
  t.caption = caption;
  std::vector<std::string> cols;
  std::set<std::string> seen;
  for (const auto& o : arr)
    for (auto it = o.begin(); it != o.end(); ++it)
      if (!skip.count(it.key()) && !it.value().is_object() && !seen.count(it.key())) {
        seen.insert(it.key());
        cols.push_back(it.key());
      }
  for (auto& c : cols) t.header.push_back(escape(c));
  for (const auto& o : arr) {
    std::vector<std::string> r;
    for (auto& c : cols) r.push_back(o.contains(c) ? cell(o[c]) : "-");
    t.rows.push_back(r);
  }
  return t;
}

// Nested key/value rows of an object ("options.lr" = 0.01).
void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else {
    out.push_back({prefix, cell(j)});
  }
}

// ---------------------------------------------------------------- CSV (log.csv)
std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> f;
  std::string cur;
  bool q = false;
  for (char c : line) {
    if (c == '"') q = !q;
    else if (c == ',' && !q) f.push_back(cur), cur.clear();
    else cur += c;
  }
  f.push_back(cur);
  return f;
}

std::string js_numbers(const std::vector<double>& v) {
  std::string s = "[";
  char b[32];
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isfinite(v[i])) std::snprintf(b, sizeof b, "%.6g", v[i]);
    else std::snprintf(b, sizeof b, "null");
    s += (i ? "," : "") + std::string(b);
  }
  return s + "]";
}

struct Page {
  std::string body;      // sections
  std::string data_js;   // GB.charts.push(...), GB.viewers.push(...)
  ReportResult res;
  int64_t next_id = 0;
  std::string id(const std::string& what) { return what + std::to_string(next_id++); }
};

// ---------------------------------------------------------------- run folder
void add_run(Page& pg, const fs::path& dir) {
  const json run = read_json(dir / "run.json");
  pg.body += "<section><h2>Training run: " + escape(dir.filename().string()) + "</h2>\n";
  pg.body += "<p class=\"path\">" + escape(dir.string()) + "</p>\n";
  // Curves from log.csv: loss, smoothed loss, learning rate, validation Dice.
  const fs::path log = dir / "log.csv";
  if (fs::exists(log)) {
    std::ifstream f(log.string());
    std::string line;
    std::getline(f, line);
    const auto head = split_csv_line(line);
    std::map<std::string, size_t> col;
    for (size_t i = 0; i < head.size(); ++i) col[head[i]] = i;
    GB_CHECK(col.count("step") && col.count("loss") && col.count("lr"), log.string(),
             ": not a glassbox training log (needs step, loss and lr columns)");
    std::vector<double> step, loss, smooth, lr, vstep, vliver, vtumour;
    double ema = NAN;
    while (std::getline(f, line)) {
      if (line.empty()) continue;
      const auto c = split_csv_line(line);
      auto num = [&](const char* name) {
        auto it = col.find(name);
        if (it == col.end() || it->second >= c.size() || c[it->second].empty()) return (double)NAN;
        try { return std::stod(c[it->second]); } catch (...) { return (double)NAN; }
      };
      const double s = num("step") + 1, l = num("loss");
      step.push_back(s);
      loss.push_back(l);
      ema = std::isfinite(ema) ? 0.95 * ema + 0.05 * l : l;  // exponential moving average, as curves.png
      smooth.push_back(ema);
      lr.push_back(num("lr"));
      const double dl = num("val_liver_dice"), dt = num("val_tumour_dice");
      if (std::isfinite(dl) || std::isfinite(dt)) vstep.push_back(s), vliver.push_back(dl), vtumour.push_back(dt);
    }
    const std::string c1 = pg.id("chart"), c2 = pg.id("chart"), c3 = pg.id("chart");
    pg.body += "<div class=\"charts\"><div class=\"chart\"><canvas id=\"" + c1 + "\"></canvas></div><div class=\"chart\">"
               "<canvas id=\"" + c2 + "\"></canvas></div><div class=\"chart\"><canvas id=\"" + c3 + "\"></canvas></div></div>\n";
    pg.data_js += "GB.charts.push({id:'" + c1 + "',title:'training loss',x:" + js_numbers(step) + ",series:[{label:'loss',y:" +
                  js_numbers(loss) + "},{label:'smoothed (EMA 0.95)',y:" + js_numbers(smooth) + "}]});\n";
    pg.data_js += "GB.charts.push({id:'" + c2 + "',title:'learning rate',x:" + js_numbers(step) + ",series:[{label:'lr',y:" +
                  js_numbers(lr) + "}]});\n";
    pg.data_js += "GB.charts.push({id:'" + c3 + "',title:'validation Dice (held-out cases)',x:" + js_numbers(vstep) +
                  ",ymin:0,ymax:1,series:[{label:'liver',y:" + js_numbers(vliver) + "},{label:'tumour',y:" +
                  js_numbers(vtumour) + "}]});\n";
    pg.res.charts += 3;
  }
  std::vector<std::pair<std::string, std::string>> kv;
  flatten(run, "", kv);
  Table t;
  t.caption = "run.json: everything the run was made of (model, data, split, preprocessing, seed, engine)";
  t.header = {"setting", "value"};
  for (auto& [k, v] : kv) t.rows.push_back({escape(k), v});
  pg.body += "<details><summary>Run settings (" + std::to_string(kv.size()) + ")</summary>" + render_table(t) +
             "</details>\n";
  ++pg.res.tables;
  pg.body += "</section>\n";
}

// ---------------------------------------------------------------- evaluate folder
void add_evaluate(Page& pg, const fs::path& dir) {
  const json m = read_json(dir / "metrics.json");
  GB_CHECK(m.is_object() && m.contains("models"), (dir / "metrics.json").string(),
           ": not a glassbox evaluate result (no \"models\")");
  pg.body += "<section><h2>Evaluation: " + escape(dir.filename().string()) + "</h2>\n<p class=\"path\">" +
             escape(dir.string()) + "</p>\n<ul class=\"notes\">";
  for (const char* k : {"source", "empty_mask_convention", "distance_unit", "surface", "lesions", "statistics", "command"})
    if (m.contains(k) && m[k].is_string()) pg.body += "<li><b>" + escape(k) + "</b>: " + escape(m[k].get<std::string>()) + "</li>";
  pg.body += "</ul>\n";
  // Summary: one row per (model, class), one column per metric: mean and [95% interval].
  Table s;
  s.caption = "Per-case means with [95% bootstrap intervals]";
  s.header = {"model", "class", "cases"};
  std::vector<std::string> metric_cols;
  for (const auto& model : m["models"])
    for (const auto& c : model.value("summary", json::array()))
      if (c.contains("mean"))
        for (auto it = c["mean"].begin(); it != c["mean"].end(); ++it)
          if (std::find(metric_cols.begin(), metric_cols.end(), it.key()) == metric_cols.end())
            metric_cols.push_back(it.key());
  for (const auto& k : metric_cols) s.header.push_back(escape(k));
  Table g;
  g.caption = "Pooled over all voxels of all cases (LiTS ranks by global Dice), lesion detection, and how often the "
              "empty-mask convention decided a case";
  g.header = {"model", "class", "cases", "global Dice", "global IoU", "global sensitivity", "global precision",
              "lesions found / true", "lesion recall", "lesion precision", "lesion F1", "both empty", "truth empty",
              "prediction empty", "surface undefined"};
  for (const auto& model : m["models"]) {
    const std::string name = model.value("name", std::string("?"));
    for (const auto& c : model.value("summary", json::array())) {
      const std::string cls = c.value("class", std::string("?"));
      std::vector<std::string> row = {escape(name), escape(cls), cell(c.value("cases", json()))};
      for (const auto& k : metric_cols) {
        const json v = c.contains("mean") && c["mean"].contains(k) ? c["mean"][k] : json();
        std::string txt = v.is_object() ? cell(v.value("mean", json())) : "-";
        if (v.is_object() && v.contains("ci95") && v["ci95"].size() == 2 && v["ci95"][0].is_number())
          txt += " <small>[" + cell(v["ci95"][0]) + ", " + cell(v["ci95"][1]) + "]</small>";
        row.push_back(txt);
      }
      s.rows.push_back(row);
      const json L = c.value("lesions", json::object());
      g.rows.push_back({escape(name), escape(cls), cell(c.value("cases", json())), cell(c.value("global_dice", json())),
                        cell(c.value("global_iou", json())), cell(c.value("global_sensitivity", json())),
                        cell(c.value("global_precision", json())),
                        cell(L.value("found", json())) + " / " + cell(L.value("truth", json())),
                        cell(L.value("recall", json())), cell(L.value("precision", json())), cell(L.value("f1", json())),
                        cell(c.value("both_empty_cases", json())), cell(c.value("truth_empty_cases", json())),
                        cell(c.value("pred_empty_cases", json())), cell(c.value("surface_undefined_cases", json()))});
    }
  }
  pg.body += render_table(g) + render_table(s);
  pg.res.tables += 2;
  if (m.contains("comparisons") && !m["comparisons"].empty()) {
    json rows = json::array();
    for (const auto& c : m["comparisons"]) {
      json r = c;
      if (c.contains("wilcoxon")) {
        r["wilcoxon_p"] = c["wilcoxon"].value("p", json());
        r["wilcoxon_method"] = c["wilcoxon"].value("method", json());
      }
      rows.push_back(r);
    }
    pg.body += "<details open><summary>Paired comparisons (" + std::to_string(rows.size()) + ")</summary>" +
               render_table(table_of(rows, "Paired comparisons over cases (Wilcoxon signed-rank, bootstrap interval of "
                                           "the mean difference)")) +
               "</details>\n";
    ++pg.res.tables;
  }
  for (const auto& model : m["models"]) {
    pg.body += "<details><summary>Every case: " + escape(model.value("name", std::string("?"))) + "</summary>" +
               render_table(table_of(model.value("cases", json::array()), "one row per case and class")) + "</details>\n";
    ++pg.res.tables;
  }
  pg.body += "</section>\n";
}

// ---------------------------------------------------------------- explain folder
void add_explain(Page& pg, const fs::path& dir, const ReportOptions& opt) {
  const json rows = read_json(dir / "metrics.json");
  GB_CHECK(rows.is_array(), (dir / "metrics.json").string(), ": not a glassbox explain result (expected rows)");
  // Named by the folder and its parent ("tiny/volume-2"): explanations are often kept per model.
  const std::string label = dir.has_parent_path() && !dir.parent_path().filename().empty()
                                ? dir.parent_path().filename().string() + "/" + dir.filename().string()
                                : dir.filename().string();
  pg.body += "<section><h2>Explanations: " + escape(label) + "</h2>\n<p class=\"path\">" +
             escape(dir.string()) + "</p>\n";
  // Layer images: <name>_s<k>_ct.png and <name>_s<k>_<method>_layer.png (method tags have no '_').
  struct Case {
    std::map<int64_t, std::string> ct;                          // slice -> file
    std::map<int64_t, std::map<std::string, std::string>> layer;  // slice -> method tag -> file
  };
  std::map<std::string, Case> cases;
  // "<name>_s<k>" -> name, k (the last "_s" followed only by digits).
  auto split_slice = [](const std::string& stem, std::string& name, int64_t& k) {
    const size_t at = stem.rfind("_s");
    if (at == std::string::npos || at + 2 >= stem.size()) return false;
    for (size_t i = at + 2; i < stem.size(); ++i)
      if (stem[i] < '0' || stem[i] > '9') return false;
    name = stem.substr(0, at);
    k = std::stoll(stem.substr(at + 2));
    return !name.empty();
  };
  auto ends_with = [](const std::string& f, const std::string& e) {
    return f.size() > e.size() && f.compare(f.size() - e.size(), e.size(), e) == 0;
  };
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    std::string name;
    int64_t k = 0;
    if (ends_with(f, "_layer.png")) {
      const std::string stem = f.substr(0, f.size() - 10);  // <name>_s<k>_<tag>
      const size_t u = stem.rfind('_');
      if (u != std::string::npos && split_slice(stem.substr(0, u), name, k))
        cases[name].layer[k][stem.substr(u + 1)] = e.path().string();
    } else if (ends_with(f, "_ct.png")) {
      if (split_slice(f.substr(0, f.size() - 7), name, k)) cases[name].ct[k] = e.path().string();
    }
  }
  // Metrics per (name, slice, method); method tags in files use '_' where names use '+' (gradcam++ -> gradcampp).
  auto tag_of = [](std::string m) {
    std::string o;
    for (char c : m) o += c == '+' ? 'p' : c;
    return o;
  };
  std::map<std::string, std::map<int64_t, std::map<std::string, json>>> metrics;
  for (const auto& r : rows) {
    const std::string name = r.value("name", std::string());
    if (name.empty()) continue;
    metrics[name][r.value("slice", (int64_t)0)][tag_of(r.value("method", std::string()))] = r;
  }
  int64_t shown = 0;
  for (auto& [name, c] : cases) {
    if (c.ct.empty()) continue;
    if (shown >= opt.max_cases) {
      pg.body += "<p class=\"note\">" + std::to_string(cases.size() - (size_t)shown) +
                 " more cases are not shown (--max-cases).</p>";
      break;
    }
    ++shown;
    std::vector<int64_t> slices;
    for (auto& [k, f] : c.ct) slices.push_back(k);
    if ((int64_t)slices.size() > opt.max_slices) {  // evenly spaced
      std::vector<int64_t> keep;
      for (int64_t i = 0; i < opt.max_slices; ++i)
        keep.push_back(slices[(size_t)(i * (int64_t)(slices.size() - 1) / std::max<int64_t>(1, opt.max_slices - 1))]);
      keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
      slices = keep;
    }
    std::set<std::string> methods;
    for (auto k : slices)
      for (auto& [m, f] : c.layer[k]) methods.insert(m);
    const std::string vid = pg.id("viewer");
    std::string js = "GB.viewers.push({id:'" + vid + "',name:" + js_string(name) + ",slices:[";
    for (size_t i = 0; i < slices.size(); ++i) js += (i ? "," : "") + std::to_string(slices[i]);
    js += "],methods:[";
    bool first = true;
    for (auto& m : methods) js += (first ? "" : ",") + js_string(m), first = false;
    js += "],ct:{";
    first = true;
    for (auto k : slices) {
      js += (first ? "" : ",") + std::to_string(k) + ":" + js_string(data_uri(c.ct[k], "image/png"));
      first = false;
      ++pg.res.images;
    }
    js += "},layer:{";
    first = true;
    for (auto k : slices) {
      js += (first ? "" : ",") + std::to_string(k) + ":{";
      first = false;
      bool f2 = true;
      for (auto& [m, f] : c.layer[k]) {
        js += (f2 ? "" : ",") + js_string(m) + ":" + js_string(data_uri(f, "image/png"));
        f2 = false;
        ++pg.res.images;
      }
      js += "}";
    }
    js += "},metrics:{";
    first = true;
    for (auto k : slices) {
      json per = json::object();
      for (auto& [m, r] : metrics[name][k]) per[m] = r;
      js += (first ? "" : ",") + std::to_string(k) + ":" + per.dump();
      first = false;
    }
    js += "}});\n";
    pg.data_js += js;
    pg.body += "<div class=\"viewer\" id=\"" + vid + "\"></div>\n";
    ++pg.res.viewers;
  }
  if (shown == 0) pg.body += "<p class=\"note\">No slice images in this folder (explain writes them next to the maps).</p>";
  pg.body += "<details><summary>Every map's numbers (" + std::to_string(rows.size()) + " rows)</summary>" +
             render_table(table_of(rows, "one row per (input, slice or 3-D window, method); chance-random and chance-edge are the "
                                         "baselines scored alike")) +
             "</details>\n</section>\n";
  ++pg.res.tables;
}

std::string now_text() {
  std::time_t t = std::time(nullptr);
  char b[64];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return b;
}

}  // namespace

FolderKind detect_folder(const std::string& d) {
  const fs::path dir(d);
  GB_CHECK(fs::is_directory(dir), d, ": not a folder");
  if (fs::exists(dir / "run.json")) return FolderKind::Run;
  if (fs::exists(dir / "metrics.json")) {
    const json j = read_json(dir / "metrics.json");
    if (j.is_object() && j.contains("models")) return FolderKind::Evaluate;
    if (j.is_array()) return FolderKind::Explain;
    fail((dir / "metrics.json").string(), ": neither an evaluate nor an explain result");
  }
  fail(d, ": not a glassbox run, evaluate or explain folder (no run.json or metrics.json)");
}

std::string find_chartjs() {
  for (const char* p : {"/usr/share/javascript/chart.js/chart.min.js", "/usr/share/javascript/chart.js/chart.js",
                        "/usr/share/nodejs/chart.js/dist/chart.umd.js"})
    if (fs::exists(p)) return p;
  fail("report: Chart.js not found; install Debian's libjs-chart.js (apt-get install libjs-chart.js) or pass --chartjs FILE");
}

ReportResult write_report(const ReportOptions& opt) {
  GB_CHECK(!opt.inputs.empty(), "report: give at least one run, evaluate or explain folder");
  GB_CHECK(!opt.out.empty(), "report: --out FILE.html is required");
  GB_CHECK(opt.force || !fs::exists(opt.out), opt.out, ": already exists; use --force to replace it");
  // Check every input before writing anything.
  std::vector<FolderKind> kinds;
  for (const auto& in : opt.inputs) kinds.push_back(detect_folder(in));
  const std::string chartjs = read_text(opt.chartjs.empty() ? find_chartjs() : opt.chartjs);
  Page pg;
  for (size_t i = 0; i < opt.inputs.size(); ++i) {
    const fs::path dir(opt.inputs[i]);
    if (kinds[i] == FolderKind::Run) add_run(pg, dir);
    else if (kinds[i] == FolderKind::Evaluate) add_evaluate(pg, dir);
    else add_explain(pg, dir, opt);
  }
  std::string html = page_head(opt.title, chartjs);
  html += "<header><h1>" + escape(opt.title) + "</h1><p>made " + now_text() + " by glassbox" +
          (opt.command.empty() ? "" : " (<code>" + escape(opt.command) + "</code>)") + "</p></header>\n<main>\n";
  html += pg.body;
  html += how_to_read();
  html += "</main>\n<pre id=\"gb-selftest\" hidden></pre>\n<script>\n" + pg.data_js + "</script>\n" + page_script() +
          "</body></html>\n";
  io::write_file_atomically(opt.out, "report", [&](std::FILE* f) { std::fwrite(html.data(), 1, html.size(), f); });
  pg.res.path = opt.out;
  pg.res.bytes = (int64_t)html.size();
  return pg.res;
}

}  // namespace gb::report

#include "draw/plot.h"

#include <plplot.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "tensor/error.h"

namespace gb::draw {
namespace {

// PLplot keeps its streams, handlers and dispatch table in globals: one plot at a time.
std::mutex g_plplot_mutex;

// cmap0 indices. PLplot's background is index 0.
enum : PLINT { kPaper = 0, kInk, kGrid, kLossRaw, kLoss, kLr, kLiver, kTumour, kMuted, kNumColours };
constexpr PLINT kRgb[kNumColours][3] = {
    {255, 255, 255},  // paper
    {40, 40, 40},     // ink: frame, tick labels, text
    {225, 225, 225},  // grid
    {160, 190, 225},  // raw loss: pale blue, so the smoothed line reads on top of it
    {25, 80, 160},    // smoothed loss
    {230, 120, 20},   // learning rate
    {30, 150, 60},    // liver
    {210, 40, 40},    // tumour
    {120, 120, 120},  // muted notes
};

// The finite points of (x, y); with log10y the y values must be > 0 and are replaced by log10(y).
struct Line {
  std::vector<PLFLT> x, y;
};
Line finite_points(const std::vector<double>& x, const std::vector<double>& y, bool log10y = false) {
  Line l;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]) || (log10y && y[i] <= 0)) continue;
    l.x.push_back(x[i]);
    l.y.push_back(log10y ? std::log10(y[i]) : y[i]);
  }
  return l;
}

void plot_line(const Line& l, PLINT colour, PLFLT width, PLINT style = 1) {
  if (l.x.empty()) return;
  plcol0(colour);
  plwidth(width);
  pllsty(style);
  if (l.x.size() == 1)
    plstring(1, l.x.data(), l.y.data(), "#(850)");  // a lone point still shows
  else
    plline((PLINT)l.x.size(), l.x.data(), l.y.data());
  pllsty(1);
}

std::string fmt_value(double v, int digits = 6) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

// The last finite value of v (NaN when there is none).
double last_finite(const std::vector<double>& v) {
  for (size_t i = v.size(); i-- > 0;)
    if (std::isfinite(v[i])) return v[i];
  return std::nan("");
}

// A log axis labelled at 1-2-5 (or denser) multiples of powers of ten: PLplot's own log axis only
// labels whole decades, and a loss curve usually spans less than two. Draws horizontal grid lines,
// ticks and labels on the left edge of the current viewport (window y = log10 value).
void log_axis_left(double ymin, double ymax, double xmin, double xmax) {
  static const std::vector<std::vector<double>> kMantissas = {
      {1}, {1, 2, 5}, {1, 1.5, 2, 3, 5, 7}, {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}};
  std::vector<double> ticks;
  for (const auto& m : kMantissas) {
    ticks.clear();
    for (int e = (int)std::floor(ymin) - 1; e <= (int)std::ceil(ymax); ++e)
      for (double k : m) {
        double y = std::log10(k) + e;
        if (y >= ymin && y <= ymax) ticks.push_back(y);
      }
    if (ticks.size() >= 4) break;
  }
  if (ticks.size() > 12) {  // many decades: label every n-th one
    std::vector<double> thin;
    size_t n = (ticks.size() + 9) / 10;
    for (size_t i = 0; i < ticks.size(); i += n) thin.push_back(ticks[i]);
    ticks.swap(thin);
  }
  const double len = 0.008 * (xmax - xmin);
  for (double y : ticks) {
    plcol0(kGrid);
    plwidth(1);
    pljoin(xmin, y, xmax, y);
    plcol0(kInk);
    pljoin(xmin, y, xmin + len, y);
    plmtex("lv", 0.7, (y - ymin) / (ymax - ymin), 1.0, fmt_value(std::pow(10.0, y)).c_str());
  }
}

// PLplot's fatal path prints, then calls exit() unless the handler does not return: throw so a
// failed plot can never end a training run. The checks before plinit keep this for the unexpected.
int on_plplot_exit(const char* msg) { throw Error(std::string("PLplot: ") + (msg ? msg : "fatal error")); }

bool have_pngcairo() {
  static const bool ok = [] {
    std::vector<const char*> menu(256), names(256);
    const char** mp = menu.data();
    const char** np = names.data();
    int n = (int)names.size();
    plgDevs(&mp, &np, &n);
    for (int i = 0; i < n; ++i)
      if (np[i] && std::strcmp(np[i], "pngcairo") == 0) return true;
    return false;
  }();
  return ok;
}

// One PLplot stream of our own, ended (file closed) and the caller's stream restored on every exit.
struct Stream {
  PLINT previous = 0, id = -1;
  PLINT errcode = 0;
  char errmsg[1024] = {0};
  Stream() {
    plgstrm(&previous);
    plmkstrm(&id);
    plsError(&errcode, errmsg);  // recoverable errors go here instead of stderr
  }
  ~Stream() {
    plend1();
    plsstrm(previous);
  }
};

void check_lengths(const std::string& path, const char* what, const std::vector<double>& v, size_t n,
                   const char* of) {
  GB_CHECK(v.empty() || v.size() == n, path, ": training curves: ", what, " has ", v.size(), " values but ", of,
           " has ", n);
}

void draw(const TrainingCurves& c, const PlotOptions& opt) {
  // ---- data
  const bool all_positive =
      std::all_of(c.loss.begin(), c.loss.end(), [](double v) { return !std::isfinite(v) || v > 0; });
  const bool log_y = opt.log_loss && all_positive;
  Line raw = finite_points(c.step, c.loss, log_y);
  Line smooth = c.loss_smooth.empty() ? Line{} : finite_points(c.step, c.loss_smooth, log_y);
  Line lr = c.lr.empty() ? Line{} : finite_points(c.step, c.lr);
  Line liver = finite_points(c.val_step, c.val_liver_dice);
  Line tumour = finite_points(c.val_step, c.val_tumour_dice);

  double xmin = raw.x.front(), xmax = raw.x.front();
  for (const Line* l : {&raw, &liver, &tumour})
    for (double x : l->x) xmin = std::min(xmin, x), xmax = std::max(xmax, x);
  if (xmax <= xmin) xmin -= 1, xmax += 1;
  double ymin = raw.y.front(), ymax = raw.y.front();
  for (const Line* l : {&raw, &smooth})
    for (double y : l->y) ymin = std::min(ymin, y), ymax = std::max(ymax, y);
  double span = std::max(ymax - ymin, log_y ? 0.1 : std::max(1e-6, 0.05 * std::fabs(ymax)));
  double mid = 0.5 * (ymin + ymax);
  ymin = std::min(ymin, mid - 0.5 * span) - 0.05 * span;
  ymax = std::max(ymax, mid + 0.5 * span) + 0.05 * span;
  if (!log_y && ymin > 0 && ymin < 0.25 * ymax) ymin = 0;  // a linear loss axis reads best from 0
  double lr_max = 0;
  for (double v : lr.y) lr_max = std::max(lr_max, v);
  const bool show_lr = !lr.x.empty() && lr_max > 0;

  // ---- page
  pladv(0);
  plvpor(0, 1, 0, 1);
  plwind(0, 1, 0, 1);
  plcol0(kInk);
  plschr(0, 1.45);
  plptex(0.5, 0.955, 1, 0, 0.5, c.title.c_str());
  plschr(0, 1.0);

  const PLFLT vx0 = 0.09, vx1 = show_lr ? 0.89 : 0.95;
  // ---- top panel: loss (and lr)
  plvpor(vx0, vx1, 0.50, 0.89);
  plwind(xmin, xmax, ymin, ymax);
  plcol0(kGrid);
  plwidth(1);
  plbox("g", 0, 0, log_y ? "" : "g", 0, 0);
  if (log_y) log_axis_left(ymin, ymax, xmin, xmax);
  plot_line(raw, smooth.x.empty() ? kLoss : kLossRaw, smooth.x.empty() ? 1.5 : 1.0);
  plot_line(smooth, kLoss, 2.5);
  plcol0(kInk);
  plwidth(1.2);
  std::string yopt = std::string(show_lr ? "b" : "bc") + (log_y ? "" : "nstv");
  plbox("bcnst", 0, 0, yopt.c_str(), 0, 0);
  plmtex("l", 4.2, 0.5, 0.5, log_y ? "loss (log scale)" : "loss");
  std::string last = "last " + fmt_value(last_finite(c.loss_smooth.empty() ? c.loss : c.loss_smooth), 4);
  plcol0(kMuted);
  plmtex("t", 0.8, 0.0, 0.0, ("training loss, " + last).c_str());
  if (show_lr) {
    plwind(xmin, xmax, 0, lr_max * 1.08);
    plot_line(lr, kLr, 1.8, 2);
    plcol0(kInk);
    plwidth(1.2);
    plbox("", 0, 0, "cmstv", 0, 0);
    plcol0(kLr);
    plmtex("r", 5.2, 0.5, 0.5, "learning rate");
  }
  {
    std::vector<const char*> text;
    std::vector<PLINT> opts, colours, styles;
    std::vector<PLFLT> widths;
    auto add = [&](const char* t, PLINT col, PLFLT w, PLINT style) {
      text.push_back(t), opts.push_back(PL_LEGEND_LINE), colours.push_back(col), widths.push_back(w),
          styles.push_back(style);
    };
    if (!smooth.x.empty()) add("loss (per step)", kLossRaw, 1.0, 1), add("loss (smoothed)", kLoss, 2.5, 1);
    else add("loss", kLoss, 1.5, 1);
    if (show_lr) add("learning rate (right axis)", kLr, 1.8, 2);
    std::vector<PLINT> text_colours(text.size(), kInk);
    PLFLT lw, lh;
    plwidth(1);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.015, 0.03, 0.07, kPaper, kGrid, 1, 0, 0,
             (PLINT)text.size(), opts.data(), 1.0, 0.9, 2.0, 0.0, text_colours.data(), text.data(), nullptr,
             nullptr, nullptr, nullptr, colours.data(), styles.data(), widths.data(), nullptr, nullptr, nullptr,
             nullptr);
  }

  // ---- bottom panel: validation Dice
  plvpor(vx0, vx1, 0.08, 0.38);
  plwind(xmin, xmax, 0, 1.0);
  plcol0(kGrid);
  plwidth(1);
  plbox("g", 0, 0, "g", 0.2, 0);
  plot_line(liver, kLiver, 2.2);
  plot_line(tumour, kTumour, 2.2);
  for (auto [l, col] : {std::pair<const Line*, PLINT>{&liver, kLiver}, {&tumour, kTumour}}) {
    if (l->x.size() < 2 || l->x.size() > 60) continue;  // markers while they stay readable
    plcol0(col);
    plschr(0, 0.8);
    plstring((PLINT)l->x.size(), l->x.data(), l->y.data(), "#(850)");
    plschr(0, 1.0);
  }
  plcol0(kInk);
  plwidth(1.2);
  plbox("bcnst", 0, 0, "bcnstv", 0.2, 0);
  plmtex("l", 4.2, 0.5, 0.5, "Dice");
  plmtex("b", 2.6, 0.5, 0.5, "step");
  plcol0(kMuted);
  if (c.val_step.empty()) {
    plmtex("t", 0.8, 0.0, 0.0, "validation Dice");
    plptex(0.5 * (xmin + xmax), 0.5, 1, 0, 0.5, "no validation yet");
  } else {
    std::string t = "validation Dice, last: liver " + fmt_value(c.val_liver_dice.back(), 3) + ", tumour " +
                    fmt_value(c.val_tumour_dice.back(), 3);
    plmtex("t", 0.8, 0.0, 0.0, t.c_str());
    const char* text[] = {"liver", "tumour"};
    PLINT opts[] = {PL_LEGEND_LINE | PL_LEGEND_SYMBOL, PL_LEGEND_LINE | PL_LEGEND_SYMBOL};
    PLINT colours[] = {kLiver, kTumour}, styles[] = {1, 1}, text_colours[] = {kInk, kInk}, nsym[] = {1, 1};
    PLFLT widths[] = {2.2, 2.2}, sym_scales[] = {0.8, 0.8};
    const char* symbols[] = {"#(850)", "#(850)"};
    PLFLT lw, lh;
    plwidth(1);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_BOTTOM | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.015, 0.05, 0.07, kPaper, kGrid, 1, 0, 0,
             2, opts, 1.0, 0.9, 2.0, 0.0, text_colours, text, nullptr, nullptr, nullptr, nullptr, colours, styles,
             widths, colours, sym_scales, nsym, symbols);
  }
}

}  // namespace

void write_training_curves(const std::string& path, const TrainingCurves& c, const PlotOptions& opt) {
  // ---- checks first: nothing is written for a bad request
  GB_CHECK(!path.empty(), "write_training_curves: empty output path");
  GB_CHECK(!c.step.empty() && !c.loss.empty(), path, ": training curves: the loss series is empty (no steps logged)");
  GB_CHECK(c.loss.size() == c.step.size(), path, ": training curves: loss has ", c.loss.size(),
           " values but step has ", c.step.size());
  check_lengths(path, "loss_smooth", c.loss_smooth, c.step.size(), "step");
  check_lengths(path, "lr", c.lr, c.step.size(), "step");
  GB_CHECK(c.val_liver_dice.size() == c.val_step.size() && c.val_tumour_dice.size() == c.val_step.size(), path,
           ": training curves: val_step, val_liver_dice and val_tumour_dice have ", c.val_step.size(), ", ",
           c.val_liver_dice.size(), " and ", c.val_tumour_dice.size(), " values (they must match)");
  GB_CHECK(opt.width >= 200 && opt.width <= 8000 && opt.height >= 200 && opt.height <= 8000, path,
           ": training curves: image size ", opt.width, "x", opt.height, " must be within 200..8000 pixels");
  {
    bool any = false;
    for (size_t i = 0; i < c.loss.size(); ++i) any |= std::isfinite(c.step[i]) && std::isfinite(c.loss[i]);
    GB_CHECK(any, path, ": training curves: no finite loss value to plot (", c.loss.size(), " steps, all NaN/inf)");
  }

  std::lock_guard<std::mutex> lock(g_plplot_mutex);
  GB_CHECK(have_pngcairo(), path,
           ": training curves: PLplot's pngcairo device is missing (install plplot-driver-cairo)");
  const std::string tmp = path + ".tmp";
  // Opened here rather than by PLplot, which asks for another name on stdin when it cannot open one.
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(path, ": cannot write training curves (", tmp, ": ", std::strerror(errno), ")");
  plsexit(on_plplot_exit);
  std::string error;
  try {
    Stream s;
    plsdev("pngcairo");
    plsfile(f);  // PLplot owns f from here and closes it in plend1
    plspage(0, 0, opt.width, opt.height, 0, 0);
    plscmap0n(kNumColours);
    for (PLINT i = 0; i < kNumColours; ++i) plscol0(i, kRgb[i][0], kRgb[i][1], kRgb[i][2]);
    plinit();
    draw(c, opt);
    if (s.errcode) error = s.errmsg;
  } catch (const Error& e) {
    error = e.what();
  }
  plsexit(nullptr);
  if (error.empty()) {
    std::FILE* chk = std::fopen(tmp.c_str(), "rb");
    unsigned char sig[8] = {0};
    bool png = chk && std::fread(sig, 1, 8, chk) == 8 && sig[0] == 0x89 && sig[1] == 'P';
    if (chk) std::fclose(chk);
    if (!png) error = "the PNG came out empty (disk full?)";
  }
  if (!error.empty()) {
    std::remove(tmp.c_str());
    // PLplot's messages carry their own line breaks and stars: keep one line.
    for (char& ch : error)
      if (ch == '\n') ch = ' ';
    fail(path, ": training curves: ", error);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot rename ", tmp, " into place (", std::strerror(e), ")");
  }
}

}  // namespace gb::draw

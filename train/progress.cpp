#include "train/progress.h"

#include <unistd.h>

namespace gb::train {

Progress::Progress(std::FILE* out, int tty, double plain_every_s) : out_(out), every_(plain_every_s) {
  live_ = tty < 0 ? ::isatty(::fileno(out)) != 0 : tty == 1;
}

void Progress::update(const std::string& line, bool force) {
  current_ = line;
  if (live_) {
    std::fprintf(out_, "\r%s\033[K", line.c_str());
    shown_ = true;
    std::fflush(out_);
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (force || !printed_any_ || std::chrono::duration<double>(now - last_).count() >= every_) {
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
    last_ = now;
    printed_any_ = true;
  }
}

void Progress::message(const std::string& line) {
  if (live_ && shown_) {
    std::fprintf(out_, "\r%s\033[K\n%s\033[K", line.c_str(), current_.c_str());
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void Progress::finish() {
  if (live_ && shown_) std::fprintf(out_, "\n");
  shown_ = false;
  std::fflush(out_);
}

std::string format_duration(double s) {
  if (!(s >= 0)) return "?";
  char buf[32];
  const long t = (long)(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

}  // namespace gb::train

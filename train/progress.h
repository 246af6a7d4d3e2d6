// Progress of long work: on a terminal one live line rewritten in place ("\r", cleared to the end);
// otherwise (a log file, CI) a plain line at most every `plain_every_s` seconds and at the end.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

namespace gb::train {

class Progress {
 public:
  // out: where to write (stdout by default); tty: -1 detect (isatty), 0 plain, 1 live.
  explicit Progress(std::FILE* out = stdout, int tty = -1, double plain_every_s = 10.0);
  // Shows `line`; `force` prints a plain line now even if the interval has not passed.
  void update(const std::string& line, bool force = false);
  // Prints a line that stays (a message between updates), keeping the live line below it.
  void message(const std::string& line);
  // Ends the live line (newline) so that later output starts on a fresh line.
  void finish();
  bool live() const { return live_; }

 private:
  std::FILE* out_;
  bool live_;
  double every_;
  std::chrono::steady_clock::time_point last_{};
  bool shown_ = false, printed_any_ = false;
  std::string current_;
};

// "1m05s", "12s", "2h03m".
std::string format_duration(double seconds);

}  // namespace gb::train

// Shared set-up of the glassbox benchmarks.
#pragma once
#include <benchmark/benchmark.h>

namespace gb::bench {

// Our timing hygiene for every registered benchmark: milliseconds of wall-clock time, a warm-up,
// a minimum run time, 3 repetitions, aggregates (mean/median/stddev/cv) only.
inline benchmark::internal::Benchmark* timed(benchmark::internal::Benchmark* b, double warmup_s, double min_time_s) {
  return b->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinWarmUpTime(warmup_s)
      ->MinTime(min_time_s)
      ->Repetitions(3)
      ->ReportAggregatesOnly(true);
}

}  // namespace gb::bench

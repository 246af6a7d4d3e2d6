// Static-partition thread pool for the CPU kernels. Work [0, n) is cut into at most num_threads()
// contiguous chunks of at least `grain` items; each chunk runs exactly once. Kernels split *outputs*
// across chunks (never race on a reduction), so results are bitwise identical for any thread count.
// Nested calls run serially on the calling thread. Thread count: GLASSBOX_THREADS, else all cores.
// Workers spin briefly (50 us, yielding) between regions before they sleep: parallel.cpp says why.
#pragma once
#include <cstdint>
#include <functional>

namespace gb::cpu {

int num_threads();
void set_num_threads(int n);  // 1 disables threading
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace gb::cpu

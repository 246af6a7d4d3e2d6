#!/usr/bin/env bash
# The whole test suite: install what is missing, build with warnings as errors, run every test.
#   bash scripts/test.sh              normal build (build/)
#   bash scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--sanitize" ]; then
  export BUILD_DIR=build-asan
  bash scripts/setup.sh -DGLASSBOX_WERROR=ON -DGLASSBOX_SANITIZE=address,undefined -DGLASSBOX_BENCH=OFF \
       -DCMAKE_BUILD_TYPE=RelWithDebInfo
else
  export BUILD_DIR=build
  bash scripts/setup.sh -DGLASSBOX_WERROR=ON
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"

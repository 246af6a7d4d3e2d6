#!/usr/bin/env bash
# The whole test suite: install what is missing, build with warnings as errors, run every test.
#   bash scripts/test.sh              normal build (build/)
#   bash scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
# Chromium opens the HTML report in the report test (tests/report); fonts so its screenshot has text.
export GB_SETUP_EXTRA="chromium fonts-dejavu-core"
if [ "${1:-}" = "--sanitize" ]; then
  export BUILD_DIR=build-asan
  # -O1 -g1 (line tables only) rather than RelWithDebInfo's -O2 -g: reports still name file:line, and
  # each file compiles in about half the time (the sanitizer build is most of CI's time). No benches.
  bash scripts/setup.sh -DGLASSBOX_WERROR=ON -DGLASSBOX_SANITIZE=address,undefined -DGLASSBOX_BENCH=OFF \
       -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  # Leaks inside system libraries (fontconfig, OpenJPEG) are suppressed; see tests/sanitize/lsan.supp.
  export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
else
  export BUILD_DIR=build
  bash scripts/setup.sh -DGLASSBOX_WERROR=ON
fi
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"

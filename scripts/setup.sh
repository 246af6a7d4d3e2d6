#!/usr/bin/env bash
# Installs what is missing (Debian packages), configures and builds glassbox into build/ (or $BUILD_DIR).
# Used by the two README commands and by CI. Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config zlib1g-dev libnifti2-dev libstb-dev libgtest-dev libgmock-dev
      libbenchmark-dev libopenblas-dev libcli11-dev nlohmann-json3-dev libfmt-dev
      ccache libgdcm-dev libplplot-dev plplot-driver-cairo libjs-chart.js)
# The test command also needs a headless browser for the report test (scripts/test.sh sets this).
[ -n "${GB_SETUP_EXTRA:-}" ] && pkgs+=(${GB_SETUP_EXTRA})
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)
launcher=()
# ccache, when installed, makes rebuilds (and the sanitizer build after the normal one) cheaper.
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$jobs"

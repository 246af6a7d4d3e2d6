#!/usr/bin/env bash
# ctest install_consumer: install this build the way a user would, then configure, build and run
# examples/consumer (find_package(glassbox) + glassbox::glassbox) against the installed copy only.
#   consumer.sh <cmake> <glassbox build dir> <glassbox source dir> <C++ compiler>
# Passes when the example prints the micro TransUNet's output shape (ctest matches it).
set -euo pipefail
cmake=$1 build=$2 src=$3 cxx=$4
prefix=$build/install-test/prefix
work=$build/install-test/consumer
rm -rf "$prefix" "$work"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
# glassbox_DIR is not set: find_package must find the package from the prefix alone.
"$cmake" -S "$src/examples/consumer" -B "$work" -DCMAKE_BUILD_TYPE=Release \
         -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
"$cmake" --build "$work" -j 2
"$work/consumer"

#!/usr/bin/env bash
# The main job: install what is missing, build, and run `glassbox demo` on the built-in phantom data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec ./build/glassbox demo "$@"

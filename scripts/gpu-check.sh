#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU (CI has none): builds Release with CUDA, runs the op
# harness (a column per backend: passes / fails / not supported; "cuda-emu" is the same kernels on
# the CPU, so a case that passes there and fails on "cuda" points at the launch or device code), the
# op tests, the CUDA tests (tests/cuda: the RealCudaDevice cases train tiny and unet2d-tiny on the GPU
# against the CPU, the RealCudaDeviceXai cases explain with them there; the stand-in device's
# FakeCudaDeviceXai cases, about 40 s of serial emulation, are left to the CPU runs), and `glassbox train --device cuda` on the tiny model, writing every result under
# $OUT (default gpu-check-out/). Made to fit a short GPU window (about 8 minutes on an H200 with 16
# cores): only the targets it runs are built, with every core; every step has a time limit.
#   OUT=/some/dir bash scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check-out}
mkdir -p "$out"
t0=$(date +%s)
step() { echo "[$(( $(date +%s) - t0 )) s] $*" | tee -a "$out/summary.txt"; }
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || step "nvidia-smi failed (no driver?)"
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache) || launcher=()
step "configure"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DGLASSBOX_CUDA=ON -DGLASSBOX_BENCH=OFF \
      -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" "${launcher[@]}" > "$out/configure.txt" 2>&1 || { step "configure FAILED"; exit 1; }
step "build"
cmake --build build-gpu -j"$(nproc)" --target glassbox_ops gb_test_ops gb_test_cuda glassbox > "$out/build.txt" 2>&1 ||
  { step "build FAILED (see build.txt)"; exit 1; }
step "op harness (every case, every backend)"
GLASSBOX_OPS_VERBOSE=1 timeout 120 build-gpu/glassbox_ops list > "$out/ops-list.txt" 2>&1
echo "glassbox_ops list: exit $?" | tee -a "$out/summary.txt"
tail -4 "$out/ops-list.txt" | tee -a "$out/summary.txt"
step "op tests"
timeout 180 build-gpu/gb_test_ops > "$out/gb_test_ops.txt" 2>&1
echo "gb_test_ops: exit $?" | tee -a "$out/summary.txt"
tail -3 "$out/gb_test_ops.txt" | tee -a "$out/summary.txt"
step "CUDA tests (caching allocator, emulator, real-device training against the CPU)"
timeout 120 build-gpu/gb_test_cuda --gtest_filter=-FakeCudaDeviceXai.* > "$out/gb_test_cuda.txt" 2>&1
echo "gb_test_cuda: exit $?" | tee -a "$out/summary.txt"
grep -E "SKIPPED|FAILED|PASSED" "$out/gb_test_cuda.txt" | head -12 | tee -a "$out/summary.txt"
step "--device cuda on the tiny model"
for dev in cuda cpu; do
  timeout 120 build-gpu/glassbox train --model tiny --data phantom:3 --steps 20 --batch 4 --size 64 --phantom-size 64 \
    --phantom-depth 8 --val-every 10 --device $dev --out "$out/run-$dev" --force > "$out/device-$dev.txt" 2>&1
  echo "train --device $dev: exit $?" | tee -a "$out/summary.txt"
  grep -E "schedule|running on|error" "$out/device-$dev.txt" | head -3 | tee -a "$out/summary.txt"
  # steps 10..19 (after warm-up): images/s from log.csv's images_per_s column, when present
  [ -f "$out/run-$dev/log.csv" ] && tail -n 10 "$out/run-$dev/log.csv" > "$out/run-$dev-last10.csv"
done
step "done"

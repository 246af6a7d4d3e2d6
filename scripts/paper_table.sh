#!/usr/bin/env bash
# The comparison table of issue 9 part 5: three models trained with the same CPU budget, then scored
# on the same held-out cases by one `glassbox evaluate` (per-case means with 95% bootstrap intervals,
# paired Wilcoxon tests between every pair of models, metrics.csv + metrics.json).
#
#   bash scripts/paper_table.sh DATA OUT [BUDGET_SECONDS]
#     DATA    a LiTS / MSD / slice folder, or phantom:N[:SEED]
#     OUT     folder for the runs (OUT/<model>/) and the table (OUT/eval/)
#     BUDGET  wall-clock seconds of training per model (default 3600), on THREADS threads
#   environment: MODELS (default "tiny unet2d-tiny tiny-vit"), THREADS (default: all cores), SIZE (128),
#                BATCH (4), VAL_CASES (5), SEED (1234), GLASSBOX (default build/glassbox)
#
# "Same budget" = the same threads and the same training wall time: each model's seconds per step
# are measured first (the slope between a 5-step and a 25-step probe run, so start-up and loading
# cancel), and its step count is BUDGET / (seconds per step). Every run uses one seed, so all three
# hold out the same validation cases, and the table is computed on those.
set -euo pipefail

DATA=${1:?usage: paper_table.sh DATA OUT [BUDGET_SECONDS]}
OUT=${2:?usage: paper_table.sh DATA OUT [BUDGET_SECONDS]}
BUDGET=${3:-3600}
MODELS=${MODELS:-"tiny unet2d-tiny tiny-vit"}
THREADS=${THREADS:-$(nproc)}
SIZE=${SIZE:-128}
BATCH=${BATCH:-4}
VAL_CASES=${VAL_CASES:-5}
SEED=${SEED:-1234}
GB=${GLASSBOX:-build/glassbox}

[ -x "$GB" ] || { echo "paper_table.sh: $GB not found (build first, or set GLASSBOX)" >&2; exit 1; }
mkdir -p "$OUT"

common=(--size "$SIZE" --data "$DATA" --batch "$BATCH" --val-cases "$VAL_CASES" --seed "$SEED" --threads "$THREADS")

seconds_of() {  # seconds_of CMD...: wall time of a command, its output to OUT/probe.log
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >>"$OUT/probe.log" 2>&1
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

checkpoints=()
for m in $MODELS; do
  probe=(train --model "$m" "${common[@]}" --val-every 100000 --ckpt-every 100000 --force)
  a=$(seconds_of "$GB" "${probe[@]}" --steps 5 --out "$OUT/probe-$m")
  b=$(seconds_of "$GB" "${probe[@]}" --steps 25 --out "$OUT/probe-$m")
  per_step=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f", (b - a) / 20 }')
  steps=$(awk -v t="$BUDGET" -v s="$per_step" 'BEGIN { n = s > 0 ? int(t / s) : 10; print n < 10 ? 10 : n }')
  rm -rf "$OUT/probe-$m"
  printf '%s: %.3f s/step on %s threads -> %s steps in %s s\n' "$m" "$per_step" "$THREADS" "$steps" "$BUDGET"
  "$GB" train --model "$m" "${common[@]}" --steps "$steps" --out "$OUT/$m" --force
  checkpoints+=(--model "$OUT/$m/best.safetensors")
done

# The held-out cases (identical for every run: same seed, same data).
mapfile -t cases < <(grep -v '^\s*$' "$OUT/$(echo "$MODELS" | awk '{print $1}')/val_cases.txt")
"$GB" evaluate "${checkpoints[@]}" --data "$DATA" --cases "${cases[@]}" --out "$OUT/eval" --force
echo "table: $OUT/eval/metrics.csv, $OUT/eval/metrics.json"

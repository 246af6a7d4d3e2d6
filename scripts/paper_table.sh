#!/usr/bin/env bash
# The paper's experiment (issue 9 part 5, issue 10 part 9): TransUNet, U-Net 2D and 3D U-Net trained
# with the same CPU budget on the same split and the same preprocessing, scored by one
# `glassbox evaluate` (per-case means with 95% bootstrap intervals, paired Wilcoxon tests, pooled
# figures, lesion detection), then explained by Grad-CAM and IG on every held-out tumour with the
# saliency metrics (and chance baselines) of `glassbox explain`.
#
#   bash scripts/paper_table.sh DATA OUT [BUDGET_SECONDS]
#     DATA    a slice folder with complete stacks (the LiTS-slices export), or phantom:N[:SEED]
#     OUT     folder for the runs (OUT/<model>/), the tables (OUT/eval-*/) and the maps (OUT/explain-<model>/)
#     BUDGET  seconds of training per model (default 600), on THREADS threads
#   environment: MODELS (default "tiny unet2d-tiny unet3d-small"), THREADS (all cores), SIZE (128),
#                BATCH (4; 3-D models BATCH3D, 2), PATCH3D ("32 64 64"), VAL_LIST (held out by every
#                model), STACK_VAL (the held-out complete stacks: every model is scored on these),
#                TRAIN_ARGS ("--optimizer adamw --lr 1e-3"), VALIDATIONS (4 per run), IG_STEPS (32), SEED (1234),
#                GLASSBOX (default build/glassbox)
#
# Data. 2-D models train on the slice folder, 3-D models on stacks:DATA:SIZE (the folder's complete
# stacks as volumes, every slice resized to SIZE x SIZE the way 2-D preprocessing resizes it), so all
# see the same 8-bit pixels at the same in-plane size. Every model holds out the same volumes: the 2-D
# models VAL_LIST, the 3-D model the complete stacks among them (STACK_VAL); the 3-D model can only
# train on the remaining complete stacks (2 volumes for the LiTS export), which the table states.
# On phantoms all three train on the volumes and hold out VAL_LIST.
#
# "Same budget" = the same threads and the same training time: each model's seconds per step are
# measured first (the slope between a 5-step and a 25-step probe run, so start-up and loading cancel;
# run it on an idle machine), and its step count is BUDGET / (seconds per step). Validation passes
# during training are not counted. The final weights (model.safetensors) are scored, not
# best.safetensors, which was chosen on the same held-out cases.
set -euo pipefail

DATA=${1:?usage: paper_table.sh DATA OUT [BUDGET_SECONDS]}
OUT=${2:?usage: paper_table.sh DATA OUT [BUDGET_SECONDS]}
BUDGET=${3:-600}
MODELS=${MODELS:-"tiny unet2d-tiny unet3d-small"}
THREADS=${THREADS:-$(nproc)}
SIZE=${SIZE:-128}
BATCH=${BATCH:-4}
BATCH3D=${BATCH3D:-2}
PATCH3D=${PATCH3D:-"32 64 64"}
SEED=${SEED:-1234}
TRAIN_ARGS=${TRAIN_ARGS:-"--optimizer adamw --lr 1e-3"}
IG_STEPS=${IG_STEPS:-32}
VALIDATIONS=${VALIDATIONS:-4}
GB=${GLASSBOX:-build/glassbox}
if [[ "$DATA" == phantom:* ]]; then
  VAL_LIST=${VAL_LIST:-"volume-1,volume-4,volume-7"}
  STACK_VAL=${STACK_VAL:-$VAL_LIST}
  DATA3D=$DATA
  SCORE_DATA=$DATA
  PHANTOM_ARGS=(--phantom-size "$SIZE" --phantom-depth 32)
else
  VAL_LIST=${VAL_LIST:-"volume-8,volume-18,volume-35,volume-37,volume-48"}
  STACK_VAL=${STACK_VAL:-"volume-35,volume-37"}
  DATA3D="stacks:$DATA:$SIZE"
  SCORE_DATA=$DATA3D
  PHANTOM_ARGS=()
fi

[ -x "$GB" ] || { echo "paper_table.sh: $GB not found (build first, or set GLASSBOX)" >&2; exit 1; }
mkdir -p "$OUT"
read -r -a extra <<<"$TRAIN_ARGS"
read -r -a patch <<<"$PATCH3D"

args_of() {  # args_of MODEL: the training arguments of one model (data, split, batch, size)
  if [[ "$1" == unet3d* ]]; then
    echo --data "$DATA3D" --val-list "$STACK_VAL" --batch "$BATCH3D" --patch "${patch[@]}"
  else
    echo --data "$DATA" --val-list "$VAL_LIST" --batch "$BATCH" --size "$SIZE"
  fi
}

seconds_of() {  # seconds_of CMD...: wall time of a command, its output to OUT/probe.log
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >>"$OUT/probe.log" 2>&1
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }'
}

# 1. Steps per model from its measured seconds per step (all probes first, so they see the same machine).
declare -A steps
for m in $MODELS; do
  read -r -a a <<<"$(args_of "$m")"
  probe=(train --model "$m" "${a[@]}" "${PHANTOM_ARGS[@]}" "${extra[@]}" --seed "$SEED" --threads "$THREADS"
         --val-every 100000 --ckpt-every 100000 --force)
  t5=$(seconds_of "$GB" "${probe[@]}" --steps 5 --out "$OUT/probe-$m")
  t25=$(seconds_of "$GB" "${probe[@]}" --steps 25 --out "$OUT/probe-$m")
  per_step=$(awk -v a="$t5" -v b="$t25" 'BEGIN { printf "%.6f", (b - a) / 20 }')
  steps[$m]=$(awk -v t="$BUDGET" -v s="$per_step" 'BEGIN { n = s > 0 ? int(t / s) : 10; print n < 10 ? 10 : n }')
  rm -rf "$OUT/probe-$m"
  printf '%s: %.3f s/step on %s threads -> %s steps in %s s\n' "$m" "$per_step" "$THREADS" "${steps[$m]}" "$BUDGET" |
    tee -a "$OUT/budget.txt"
done

# 2. Training.
checkpoints=()
checkpoints2d=()
for m in $MODELS; do
  read -r -a a <<<"$(args_of "$m")"
  "$GB" train --model "$m" "${a[@]}" "${PHANTOM_ARGS[@]}" "${extra[@]}" --seed "$SEED" --threads "$THREADS" \
    --steps "${steps[$m]}" --val-every $(( (steps[$m] + VALIDATIONS - 1) / VALIDATIONS )) --out "$OUT/$m" --force
  checkpoints+=(--model "$OUT/$m/model.safetensors")
  [[ "$m" == unet3d* ]] || checkpoints2d+=(--model "$OUT/$m/model.safetensors")
done

# 3. Scores: every model on the held-out stacks (volumes); the 2-D models also on every held-out volume.
IFS=, read -r -a stack_cases <<<"$STACK_VAL"
IFS=, read -r -a val_cases <<<"$VAL_LIST"
"$GB" evaluate "${checkpoints[@]}" --data "$SCORE_DATA" --cases "${stack_cases[@]}" --out "$OUT/eval-stacks" --force
if [[ "$DATA" != phantom:* && ${#checkpoints2d[@]} -gt 0 ]]; then
  "$GB" evaluate "${checkpoints2d[@]}" --data "$DATA" --cases "${val_cases[@]}" --out "$OUT/eval-slices" --force
fi

# 4. Saliency: Grad-CAM and IG of the true tumour (T = tumour logits over the true tumour) on every
#    held-out stack, scored against the tumour mask, for every model on the same planes.
for m in $MODELS; do
  "$GB" explain --model "$OUT/$m/model.safetensors" --in "$SCORE_DATA" --cases "$STACK_VAL" --region truth \
    --method gradcam,ig --steps "$IG_STEPS" --out "$OUT/explain-$m" --force
done
echo "tables: $OUT/eval-stacks/metrics.{csv,json}, $OUT/eval-slices/; maps and saliency: $OUT/explain-*/metrics.{csv,json}"

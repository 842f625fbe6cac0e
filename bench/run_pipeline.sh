#!/usr/bin/env bash
# run_pipeline.sh — the overhead of `pixab explain` over a whole directory
# (walk, decode, preprocess, .npy writes, results.jsonl lines, and the overlays
# when they are on) against the per-image `pixab bench` figure, in one run on
# one machine, with the demo model. Writes bench/results/pipeline_<device>.md
# with the machine, the date and what else was running.
#
#   bench/run_pipeline.sh [-n 1000] [--device cpu] [--method pixab]
# Environment: PIXAB (binary, default build/pixab), MODEL (default
# models/pixab-demo.safetensors), WORK (scratch directory, default
# /tmp/pixab-bench-pipeline; the synthetic images are kept there for reuse).
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000 device=cpu method=pixab
while (($#)); do
  case $1 in
    -n) n=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --method) method=$2; shift 2 ;;
    *) echo "run_pipeline.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
pixab=${PIXAB:-build/pixab}
model=${MODEL:-models/pixab-demo.safetensors}
work=${WORK:-/tmp/pixab-bench-pipeline}
out=bench/results/pipeline_${device%%:*}.md
# shellcheck source=bench/machine.sh
. bench/machine.sh

images=$work/synth-$n
[ -f "$images/annotations.jsonl" ] || "$pixab" synth -o "$images" -n "$n" --seed 1 >/dev/null
first=$images/00000.png  # pixab synth's first image
busy_before=$(bench_busy)

# Per image: the bench figure (median of 5 runs after a warm-up, body forward included).
bench_json=$("$pixab" bench -w "$model" --device "$device" -m "$method" --batch 1 --runs 5 "$first")
per_image=$(sed -n "s/.*\"$method\":\([0-9.e+-]*\).*/\1/p" <<<"$bench_json")

# The whole directory, from a fresh output directory each time; wall clock of
# the process (model load and directory walk included) and explain's own time.
run_dir() { # label, extra flags...
  local label=$1; shift
  rm -rf "$work/out"
  local t0 t1 log
  t0=$(date +%s.%N)
  log=$("$pixab" explain -v -w "$model" --device "$device" -m "$method" -o "$work/out" "$@" "$images" 2>&1 >/dev/null)
  t1=$(date +%s.%N)
  local lines inner
  lines=$(wc -l <"$work/out/results.jsonl")
  inner=$(sed -n 's/.* failed, \([0-9.]*\) s,.*/\1/p' <<<"$log" | tail -n 1)
  stages=$(grep -E '^pixab explain: decode' <<<"$log" | sed 's/^pixab explain: //' || true)
  awk -v l="$label" -v n="$n" -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v i="${inner:-0}" \
    -v b="$per_image" -v k="$lines" -v st="${stages:-n/a}" 'BEGIN {
      printf "| %s | %d | %.2f | %.2f | ", l, k, w, n / w
      if (i > 0) printf "%.2f | %.2f | %.1f %% | %s |\n", i, n / i, 100 * (1 - (n / i) / b), st
      else printf "n/a | n/a | n/a | %s |\n", st
    }'
}
row_nopng=$(run_dir "explain --no-png" --no-png)
row_png=$(run_dir "explain (with overlays + contact sheet)")
busy_after=$(bench_busy)
rm -rf "$work/out"

cat >"$out" <<EOF
# Pipeline overhead: \`pixab explain\` over a directory vs \`pixab bench\` per image

Machine: $(bench_machine). Date: $(date -u +%Y-%m-%dT%H:%MZ).
Model: \`$model\` (demo model, Inception-V3 at 1/8 width, 8 classes), device \`$device\`,
method \`$method\` at Mixed_7c, OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset},
OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}. Images: \`pixab synth -n $n --seed 1\` (299×299 PNG).

Other processes using the CPU (ps, over 5 % CPU), before: ${busy_before:-none}; after: ${busy_after:-none}.

Per image, \`pixab bench -w $model --device $device -m $method --batch 1 --runs 5 $(basename "$first")\`:
**$per_image images/s** (decode and preprocessing excluded, body forward included).

| run over $n images | results lines | wall s | images/s (wall) | explain's own s | images/s (own) | overhead vs bench (own) | explain's stage times (-v) |
|---|---|---|---|---|---|---|---|
$row_nopng
$row_png

"wall" is the whole process (model load, directory walk included); "own" is the
time \`explain -v\` reports for its image loop. Overhead = 1 − (images/s own) /
(bench images/s): what decoding the PNG, preprocessing, writing the .npy, the
results line (and the overlay PNG) add to the method itself.
EOF
cat "$out"

#!/usr/bin/env bash
# run_explain.sh — explanation throughput against inference throughput, in one
# run on one machine (issue #14's table): `pixab explain --no-png` over a
# directory of 64 images with the full-width Inception-V3, one method at a
# time (Pixab-CAM, Ablation-CAM, Grad-CAM at Mixed_7c), against PyTorch's
# inference (Debian's torch, same thread count) and pixab's own forward at
# batch 1 and 8. The environment is a new user's: OPENBLAS_CORETYPE unset
# (pixab picks its CPU kernels by features). Writes
# bench/results/explain_<device>.md with the machine, date and what else ran.
#
#   bench/run_explain.sh [-n 64] [--device cpu] [--batch 8]
# Environment: PIXAB (binary, default build/pixab), WORK (scratch directory,
# default /tmp/pixab-bench-explain; the images are kept there for reuse).
set -euo pipefail
cd "$(dirname "$0")/.."
n=64 device=cpu batch=8
while (($#)); do
  case $1 in
    -n) n=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    *) echo "run_explain.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
pixab=${PIXAB:-build/pixab}
work=${WORK:-/tmp/pixab-bench-explain}
model=build/full/inception_v3_full.safetensors
out=bench/results/explain_${device%%:*}.md
threads=$(nproc)
# shellcheck source=bench/machine.sh
. bench/machine.sh
[ -f "$model" ] || /usr/bin/python3 tools/make_goldens.py --width-div 1 --classes 1000 --out-dir build/full --name inception_v3_full
cmake --build build -j "$threads" --target forward_bench pixab_cli >/dev/null

images=$work/synth-$n
[ -f "$images/annotations.jsonl" ] || "$pixab" synth -o "$images" -n "$n" --seed 1 >/dev/null
busy_before=$(bench_busy)

# Inference: images/s at batch 1 and 8 (median of the runs).
ips() { sed -n "s/.*\"batch\": *$1,.*\"images_per_s\": *\([0-9.]*\).*/\1/p" | head -n 1; }
torch_json=$(/usr/bin/python3 bench/pytorch_forward.py --threads "$threads" --batch 1,8)
pixab_json=$(build/forward_bench "$model" --batch 1,8)
torch1=$(ips 1 <<<"$torch_json") torch8=$(ips 8 <<<"$torch_json")
pixab1=$(ips 1 <<<"$pixab_json") pixab8=$(ips 8 <<<"$pixab_json")
kernels=$("$pixab" explain -v -w "$model" --device "$device" -m activation --no-png -o "$work/out-k" \
  "$images/00000.png" 2>&1 >/dev/null | sed -n 's/.*CPU kernels: \([^;]*\).*/\1/p' | head -n 1)
rm -rf "$work/out-k"

# One method over the directory: explain's own images/s (-v), fresh outdir.
explain_row() { # method
  rm -rf "$work/out"
  local log own
  log=$("$pixab" explain -v -w "$model" --device "$device" -m "$1" --batch "$batch" --no-png -o "$work/out" \
    "$images" 2>&1 >/dev/null)
  own=$(sed -n 's/.* failed, \([0-9.]*\) s,.*/\1/p' <<<"$log" | tail -n 1)
  awk -v m="$1" -v n="$n" -v s="$own" -v t8="$torch8" -v t1="$torch1" 'BEGIN {
    printf "| explain -m %s | %.2f | %.2f | %.2f× | %.2f× |\n", m, s, n / s, n / s / t8, n / s / t1 }'
}
rows=""
for m in pixab ablation gradcam; do rows+="$(explain_row "$m")"$'\n'; done
rm -rf "$work/out"
busy_after=$(bench_busy)

cat >"$out" <<EOF
# Explanation throughput vs inference (\`bench/run_explain.sh\`)

Machine: $(bench_machine). Date: $(date -u +%Y-%m-%dT%H:%MZ).
Model: \`$model\` (full-width Inception-V3, 1000 classes, random weights from
tools/make_goldens.py), fp32, device \`$device\`, $threads threads, target layer
Mixed_7c, \`--batch $batch\`, $n synthetic 299×299 PNGs (\`pixab synth -n $n --seed 1\`).
Environment as a new user has it: OPENBLAS_CORETYPE unset; pixab's CPU kernels: ${kernels:-n/a}.

Other processes using the CPU (ps, over 5 % CPU), before: ${busy_before:-none}; after: ${busy_after:-none}.

| inference | batch 1 img/s | batch 8 img/s |
|---|---|---|
| PyTorch $(sed -n 's/.*"torch": *"\([^"]*\)".*/\1/p' <<<"$torch_json" | head -n 1) | $torch1 | $torch8 |
| pixab forward (\`forward_bench\`) | $pixab1 ($(awk -v a="$pixab1" -v b="$torch1" 'BEGIN { printf "%.2f", a / b }')× PyTorch) | $pixab8 ($(awk -v a="$pixab8" -v b="$torch8" 'BEGIN { printf "%.2f", a / b }')× PyTorch) |

| \`pixab explain --no-png\` over $n images | explain's own s | images/s | vs PyTorch batch 8 | vs PyTorch batch 1 |
|---|---|---|---|---|
$rows
"own" is the time \`explain -v\` reports for its image loop (decode, body
forward, the method's head, .npy and results writes; model load and the
directory walk excluded). Targets (issue #14): Pixab-CAM ≥ 0.8× PyTorch batch 8;
pixab forward at batch 1 ≥ 1.0× PyTorch batch 1.
EOF
cat "$out"

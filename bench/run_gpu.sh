#!/usr/bin/env bash
# run_gpu.sh — the GPU benchmarks of issue #5, in one run on one card:
# pixab bench --device cuda at every precision (forward at batch 64,
# Pixab-CAM at Mixed_7c and Mixed_6e, Ablation-CAM; with each precision's map
# agreement with fp32), PyTorch's plain inference (torchvision Inception-V3,
# channels_last, batch 64, same precisions) and pytorch-grad-cam's AblationCAM.
# Appends JSON lines (date, card) to bench/results/bench_gpu.jsonl and writes
# the run's summary with the target ratios to bench/results/bench_gpu.md.
#   PIXAB=build/pixab MODEL=... PY=/opt/torch/.venv/bin/python3 bench/run_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PIXAB=${PIXAB:-build/pixab}
PY=${PY:-/opt/torch/.venv/bin/python3}
MODEL=${MODEL:-build/full/inception_v3_full.safetensors}
[ -f "$MODEL" ] || "$PY" tools/make_goldens.py --width-div 1 --classes 1000 --out-dir "$(dirname "$MODEL")" \
  --name "$(basename "$MODEL" .safetensors)"
card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
stamp=$(date -u +%Y-%m-%dT%H:%MZ)
mkdir -p bench/results
run=$(mktemp)
tag() { awk -v pre="{\"date\":\"$stamp\",\"card\":\"$card\",\"run\":\"$1\"," '{ sub(/^\{/, pre); print }'; }
{
  for layer in Mixed_7c Mixed_6e; do
    "$PIXAB" bench -w "$MODEL" --device cuda --precision all -l "$layer" -m pixab,ablation --batch 64 --runs 5 |
      tag "pixab $layer"
  done
  for p in fp32 tf32 fp16 bf16; do "$PY" bench/pytorch_gpu.py --precision "$p" --batch 64 --weights "$MODEL" | tag pytorch; done
  if "$PY" -c 'import pytorch_grad_cam' 2>/dev/null; then
    "$PY" bench/gradcam_ablation_gpu.py --images 3 --weights "$MODEL" | tag "pytorch-grad-cam"
  else
    echo "run_gpu.sh: pytorch-grad-cam is not installed: its AblationCAM is left out" >&2
  fi
} | tee "$run" | tee -a bench/results/bench_gpu.jsonl
"$PY" - "$run" > bench/results/bench_gpu.md <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
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
for p in ["fp32", "tf32", "fp16", "bf16"]:
    a, b, t = px.get(("Mixed_7c", p)), px.get(("Mixed_6e", p)), pt.get(p)
    if not a:
        continue
    ips = a["images_per_s"]
    ratio = ips["pixab"] / t["images_per_s"] if t else float("nan")
    agree = a.get("agreement_with_fp32", {}).get("pixab")
    ag = f'{agree["max_abs_diff"]:.3g} / {agree["spearman"]}' if agree else "(reference)"
    print(f'| {p} | {ips["forward"]:.1f} | {t["images_per_s"]:.1f} | {ips["pixab"]:.1f} | {ratio:.2f} | '
          f'{b["images_per_s"]["pixab"] if b else float("nan"):.1f} | {ips.get("ablation", float("nan")):.1f} | {ag} |')
if gc:
    g = gc[0]
    base = px.get(("Mixed_7c", "fp32"))
    print(f'\npytorch-grad-cam AblationCAM (Mixed_7c, fp32): {g["s_per_image"]:.2f} s per image; '
          f'Pixab-CAM Mixed_7c fp32 is {base["images_per_s"]["pixab"] * g["s_per_image"]:.0f}x faster (target >= 500x).')
b6 = px.get(("Mixed_6e", "bf16"))
if b6:
    print(f'\nPixab-CAM Mixed_6e bf16: {b6["images_per_s"]["pixab"]:.1f} images/s (target >= 50 on an H100).')
PYEOF
rm -f "$run"
cat bench/results/bench_gpu.md

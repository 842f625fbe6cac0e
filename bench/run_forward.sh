#!/usr/bin/env bash
# run_forward.sh — forward images/s of pixab (CPU) and PyTorch (Debian's torch,
# same thread count) on the full-width Inception-V3, in one run on one machine;
# appends the JSON lines, with machine and date, to bench/results/forward_cpu.jsonl.
# Also runs pixab with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset, as a new user
# has it (pixab then picks the kernels from the CPU's features,
# pixab_cpu_kernels_wanted; "cpu_kernels" names them) and checks its logits
# against the default run.
set -euo pipefail
cd "$(dirname "$0")/.."
model=build/full/inception_v3_full.safetensors
[ -f "$model" ] || /usr/bin/python3 tools/make_goldens.py --width-div 1 --classes 1000 --out-dir build/full --name inception_v3_full
cmake --build build -j "$(nproc)" --target forward_bench pixab_cli >/dev/null
threads=$(nproc)
out=bench/results/forward_cpu.jsonl
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), ${threads} cores"
stamp=$(date -u +%Y-%m-%dT%H:%MZ)
tag() { awk -v pre="{\"date\":\"$stamp\",\"machine\":\"$machine\",\"openblas_coretype\":\"$1\"," '{ sub(/^\{/, pre); print }'; }
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
{
  /usr/bin/python3 bench/pytorch_forward.py --threads "$threads" | tag "n/a"
  build/forward_bench "$model" --batch 1,8 | tag "$OPENBLAS_CORETYPE"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/forward_bench "$model" --batch 1,8 | tag "unset"
} | tee -a "$out"
# Same logits with OpenBLAS's own kernel choice as with the pinned one.
img=build/full/test299.png
build/pixab classify -w "$model" --logits /tmp/pixab_l1.npy "$img" >/dev/null
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/pixab classify -w "$model" --logits /tmp/pixab_l2.npy "$img" >/dev/null
cmp -s /tmp/pixab_l1.npy /tmp/pixab_l2.npy && echo "logits identical with OPENBLAS_CORETYPE unset" ||
  /usr/bin/python3 -c "import numpy as n; a=n.load('/tmp/pixab_l1.npy'); b=n.load('/tmp/pixab_l2.npy'); print('logits max|d| with OPENBLAS_CORETYPE unset:', abs(a-b).max(), 'of max|logit|', abs(a).max())"

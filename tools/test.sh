#!/usr/bin/env bash
# test.sh — the test suite: builds build/ (Release) and build-asan/
# (AddressSanitizer + UndefinedBehaviorSanitizer) and runs ctest in both; once,
# between them, checks that the GPU bundle is self-contained (tests/bundle/).
# Needs what tools/setup.sh installs; no Python, no GPU, no network.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
export PATH="/usr/local/cuda/bin:$PATH"
# Older OpenBLAS builds can misbehave on new processors: pin the kernel family.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
jobs="$(nproc)"

echo "== tests (Release) ==" >&2
ctest --test-dir build --output-on-failure

echo "== GPU bundle (tests/bundle/check_bundle.sh) ==" >&2
tests/bundle/check_bundle.sh

echo "== tests (ASan + UBSan) ==" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIXAB_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
ctest --test-dir build-asan --output-on-failure

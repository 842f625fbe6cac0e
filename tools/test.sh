#!/usr/bin/env bash
# test.sh — the test suite: builds build/ (Release) and build-asan/
# (AddressSanitizer + UndefinedBehaviorSanitizer) and runs ctest in both; once,
# between them, checks that the GPU bundle is self-contained (tests/bundle/).
# Needs what tools/setup.sh installs, and Chromium for the report's browser
# test (installed here when missing); no Python, no GPU, no network otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
export PATH="/usr/local/cuda/bin:$PATH"
# Older OpenBLAS builds can misbehave on new processors: pin the kernel family.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
jobs="$(nproc)"

# Only for the report's browser test (tests/test_report_browser.c): Debian's
# headless-capable Chromium, which that test then requires.
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test: installing chromium (for tests/test_report_browser.c)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
export PIXAB_REQUIRE_BROWSER=1

echo "== tests (Release) ==" >&2
ctest --test-dir build --output-on-failure

echo "== GPU bundle (tests/bundle/check_bundle.sh) ==" >&2
tests/bundle/check_bundle.sh

echo "== tests (ASan + UBSan) ==" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIXAB_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
ctest --test-dir build-asan --output-on-failure

#!/usr/bin/env bash
# test.sh — the test suite: builds build/ (Release) and build-asan/
# (AddressSanitizer + UndefinedBehaviorSanitizer) and runs ctest in both; once,
# between them, builds and tests the Python package (tests/python), runs each
# fuzz target for 10 s (tests/fuzz) and checks that the GPU bundle is
# self-contained (tests/bundle/).
# Needs what tools/setup.sh installs, Chromium for the report's browser test
# (installed here when missing), clang for a short fuzz run of each parser
# (likewise) and PyPI for the Python package's build backend
# (scikit-build-core); no GPU.
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

echo "== Python package (pip install ., pytest tests/python) ==" >&2
# Built as a user builds it (PEP 517: scikit-build-core from PyPI runs CMake
# for libpixab.so), CPU-only here to keep the step under a minute, into a
# virtual environment over Debian's numpy, Pillow and pytest; the tests
# compare the package with build/pixab.
rm -rf build-python
/usr/bin/python3 -m venv --system-site-packages build-python/venv
build-python/venv/bin/python -m pip install -q --disable-pip-version-check \
  --config-settings=cmake.define.PIXAB_CUDA=OFF --config-settings=build-dir=build-python/cmake .
build-python/venv/bin/python -m pytest -q -p no:cacheprovider tests/python

echo "== fuzz (tests/fuzz: each target 10 s from its seeds) ==" >&2
# libFuzzer needs clang (installed here when missing); a short run catches a
# parser change that crashes on an input near the seeds (longer runs:
# tests/fuzz/README.md). New inputs go to a scratch corpus, never into the seeds.
if ! command -v clang >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test: installing clang (for tests/fuzz)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends clang >/dev/null
fi
if command -v clang >/dev/null 2>&1; then
  CC=clang cmake -S . -B build-fuzz -DPIXAB_FUZZ=ON -DPIXAB_CUDA=OFF -DPIXAB_TESTS=OFF >/dev/null
  cmake --build build-fuzz -j "$jobs" >/dev/null
  for t in safetensors onnx image_check image; do
    rm -rf "build-fuzz/corpus-$t" && mkdir -p "build-fuzz/corpus-$t"
    UBSAN_OPTIONS=halt_on_error=1 "build-fuzz/fuzz_$t" -max_total_time=10 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="build-fuzz/crash-$t-" "build-fuzz/corpus-$t" "tests/fuzz/corpus_$t" 2>"build-fuzz/fuzz_$t.log" ||
      { tail -30 "build-fuzz/fuzz_$t.log" >&2; echo "fuzz_$t failed (log: build-fuzz/fuzz_$t.log)" >&2; exit 1; }
    grep -h "Done [0-9]* runs" "build-fuzz/fuzz_$t.log" | sed "s/^/fuzz_$t: /" >&2
  done
else
  echo "fuzz: no clang: skipped" >&2
fi

echo "== GPU bundle (tests/bundle/check_bundle.sh) ==" >&2
tests/bundle/check_bundle.sh

echo "== tests (ASan + UBSan) ==" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIXAB_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
ctest --test-dir build-asan --output-on-failure

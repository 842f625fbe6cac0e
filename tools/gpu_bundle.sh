#!/usr/bin/env bash
# gpu_bundle.sh — build the self-contained bundle for a lent GPU machine (issue #12):
# pixab, gpu_parity and the bench programs (Release, sm_90 machine code + compute_90
# PTX) with every library they need beyond glibc, the GCC runtime, the driver, cuDNN 9
# and cuBLAS 13 in OUTDIR/lib, plus the test data, the scripts gpu_check.sh runs there
# and the pytorch-grad-cam wheels. Fails if OUTDIR reaches 48 MiB.
#   tools/gpu_bundle.sh [--no-wheels] OUTDIR
# Build tree: $PIXAB_BUNDLE_BUILD (default build-bundle/). --no-wheels: no PyPI access.
# Then on the GPU machine: OUTDIR/gpu_check.sh OUTDIR LOGDIR (see bench/README.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/tools/bundle_libs.sh"
die() { echo "gpu_bundle: $*" >&2; exit 1; }

wheels=1
[ "${1:-}" = --no-wheels ] && { wheels=0; shift; }
if [ $# -ne 1 ] || [ -z "$1" ]; then die "usage: tools/gpu_bundle.sh [--no-wheels] OUTDIR"; fi
out="$1"
build="${PIXAB_BUNDLE_BUILD:-$root/build-bundle}"
# Never replace what is not ours: an existing OUTDIR must be an earlier bundle or empty.
if [ -e "$out" ]; then
  [ -f "$out/BUNDLE.txt" ] || [ -z "$(ls -A "$out" 2>/dev/null)" ] ||
    die "$out exists and is not a bundle (no BUNDLE.txt): refusing to replace it"
  rm -rf "$out"
fi
mkdir -p "$out/lib" "$build"
out="$(cd "$out" && pwd)"

# ---- build ------------------------------------------------------------------
# RPATH: -rpath '$ORIGIN/lib' with --disable-new-dtags writes DT_RPATH, not
# DT_RUNPATH. The loader searches an executable's DT_RPATH for indirect
# dependencies too (libopenblas -> libgfortran -> libquadmath), DT_RUNPATH only for
# the executable's own; and DT_RPATH comes before LD_LIBRARY_PATH, so the libraries
# of the venv that gpu_check.sh puts on LD_LIBRARY_PATH cannot replace bundled ones.
# The linker writes it (no patchelf, which these machines lack); CMAKE_SKIP_BUILD_RPATH
# keeps CMake's build-tree RPATH (/usr/local/cuda/...) out of the binaries.
export PATH="/usr/local/cuda/bin:$PATH"
benches=()
for src in "$root"/bench/*.c; do
  # explain_one measures the Python package's overhead on the CPU (python_overhead.py): not a GPU check
  [ "$(basename "$src")" = explain_one.c ] || benches+=("$(basename "$src" .c)")
done
log="$build/bundle-build.log"
echo "gpu_bundle: building into $build (log: $log)" >&2
# shellcheck disable=SC2016 # $ORIGIN is for the loader, not the shell
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPIXAB_TESTS=OFF -DPIXAB_CUDA=ON \
  -DPIXAB_NATIVE=OFF -DPIXAB_SANITIZE=OFF "-DCMAKE_CUDA_ARCHITECTURES=90-real;90-virtual" \
  -DCMAKE_SKIP_BUILD_RPATH=ON '-DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags,-rpath,$ORIGIN/lib' \
  >"$log" 2>&1 || { tail -20 "$log" >&2; die "cmake configure failed (see $log)"; }
grep -q "pixab: CUDA backend ON" "$log" ||
  die "this build has no CUDA backend (nvcc, cuDNN or cuBLAS not found): a GPU bundle needs it"
cmake --build "$build" -j "$(nproc)" --target pixab_cli gpu_parity "${benches[@]}" >>"$log" 2>&1 ||
  { tail -20 "$log" >&2; die "build failed (see $log)"; }

# ---- programs and their libraries -------------------------------------------
# Stripped: symbol tables are not needed to run them, and OpenBLAS alone takes
# 35 of the 48 MiB (Debian's build carries kernels for every x86 core type).
for prog in pixab gpu_parity "${benches[@]}"; do
  install -m 755 "$build/$prog" "$out/$prog"
  strip "$out/$prog"
done
while IFS= read -r prog; do
  # What the loader finds here, without LD_LIBRARY_PATH.
  deps="$(unset LD_LIBRARY_PATH; bundle_ldd "$prog")" || die "ldd fails on $prog: $deps"
  while IFS=$'\t' read -r name path; do
    [ "$name" != - ] || continue
    [ "$path" != "not found" ] || die "$(basename "$prog") needs $name, which is not found on this machine"
    bundle_allowed "$name" && continue
    [ -f "$out/lib/$name" ] && continue
    # Under its SONAME, as a regular file: cp -L follows Debian's alternatives
    # links (libopenblas.so.0 -> /etc/alternatives -> openblas-pthread/...).
    cp -L "$path" "$out/lib/$name"
    chmod 644 "$out/lib/$name"
    soname="$(readelf -d "$out/lib/$name" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
    [ "$soname" = "$name" ] || die "$path has SONAME '$soname', not $name"
  done <<<"$deps"
done < <(bundle_programs "$out")

# ---- data and scripts (the source tree's layout, so the scripts find each other) --
# examples/images without its photos/ (0.7 MiB): the bundle and the working tree travel
# together to the GPU machine, 64 MiB in all, and the checks need the synthetic images only.
mapfile -t example_files < <(cd "$root" && find examples/images -maxdepth 1 -type f | sort)
for p in tests/data/inception_v3_w8.safetensors models/pixab-demo.safetensors "${example_files[@]}" \
  tools/make_goldens.py tools/safetensors_io.py tools/bundle_libs.sh \
  bench/run_gpu.sh bench/pytorch_gpu.py bench/pytorch_forward.py bench/gradcam_ablation_gpu.py; do
  mkdir -p "$out/$(dirname "$p")"
  cp -R "$root/$p" "$out/$p"
done
install -m 755 "$root/tools/gpu_check.sh" "$out/gpu_check.sh"

# ---- pytorch-grad-cam and ttach, as wheels (the GPU machine has no registry) ----
# grad-cam is published as an sdist only: it is built into a (pure-Python) wheel
# here, so that the GPU machine needs no build backend to install it.
if [ "$wheels" = 1 ]; then
  dl="$build/wheels-download"
  rm -rf "$dl" && mkdir -p "$dl" "$out/wheels"
  if timeout 180 /usr/bin/python3 -m pip download -q --no-deps --retries 1 --timeout 20 \
    grad-cam ttach -d "$dl" >>"$log" 2>&1; then
    for f in "$dl"/*; do
      case "$f" in
        *.whl) cp "$f" "$out/wheels/" ;;
        *) /usr/bin/python3 -m pip wheel -q --no-deps --no-build-isolation --no-index "$f" \
          -w "$out/wheels" >>"$log" 2>&1 || die "could not build a wheel from $(basename "$f") (see $log)" ;;
      esac
    done
  else
    rmdir "$out/wheels"
    echo "gpu_bundle: pip download could not reach PyPI: no grad-cam/ttach wheels (the GPU bench will leave pytorch-grad-cam out)" >&2
  fi
fi

# ---- what this is, self-check, size -----------------------------------------
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
{
  echo "pixab GPU bundle: source $commit, built $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "$("$out/pixab" --version); $(nvcc --version | tail -1); CUDA architectures 90-real;90-virtual"
  echo "run on the GPU machine: ./gpu_check.sh . LOGDIR (from this directory)"
  echo
  (cd "$out" && find . -type f ! -name BUNDLE.txt -printf '%10s  %P\n' | sort -k2)
} >"$out/BUNDLE.txt"
audit="$build/bundle-audit.log"
bundle_audit "$out" >"$audit" || { grep -E 'MISSING|OUTSIDE|ERROR' "$audit" >&2; die "ldd audit failed (see $audit)"; }

mib() { awk -v b="$1" 'BEGIN { if (b < 1048576) printf "%.0f KiB", b / 1024; else printf "%.1f MiB", b / 1048576 }'; }
echo "gpu_bundle: $out" >&2
for f in "$out"/* "$out"/lib/*; do
  [ "$f" = "$out/lib" ] && continue
  printf '  %-40s %s\n' "${f#"$out"/}" "$(mib "$(bundle_bytes "$f")")" >&2
done
total="$(bundle_bytes "$out")"
echo "gpu_bundle: $(find "$out" -type f | wc -l) files, $(mib "$total") in all (limit $BUNDLE_LIMIT_MIB MiB)" >&2
[ "$total" -lt $((BUNDLE_LIMIT_MIB * 1048576)) ] ||
  die "$out is $(mib "$total"), over the $BUNDLE_LIMIT_MIB MiB limit"

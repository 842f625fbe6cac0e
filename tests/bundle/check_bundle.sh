#!/usr/bin/env bash
# check_bundle.sh — CI test of tools/gpu_bundle.sh (issue #12): builds a bundle into a
# temporary folder, moves it (its RPATH must be relative), then, with the Debian copies
# of every bundled library hidden, checks that ldd resolves each library of each
# program inside the bundle's lib/ or from the allowed system list
# (tools/bundle_libs.sh), that `pixab --version` and a CPU `pixab classify` run from
# it, and that it stays under the size limit.
# Hiding: inside a private mount namespace (unshare -m as root, else unshare -rm),
# /dev/null is bind-mounted over the real file behind every name the loader could find
# a bundled library under (ld.so.cache, /usr/lib, /usr/local, /opt), so any use of a
# Debian copy fails loudly ("file too short") instead of passing unnoticed; a control
# (the same pixab without lib/) must then fail to load, proving the hiding took.
# Without a mount namespace it says so in one line and relies on ldd's resolved paths
# alone (DT_RPATH is searched first, so a library found in lib/ never reaches the
# Debian copy). Skipped, in one line, without a CUDA toolchain (the bundle needs it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tools/bundle_libs.sh
. "$root/tools/bundle_libs.sh"
die() { echo "check_bundle: $*" >&2; exit 1; }

# checks BUNDLE: what must hold wherever the bundle is run.
checks() {
  local b="$1" v
  bundle_audit "$b" >"$b.audit" 2>&1 ||
    { grep -E 'MISSING|OUTSIDE|ERROR' "$b.audit" >&2; die "ldd: libraries missing or outside the bundle (above)"; }
  echo "check_bundle: ldd: every library of $(bundle_programs "$b" | wc -l) programs resolves in lib/ or from the allowed list" >&2
  v="$("$b/pixab" --version 2>&1)" || die "pixab --version fails from the bundle: $v"
  "$b/pixab" classify -w "$b/models/pixab-demo.safetensors" --device cpu "$b/examples/images/00000.png" \
    >"$b.classify" 2>&1 || die "pixab classify --device cpu fails from the bundle: $(tail -1 "$b.classify")"
  echo "check_bundle: runs from the bundle: $v; classify: $(head -c 80 "$b.classify")" >&2
}

if [ "${1:-}" = --hidden ]; then # inside the mount namespace: --hidden BUNDLE CONTROL FILE...
  b="$2" control="$3"
  shift 3
  for f in "$@"; do mount --bind /dev/null "$f" || die "cannot hide $f"; done
  if ldd "$control/pixab" >"$control.ldd" 2>&1; then
    die "hiding failed: pixab without lib/ still loads ($(grep -m1 openblas "$control.ldd"))"
  fi
  echo "check_bundle: control: without lib/, pixab cannot load ($(grep -m1 -o 'error while loading.*' "$control.ldd" || tail -1 "$control.ldd"))" >&2
  checks "$b"
  exit 0
fi

export PATH="/usr/local/cuda/bin:$PATH"
command -v nvcc >/dev/null || { echo "check_bundle: skipped: no CUDA toolchain (nvcc), and a GPU bundle needs the CUDA build" >&2; exit 0; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
# No wheels: CI has no network. They add about 60 KiB, kept in reserve below.
"$root/tools/gpu_bundle.sh" --no-wheels "$tmp/built/bundle"
mkdir -p "$tmp/moved" "$tmp/control"
mv "$tmp/built/bundle" "$tmp/moved/b"
b="$tmp/moved/b"
cp "$b/pixab" "$tmp/control/pixab"

reserve=$((512 * 1024))
total="$(bundle_bytes "$b")"
[ $((total + reserve)) -lt $((BUNDLE_LIMIT_MIB * 1048576)) ] ||
  die "bundle is $total bytes: with 512 KiB for the wheels, over the $BUNDLE_LIMIT_MIB MiB limit"

# Every real file the loader could take a bundled library from.
hide=()
for lib in "$b"/lib/*; do
  name="$(basename "$lib")"
  while IFS= read -r p; do
    p="$(readlink -f "$p")"
    [ -f "$p" ] && [[ " ${hide[*]} " != *" $p "* ]] && hide+=("$p")
  done < <({ ldconfig -p | awk -v n="$name" '$1 == n { print $NF }'; find /usr/lib /usr/local /opt -name "$name" 2>/dev/null; } || true)
done
((${#hide[@]})) || die "found no system copy of any bundled library to hide (ldconfig -p, /usr/lib)"

if unshare -m true 2>/dev/null; then ns=(unshare -m)
elif unshare -rm true 2>/dev/null; then ns=(unshare -rm)
else ns=()
fi
if ((${#ns[@]})); then
  echo "check_bundle: hiding ${#hide[@]} Debian files (${ns[*]}): ${hide[*]}" >&2
  "${ns[@]}" -- "$0" --hidden "$b" "$tmp/control" "${hide[@]}"
else
  echo "check_bundle: no mount namespace allowed here: the Debian copies stay visible; checking ldd's resolved paths only" >&2
  checks "$b"
fi
echo "check_bundle: ok: $(awk -v t="$total" 'BEGIN { printf "%.1f", t / 1048576 }') MiB (limit $BUNDLE_LIMIT_MIB MiB), $((SECONDS - start)) s" >&2

# shellcheck shell=bash disable=SC2034
# bundle_libs.sh — sourced (not run) by tools/gpu_bundle.sh, tools/gpu_check.sh and
# tests/bundle/check_bundle.sh: which programs a GPU bundle holds, which shared
# libraries they may take from the machine they run on, and an ldd audit of both.
# Everything not on the allowed list must come from the bundle's own lib/.

# The libraries a GPU machine provides: glibc, the GCC runtime, the driver,
# cuDNN 9 and cuBLAS 13 (the last two from the PyTorch venv's nvidia wheels).
bundle_allowed() { # SONAME
  case "$1" in
    linux-vdso.so.1 | ld-linux-x86-64.so.2 | libc.so.6 | libm.so.6 | libdl.so.2 | \
      libpthread.so.0 | librt.so.1 | libstdc++.so.6 | libgcc_s.so.1 | libcuda.so.1 | \
      libcudnn*.so.9 | libcublas.so.13 | libcublasLt.so.13) return 0 ;;
  esac
  return 1
}

# The bundle's programs: the ELF executables at its top level.
bundle_programs() { # DIR
  local f
  for f in "$1"/*; do
    [ -f "$f" ] && [ -x "$f" ] && [ "$(head -c 4 "$f")" = $'\177ELF' ] && echo "$f"
  done
  return 0
}

# bundle_ldd PROG: ldd's answer as "NAME<TAB>PATH" lines, PATH "not found" when the
# loader finds none, NAME "-" for lines without "=>" (the loader, the vdso, errors);
# returns ldd's exit status.
bundle_ldd() {
  local line p
  ldd "$1" 2>&1 | while IFS= read -r line; do
    line="${line#"${line%%[![:space:]]*}"}"
    case "$line" in
      *" => not found"*) printf '%s\tnot found\n' "${line%% => *}" ;;
      *" => "*)
        p="${line#* => }"
        printf '%s\t%s\n' "${line%% => *}" "${p% (*}" ;;
      *) printf -- '-\t%s\n' "${line% (*}" ;;
    esac
  done
  return "${PIPESTATUS[0]}"
}

# bundle_audit DIR: ldd every program of DIR: each library must resolve to a regular
# file in DIR/lib or be on the allowed list; nothing "not found". Prints one line per
# library (bundled / system / MISSING / OUTSIDE / ERROR) and returns the number of
# problems (at most 255); an ldd failure counts as one.
bundle_audit() {
  local dir="$1" lib prog out name path bad=0 n=0
  lib="$(readlink -f "$dir/lib")"
  while IFS= read -r prog; do
    n=$((n + 1))
    echo "== ldd $prog"
    out="$(bundle_ldd "$prog")" || { echo "  ERROR    ldd failed"; bad=$((bad + 1)); }
    while IFS=$'\t' read -r name path; do
      if [ "$name" = - ]; then
        case "$path" in
          /*ld-linux* | linux-vdso.so.1) echo "  system   $path" ;;
          *) echo "  ERROR    $path"; bad=$((bad + 1)) ;;
        esac
      elif [ "$path" = "not found" ]; then
        echo "  MISSING  $name"
        bad=$((bad + 1))
      elif [ ! -L "$path" ] && [ "$(dirname "$(readlink -f "$path")")" = "$lib" ]; then
        echo "  bundled  $name"
      elif bundle_allowed "$name"; then
        echo "  system   $name => $path"
      else
        echo "  OUTSIDE  $name => $path (neither in $dir/lib nor allowed from the system)"
        bad=$((bad + 1))
      fi
    done <<<"$out"
  done < <(bundle_programs "$dir")
  if [ "$n" -eq 0 ]; then
    echo "  ERROR    no programs in $dir"
    bad=1
  fi
  return $((bad > 255 ? 255 : bad))
}

# Size of DIR in bytes, and the limit every bundle must stay under.
BUNDLE_LIMIT_MIB=48
bundle_bytes() { du -sb "$1" | cut -f1; }

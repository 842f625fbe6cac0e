#!/usr/bin/env bash
# gpu_check.sh — the whole first run on a lent GPU machine, in one command, run from
# a bundle made by tools/gpu_bundle.sh (which copies this script to its top level):
#   a. find cuDNN 9 and cuBLAS 13 (the venv's nvidia wheels, then the system)
#   b. ldd of every bundled program; the card, driver, CPU and versions
#   c. gpu_parity on the small model (and the demo model's precision rows), then
#      with a full-width model made here by PyTorch
#   d. pixab explain of examples/images, --device cuda (and cuda:0) vs cpu, every
#      method at Mixed_7c and Mixed_6e: max|Δ| of the maps per method and layer
#   e. bench/run_gpu.sh (pixab at every precision, PyTorch, pytorch-grad-cam)
# Each step has its own time limit (together under 8 minutes); at most 8 log files
# go to OUT; the last line is the verdict. Without a GPU it runs the steps that need
# none and ends with one line saying there is no CUDA device.
#   BUNDLE/gpu_check.sh BUNDLE OUT
#   PY: the Python with torch (default /opt/torch/.venv/bin/python3, else python3)
# Exit status: 0 every step passed, 1 a step failed, 2 no CUDA device.
set -euo pipefail

die() { echo "gpu_check: $*" >&2; exit 2; }
[ $# -eq 2 ] || die "usage: gpu_check.sh BUNDLE OUT"
if [ ! -f "$1/BUNDLE.txt" ] || [ ! -f "$1/tools/bundle_libs.sh" ]; then
  die "$1 is not a bundle made by tools/gpu_bundle.sh (no BUNDLE.txt)"
fi
BUNDLE="$(cd "$1" && pwd)"
mkdir -p "$2" || die "cannot create $2"
OUT="$(cd "$2" && pwd)"
. "$BUNDLE/tools/bundle_libs.sh"
# The CPU reference side: Debian's OpenBLAS 0.3.21 falls back to SSE3 kernels on
# CPUs it does not know (2.5x slower, REFERENCE.md); AVX2 is on every GPU server.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
if [ -z "${PY:-}" ]; then
  PY=/opt/torch/.venv/bin/python3
  [ -x "$PY" ] || PY="$(command -v python3 || echo python3)"
fi

# Time limits in seconds, each for a whole step: 30 + 150 (the full-width model's
# 120 beside it) + 60 + 60 + 150 = 450 at worst; every command also ends by DEADLINE,
# so the script ends within 8 minutes (on an H200 it should need about half). The
# parity suite prints each row as it goes: a run cut short still leaves its rows.
T_ENV=30       # steps a and b
T_W8=150       # gpu_parity: every op, the small model, the demo model's precision rows
T_MODEL=120    # make_goldens.py, full width (runs beside the small model's parity)
T_FULL=60      # gpu_parity --full, full-width model
T_EXPLAIN=60   # step d: every explain run and the comparison
T_BENCH=150    # step e: the wheels and bench/run_gpu.sh
T_BENCH_CMD=60 # each command inside bench/run_gpu.sh
DEADLINE=$((SECONDS + 465))

W8="$BUNDLE/tests/data/inception_v3_w8.safetensors"
DEMO="$BUNDLE/models/pixab-demo.safetensors"
IMAGES="$BUNDLE/examples/images"
METHODS=pixab,ablation,activation,gradcam,gradcampp,xgradcam,scorecam
LAYERS=(Mixed_7c Mixed_6e)

# left END: seconds left until $SECONDS reaches END or DEADLINE (at least 1).
left() {
  local e="$1"
  ((e < DEADLINE)) || e=$DEADLINE
  e=$((e - SECONDS))
  echo $((e > 0 ? e : 1))
}
# run_until END LOG CMD...: CMD with what is left of its step (until END), output
# appended to LOG; returns CMD's exit status (124 or 137: out of time, said in LOG).
run_until() {
  local t rc=0 log="$2"
  t="$(left "$1")"
  shift 2
  # In a subshell that waits (no exec), so that bash's "Killed" notice goes to LOG too.
  (timeout -k 3 "$t" "$@"; exit $?) >>"$log" 2>&1 || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    printf '\ngpu_check: time limit (%s s) reached: %s\n' "$t" "$*" >>"$log"
  fi
  return "$rc"
}
failed=()   # steps that failed, for the verdict
fail() {
  echo "[$1] FAILED: $2"
  [[ " ${failed[*]} " == *" $1 "* ]] || failed+=("$1")
}

main() {
  local tmp start=$SECONDS end rc
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
  trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$tmp"' EXIT
  echo "gpu_check: bundle $BUNDLE, logs in $OUT, python $PY, $(date -u +%Y-%m-%dT%H:%MZ)"
  local env_log="$OUT/env.txt"
  : >"$env_log"

  # ---- a. cuDNN 9 and cuBLAS 13 ---------------------------------------------
  # The CUDA 13 wheels are namespace packages (no __init__.py, __file__ is None):
  # their lib/ is under __path__[0]; cuBLAS 13 lives in nvidia/cu13/lib.
  end=$((SECONDS + T_ENV))
  local cands=() dirs=() missing=() d so
  mapfile -t cands < <(timeout -k 3 "$(left "$end")" "$PY" - 2>>"$env_log" <<'PYEOF' || true
import glob, importlib, os, site
roots, dirs = [], []
try:
    import nvidia
    roots += list(nvidia.__path__)
except ImportError:
    pass
for sp in site.getsitepackages() + [site.getusersitepackages()]:
    roots.append(os.path.join(sp, "nvidia"))
for mod in ("nvidia.cudnn", "nvidia.cu13", "nvidia.cublas"):
    try:
        dirs += [os.path.join(p, "lib") for p in importlib.import_module(mod).__path__]
    except ImportError:
        pass
for r in roots:
    dirs += sorted(glob.glob(os.path.join(r, "*", "lib")))
seen = set()
for d in map(os.path.realpath, dirs):
    if os.path.isdir(d) and d not in seen:
        seen.add(d)
        print(d)
PYEOF
  )
  cands+=(/usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda-*/lib64 /usr/lib/x86_64-linux-gnu)
  mapfile -t -O "${#cands[@]}" cands < <(ldconfig -p 2>/dev/null |
    awk '/(libcudnn\.so\.9|libcublas(Lt)?\.so\.13|libnvrtc\.so\.13) /{ sub(/\/[^\/]*$/, "", $NF); print $NF }')
  local ldp=()
  IFS=: read -r -a ldp <<<"${LD_LIBRARY_PATH:-}"
  cands+=("${ldp[@]}")
  {
    echo "== library search (python $PY)"
    printf '  candidate %s\n' "${cands[@]}" | awk '!seen[$0]++'
  } >>"$env_log"
  for so in libcudnn.so.9 libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13; do
    local found=""
    for d in "${cands[@]}"; do
      [ -n "$d" ] && [ -e "$d/$so" ] && { found="$(cd "$d" && pwd -P)"; break; }
    done
    if [ -z "$found" ]; then
      [ "$so" = libnvrtc.so.13 ] && { echo "[a] note: no libnvrtc.so.13: cuDNN's runtime-compiled engines will be unavailable"; continue; }
      missing+=("$so")
      continue
    fi
    echo "[a] $so in $found"
    [[ " ${dirs[*]} " == *" $found "* ]] || dirs+=("$found")
  done
  if ((${#missing[@]})); then
    echo "[a] MISSING ${missing[*]}: not in the venv's nvidia wheels ($PY), /usr/local/cuda, ldconfig or LD_LIBRARY_PATH (candidates in env.txt)"
    failed+=(a)
  fi
  LD_LIBRARY_PATH="$(IFS=:; echo "${dirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
  {
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    for d in "${dirs[@]}"; do printf '  %s\n' "$d"/lib{cudnn,cublas,nvrtc}*.so.[0-9]*; done
    timeout -k 3 "$(left "$end")" "$PY" -c 'import importlib.metadata as m
for d in sorted({x.metadata["Name"] for x in m.distributions()}):
    if d.lower().startswith(("nvidia-cudnn", "nvidia-cublas", "torch", "numpy")): print("  %s %s" % (d, m.version(d)))' || true
  } >>"$env_log" 2>&1

  # ---- b. ldd, card, driver, versions ----------------------------------------
  if bundle_audit "$BUNDLE" >>"$env_log" 2>&1; then
    echo "[b] ldd: every library of $(bundle_programs "$BUNDLE" | wc -l) programs resolves"
  else
    grep -E 'MISSING|OUTSIDE|ERROR' "$env_log" | sed 's/^ */[b]   /' || true
    fail b "ldd finds libraries missing (env.txt)"
  fi
  {
    echo "== date"; date -u
    echo "== bundle"; head -3 "$BUNDLE/BUNDLE.txt"
    echo "== pixab --version"; "$BUNDLE/pixab" --version || true
    echo "== CPU"; lscpu | grep -E 'Model name|^CPU\(s\)' || true
    echo "== kernel"; uname -r
    echo "== driver"; cat /proc/driver/nvidia/version 2>/dev/null || echo "no /proc/driver/nvidia/version"
    echo "== nvidia-smi"
  } >>"$env_log" 2>&1
  run_until "$end" "$env_log" nvidia-smi || echo "nvidia-smi failed or is missing" >>"$env_log"
  local card
  card="$(timeout -k 3 "$(left "$end")" nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1 || true)"
  echo "[b] card: ${card:-none found by nvidia-smi}; $("$BUNDLE/pixab" --version 2>&1); $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  run_until "$end" "$env_log" "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' ||
    echo "[b] note: $PY cannot import torch (see env.txt): the full-width model and the PyTorch bench will fail"

  # ---- c. parity: small model, then the full-width one ------------------------
  # The full-width model is made on the CPU beside the small model's parity run.
  local model="$tmp/full/inception_v3_full.safetensors" model_log="$tmp/make_goldens.log"
  timeout -k 3 "$(left $((SECONDS + T_MODEL)))" "$PY" "$BUNDLE/tools/make_goldens.py" --width-div 1 --classes 1000 \
    --out-dir "$tmp/full" --name inception_v3_full >"$model_log" 2>&1 &
  local model_pid=$! model_start=$SECONDS
  local w8_log="$OUT/parity_w8.txt" no_device=""
  : >"$w8_log"
  rc=0
  run_until $((SECONDS + T_W8)) "$w8_log" "$BUNDLE/gpu_parity" --demo "$DEMO" --image "$IMAGES/00000.png" "$W8" || rc=$?
  if [ "$rc" -eq 2 ] && grep -q "^gpu_parity: no CUDA device" "$w8_log"; then
    # gpu_parity's reason, e.g. " (no CUDA device: CUDA driver version is insufficient ...)"
    no_device="$(grep -m1 "^gpu_parity: no CUDA device" "$w8_log")"
    no_device="${no_device#gpu_parity: no CUDA device}"
    no_device="${no_device:- }"
    echo "[c] parity w8: no CUDA device"
  else
    summarise_parity c "w8" "$w8_log" "$rc"
  fi
  local full_log="$OUT/parity_full.txt"
  rc=0
  wait "$model_pid" || rc=$?
  { echo "== make_goldens.py --width-div 1 ($((SECONDS - model_start)) s, exit $rc)"; cat "$model_log"; } >"$full_log"
  if [ "$rc" -ne 0 ] || [ ! -f "$model" ]; then
    echo "[c] full-width model: not made ($(tail -1 "$model_log")): full rows and the bench are skipped"
    fail c "no full-width model: make_goldens.py exit $rc (parity_full.txt)"
    model=""
  else
    echo "[c] full-width model made by $PY in $((SECONDS - model_start)) s"
  fi
  if [ -n "$no_device" ]; then
    echo "[c] parity full: skipped (no CUDA device)"
  elif [ -n "$model" ]; then
    echo "== gpu_parity --full FULL" >>"$full_log"
    rc=0
    run_until $((SECONDS + T_FULL)) "$full_log" "$BUNDLE/gpu_parity" --full "$model" || rc=$?
    summarise_parity c "full" "$full_log" "$rc"
  fi

  # ---- d. explain: CUDA against CPU --------------------------------------------
  local ex_log="$OUT/explain.txt" dev layer runs=() cmp=() inputs="$IMAGES"
  : >"$ex_log"
  end=$((SECONDS + T_EXPLAIN))
  # Without a device the CPU runs only prove that the command works: one image will do
  # (all six take 40 s on 2 idle cores, and this step's limit is sized for a GPU machine).
  [ -z "$no_device" ] || inputs="$IMAGES/00000.png"
  for layer in "${LAYERS[@]}"; do
    runs+=("cpu $layer")
    [ -n "$no_device" ] || runs+=("cuda $layer")
  done
  [ -n "$no_device" ] || runs+=("cuda:0 Mixed_7c")
  for r in "${runs[@]}"; do
    read -r dev layer <<<"$r"
    echo "== pixab explain --device $dev -l $layer" >>"$ex_log"
    rc=0
    run_until "$end" "$ex_log" "$BUNDLE/pixab" explain -v -w "$DEMO" -m "$METHODS" -l "$layer" \
      --device "$dev" --no-png -o "$tmp/explain/${dev/:/}/$layer" "$inputs" || rc=$?
    [ "$rc" -eq 0 ] || fail d "pixab explain --device $dev -l $layer: exit $rc (explain.txt)"
  done
  # -v's progress line (carriage returns) is noise in a log; its final lines are kept.
  tr '\r' '\n' <"$ex_log" | grep -v ' images/s, ETA ' >"$tmp/explain.txt" || true
  cp "$tmp/explain.txt" "$ex_log"
  echo "[d] explain of ${inputs#"$BUNDLE"/} ran on: $(printf '%s, ' "${runs[@]}" | sed 's/, $//')"
  if [ -z "$no_device" ]; then
    for layer in "${LAYERS[@]}"; do cmp+=("cuda-vs-cpu $tmp/explain/cuda/$layer $tmp/explain/cpu/$layer $layer"); done
    cmp+=("cuda:0-vs-cuda $tmp/explain/cuda0/Mixed_7c $tmp/explain/cuda/Mixed_7c Mixed_7c")
    rc=0
    timeout -k 3 "$(left "$end")" "$PY" - "${cmp[@]}" >>"$ex_log" 2>&1 <<'PYEOF' || rc=$?
# max|Δ| of the maps per method and layer; tolerances as gpu_parity's map rows
# (1e-3; Score-CAM 5e-3: min-max of each upsampled channel amplifies rounding).
import glob, json, os, sys
try:
    import numpy as np
except ImportError:
    print("no numpy in %s: max|d| of the maps not computed" % sys.executable)
    sys.exit(3)
def classes(d):
    try:
        return {(r["image"], r["method"]): r["class"] for r in map(json.loads, open(os.path.join(d, "results.jsonl")))}
    except OSError:
        return {}
miss = 0
print("\n%-15s %-9s %-10s %10s %8s  %s" % ("compare", "layer", "method", "max|d|", "tol", "result"))
for spec in sys.argv[1:]:
    label, a, b, layer = spec.split()
    ca, cb = classes(a), classes(b)
    for m in "pixab ablation activation gradcam gradcampp xgradcam scorecam".split():
        tol = 5e-3 if m == "scorecam" else 1e-3
        files = sorted(glob.glob(os.path.join(b, "*.%s.npy" % m)))
        err, res = 0.0, "ok"
        if not files:
            res = "no maps"
        for fb in files:
            fa = os.path.join(a, os.path.basename(fb))
            if not os.path.exists(fa):
                res = "missing %s" % os.path.basename(fb)
                break
            err = max(err, float(np.abs(np.load(fa).astype(np.float64) - np.load(fb)).max()))
        if res == "ok" and any(ca.get(k) != c for k, c in cb.items() if k[1] == m):
            res = "CLASS differs"
        if res == "ok" and err > tol:
            res = "MISS"
        elif res == "ok" and err > tol / 2:
            res = "ok (within 2x of tol)"
        miss += not res.startswith("ok")
        print("%-15s %-9s %-10s %10.3g %8.0e  %s" % (label, layer, m, err, tol, res))
print("%d map comparison(s) off" % miss)
sys.exit(1 if miss else 0)
PYEOF
    sed -n '/^compare /,$p' "$ex_log" | sed 's/^/[d]   /' || true
    case "$rc" in
      0) echo "[d] maps: CUDA agrees with the CPU for every method and layer" ;;
      3) fail d "no numpy in $PY: the maps were not compared" ;;
      *) fail d "maps differ or are missing (explain.txt)" ;;
    esac
  fi

  # ---- e. benchmarks -------------------------------------------------------------
  local pylib="$tmp/pylib" bench_log="$OUT/bench.txt"
  : >"$bench_log"
  end=$((SECONDS + T_BENCH))
  # pytorch-grad-cam: installed into a scratch folder (the venv is left alone).
  if compgen -G "$BUNDLE/wheels/*.whl" >/dev/null; then
    if run_until "$end" "$bench_log" env PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install -q --no-deps --no-index \
      --target "$pylib" "$BUNDLE"/wheels/*.whl; then
      export PYTHONPATH="$pylib${PYTHONPATH:+:$PYTHONPATH}"
      if run_until "$end" "$bench_log" "$PY" "$BUNDLE/bench/gradcam_ablation_gpu.py" --import-only; then
        echo "[e] pytorch-grad-cam imports: $(tail -1 "$bench_log")"
      else
        echo "[e] note: pytorch-grad-cam does not import ($(tail -1 "$bench_log")): run_gpu.sh will fail on it"
      fi
    else
      echo "[e] note: $PY -m pip could not install the carried wheels (bench.txt): pytorch-grad-cam left out"
    fi
  else
    echo "[e] note: no wheels in the bundle: pytorch-grad-cam left out"
  fi
  if [ -n "$no_device" ]; then
    echo "[e] bench: skipped (no CUDA device)"
  elif [ -z "$model" ]; then
    fail e "bench skipped: no full-width model"
  else
    rc=0
    run_until "$end" "$bench_log" env PIXAB="$BUNDLE/pixab" MODEL="$model" PY="$PY" RESULTS="$OUT" \
      CMD_TIMEOUT="$T_BENCH_CMD" "$BUNDLE/bench/run_gpu.sh" || rc=$?
    if [ "$rc" -eq 0 ] && [ -f "$OUT/bench_gpu.md" ]; then
      echo "[e] bench: bench_gpu.md, bench_gpu.jsonl"
      sed 's/^/[e]   /' "$OUT/bench_gpu.md"
    else
      fail e "bench/run_gpu.sh exit $rc (bench.txt)"
    fi
  fi

  echo "gpu_check: $((SECONDS - start)) s; logs in $OUT: $(cd "$OUT" && echo *)"
  if [ -n "$no_device" ]; then
    echo "gpu_check: NO CUDA DEVICE${no_device% }; ran only the steps that need none${failed:+ (failed: ${failed[*]})}"
    return 2
  elif ((${#failed[@]})); then
    echo "gpu_check: FAILED steps: ${failed[*]}"
    return 1
  fi
  echo "gpu_check: every step passed"
}

# summarise_parity STEP NAME LOG RC: the suite's own count line and every row that
# missed or came close (its "row:" lines, printed as measured, so also after a time limit).
summarise_parity() {
  local counts
  counts="$(grep -E '^[0-9]+ check\(s\):' "$3" | tail -1 || true)"
  grep -E '^row: .* (MISS|warn)$' "$3" | sed "s/^row: /[$1]   /" || true
  case "$4" in
    0) echo "[$1] parity $2: ok ($counts)" ;;
    124 | 137) fail "$1" "parity $2: time limit reached (${counts:-no table})" ;;
    *) fail "$1" "parity $2: exit $4 (${counts:-no table}; parity_$2.txt)" ;;
  esac
}

main 2>&1 | tee "$OUT/summary.txt"

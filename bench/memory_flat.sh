#!/usr/bin/env bash
# memory_flat.sh — does `pixab explain` stay flat in memory over a long run?
# Explains N images (1,000 distinct synthetic ones reused through N/1000
# directories of symlinks, so no disk is spent) and samples, every second, the
# process's resident set (VmRSS in /proc/PID/status), the results lines written
# so far and, where nvidia-smi is present, the process's GPU memory. Writes the
# samples to bench/results/memory_<device>.csv and first/last/max and the drift
# to bench/results/memory_<device>.md.
#
#   bench/memory_flat.sh [-n 10000] [--device cpu] [--method pixab] [--no-png]
# Environment: PIXAB (binary, default build/pixab), MODEL (default
# models/pixab-demo.safetensors), WORK (scratch, default /tmp/pixab-bench-memory).
set -euo pipefail
cd "$(dirname "$0")/.."
n=10000 device=cpu method=pixab png=()
while (($#)); do
  case $1 in
    -n) n=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --method) method=$2; shift 2 ;;
    --no-png) png=(--no-png); shift ;;
    *) echo "memory_flat.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
pixab=${PIXAB:-build/pixab}
model=${MODEL:-models/pixab-demo.safetensors}
work=${WORK:-/tmp/pixab-bench-memory}
tag=${device%%:*}
csv=bench/results/memory_${tag}.csv md=bench/results/memory_${tag}.md
# shellcheck source=bench/machine.sh
. bench/machine.sh

# 1,000 distinct images (fewer when n is smaller), then copies by symlink.
distinct=$((n < 1000 ? n : 1000))
src=$work/synth-$distinct
[ -f "$src/annotations.jsonl" ] || "$pixab" synth -o "$src" -n "$distinct" --seed 2 >/dev/null
rm -rf "$work/in" "$work/out"
for ((d = 0; d * distinct < n; d++)); do
  dir=$work/in/$(printf 'rep%02d' "$d")
  take=$((n - d * distinct < distinct ? n - d * distinct : distinct))
  mkdir -p "$dir"
  find "$src" -name '*.png' | sort | sed -n "1,${take}p" | xargs -d '\n' ln -s -t "$dir"
done
busy_before=$(bench_busy)

"$pixab" explain -w "$model" --device "$device" -m "$method" "${png[@]}" -o "$work/out" "$work/in" \
  2>"$work/stderr.log" &
pid=$!
gpu=0
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 && gpu=1
t0=$(date +%s.%N)
echo "t_s,images_done,rss_mib,gpu_mib" >"$csv"
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] || break
  lines=0
  [ -f "$work/out/results.jsonl" ] && lines=$(wc -l <"$work/out/results.jsonl")
  g=""
  if ((gpu)); then
    g=$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits |
      awk -F', *' -v p="$pid" '$1 == p { print $2 }')
  fi
  awk -v a="$t0" -v b="$(date +%s.%N)" -v l="$lines" -v r="$rss" -v g="$g" \
    'BEGIN { printf "%.1f,%d,%s,%s\n", b - a, l, r, g }' >>"$csv"
  sleep 1
done
status=0
wait "$pid" || status=$?
busy_after=$(bench_busy)
done_lines=$(wc -l <"$work/out/results.jsonl")
wall=$(tail -n 1 "$csv" | cut -d, -f1)

# Steady state: the samples taken while images were being explained (at least
# one done: model loaded, buffers planned; not all done: the contact sheet is
# composed at the end). Drift = last - first there, and the least-squares
# slope of RSS against images done, per 1,000 images.
summary=$(awk -F, -v total="$done_lines" 'NR > 1 { fin = $3; fing = $4; if ($3 > m) m = $3; if ($4 > mg) mg = $4 }
  NR > 1 && $2 > 0 && $2 < total {
    if (!k++) { f = $3; fi = $2; fg = $4 }
    l = $3; li = $2; lg = $4
    sx += $2; sy += $3; sxx += $2 * $2; sxy += $2 * $3
  }
  END {
    slope = k > 1 && (k * sxx - sx * sx) ? (k * sxy - sx * sy) / (k * sxx - sx * sx) * 1000 : 0
    printf "| RSS (MiB) | %.1f (%d images done) | %.1f (%d images done) | %+.1f | %+.2f | %.1f | %.1f |\n", f, fi, l, li, l - f, slope, m, fin
    if (mg != "") printf "| GPU memory (MiB) | %s | %s | %+d | | %s | %s |\n", fg, lg, lg - fg, mg, fing
  }' "$csv")
rss_start=$(awk -F, 'NR == 2 { print $3 }' "$csv")

cat >"$md" <<EOF
# Memory over a long \`pixab explain\` run ($device)

Machine: $(bench_machine). Date: $(date -u +%Y-%m-%dT%H:%MZ).
Command: \`pixab explain -w $model --device $device -m $method ${png[*]:+${png[*]} }-o OUT IN\`, IN = $n
images ($distinct distinct \`pixab synth --seed 2\` 299×299 PNGs reused through
directories of symlinks: $(((n + distinct - 1) / distinct))). Exit status $status, $done_lines results lines,
$wall s (${OMP_NUM_THREADS:+OMP_NUM_THREADS=$OMP_NUM_THREADS, }$(awk -v n="$done_lines" -v w="$wall" 'BEGIN { printf "%.1f", n / w }') images/s).
Other processes using the CPU, before: ${busy_before:-none}; after: ${busy_after:-none}.

Sampled every second (\`VmRSS\` of /proc/PID/status$( ((gpu)) && echo ', nvidia-smi --query-compute-apps used_memory')):
$(($(wc -l <"$csv") - 1)) samples in \`$(basename "$csv")\`. The first sample, before the first image
was done (model loading), had RSS $rss_start MiB. "While explaining" = samples with
0 < images done < all; the final sample also covers writing the contact sheet
(its 16 rows are composed after the last image) unless --no-png.

| | first while explaining | last while explaining | drift last − first | slope per 1,000 images | max (whole run) | final sample |
|---|---|---|---|---|---|---|
$summary
EOF
cat "$md"
exit "$status"

# machine.sh — sourced by the bench scripts: one line describing the machine,
# and the other processes busy on its CPU (results are only comparable on an
# otherwise idle machine, so every results file says what else was running).

# "AMD EPYC, 2 cores, 23 GiB, Debian GNU/Linux 12 (bookworm)[, GPU: NAME]"
bench_machine() {
  local cpu mem os gpu=""
  cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
  mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
  os=$(. /etc/os-release && echo "$PRETTY_NAME")
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    gpu=", GPU: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -n 1)"
  fi
  echo "${cpu}, $(getconf _NPROCESSORS_ONLN) cores, ${mem}, ${os}${gpu}"
}

# Processes other than this shell's own using over 5 % CPU (lifetime average
# from ps): "PID COMMAND (CPU%)", comma-separated; empty when none.
bench_busy() {
  ps -eo pid=,ppid=,pcpu=,comm= | awk -v me=$$ '$1 != me && $2 != me && $3 > 5 { printf "%s%s %s (%s %%)", sep, $1, $4, $3; sep = ", " }'
}

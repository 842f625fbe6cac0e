#!/usr/bin/env bash
# run-node.sh — explain a directory on every GPU of one node: one `pixab explain`
# per GPU (--device cuda:K), each its own shard (--shard I/N) and output
# directory OUT/shard-I, all with --resume so a rerun continues where it
# stopped; on a single node it then merges the shards into OUT/results.jsonl.
#
#   docker/run-node.sh [-w MODEL] [-- EXTRA_EXPLAIN_FLAGS...] IMAGES OUT
#   e.g. docker/run-node.sh -w model.safetensors -- -m pixab,gradcam --no-png imgs out
#
# Several nodes: run it on each with NODE_INDEX=0..NODES-1 and NODES set (every
# node must see the same IMAGES and OUT, e.g. on NFS): node i runs the global
# shards i*G .. i*G+G-1 of NODES*G, G = its GPU count (the same on every node).
# Then merge once: pixab merge -o OUT/results.jsonl OUT/shard-*/results.jsonl
#
# Environment: PIXAB (the binary, default pixab), NGPU (default: the count of
# `nvidia-smi -L`), NODE_INDEX (0), NODES (1). In the Docker image this script is
# /usr/local/bin/pixab-run-node:
#   docker run --gpus all --entrypoint pixab-run-node -v $PWD/images:/data/images \
#       -v $PWD/out:/data/out pixab /data/images /data/out
# Exit status: 0, 1 when some image was bad (reported, skipped) or some lines
# were skipped by the merge, 2 when a shard failed outright.
set -euo pipefail

pixab=${PIXAB:-pixab}
model=/opt/pixab/models/pixab-demo.safetensors
extra=()
while (($#)); do
  case $1 in
    -w) model=$2; shift 2 ;;
    --) shift; while (($# > 2)); do extra+=("$1"); shift; done ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
if (($# != 2)); then
  echo "run-node.sh: usage: run-node.sh [-w MODEL] [-- FLAGS...] IMAGES OUT" >&2
  exit 2
fi
images=$1 out=$2

if [[ -n ${NGPU:-} ]]; then
  ngpu=$NGPU
elif command -v nvidia-smi >/dev/null; then
  ngpu=$(nvidia-smi -L | grep -c '^GPU ')
else
  echo "run-node.sh: no nvidia-smi; set NGPU to the number of GPUs" >&2
  exit 2
fi
node=${NODE_INDEX:-0} nodes=${NODES:-1}
if ((ngpu < 1 || nodes < 1 || node < 0 || node >= nodes)); then
  echo "run-node.sh: need NGPU >= 1 and 0 <= NODE_INDEX < NODES (got $ngpu, $node, $nodes)" >&2
  exit 2
fi
count=$((nodes * ngpu))

pids=()
for ((k = 0; k < ngpu; k++)); do
  shard=$((node * ngpu + k))
  mkdir -p "$out/shard-$shard"
  "$pixab" explain --device "cuda:$k" -w "$model" -o "$out/shard-$shard" --shard "$shard/$count" --resume \
    "${extra[@]}" "$images" 2>"$out/shard-$shard/stderr.log" &
  pids+=($!)
done

status=0
for ((k = 0; k < ngpu; k++)); do
  rc=0
  wait "${pids[k]}" || rc=$?
  shard=$((node * ngpu + k))
  if ((rc == 1)); then
    echo "run-node.sh: shard $shard: some images were bad (see $out/shard-$shard/stderr.log)" >&2
    ((status < 1)) && status=1
  elif ((rc != 0)); then
    echo "run-node.sh: shard $shard failed (exit $rc): $(tail -n 1 "$out/shard-$shard/stderr.log")" >&2
    status=2
  fi
done
if ((status == 2)); then exit 2; fi

if ((nodes == 1)); then
  rc=0
  "$pixab" merge -o "$out/results.jsonl" "$out"/shard-*/results.jsonl || rc=$?
  if ((rc > 1)); then exit 2; fi
  if ((rc == 1 && status < 1)); then status=1; fi
fi
exit "$status"

#!/usr/bin/env bash
# slurm-array.sh — `pixab explain` over a Slurm job array: task I of N explains
# shard I/N (--shard) on one GPU into OUT/shard-I, with --resume so a requeued
# or resubmitted task continues where it stopped. Merge the shards afterwards
# with a job that depends on the whole array:
#
#   export IMAGES=/shared/images OUT=/shared/out WEIGHTS=/shared/model.safetensors
#   jid=$(sbatch --parsable --array=0-7 docker/slurm-array.sh)      # N = 8
#   sbatch --dependency=afterok:$jid --job-name=pixab-merge \
#          --wrap "${PIXAB:-pixab} merge -o $OUT/results.jsonl $OUT/shard-*/results.jsonl"
#
# (afterok on an array waits for every task to succeed; the shard-* glob is
# expanded by the merge job's shell when it runs.) Task count and index come from
# SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_ID, so the array must be 0-(N-1)
# with step 1 (a %K throttle is fine). Resubmitting the same array after a
# failure redoes only what is missing.
#
# Environment: IMAGES, OUT (required; on storage every node sees), WEIGHTS
# (default: the demo model of the Docker image), PIXAB (the command, default
# `pixab`; e.g. "apptainer exec --nv pixab.sif pixab"), PIXAB_FLAGS (more
# explain flags, e.g. "-m pixab,gradcam --no-png").
#SBATCH --job-name=pixab-explain
#SBATCH --array=0-7
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --output=pixab-%A_%a.log
set -euo pipefail

: "${IMAGES:?set IMAGES to the image directory}" "${OUT:?set OUT to the output directory}"
: "${SLURM_ARRAY_TASK_ID:?not a Slurm array task (submit with sbatch --array=0-N-1)}"
index=$SLURM_ARRAY_TASK_ID
count=${SLURM_ARRAY_TASK_COUNT:?}
if ((index >= count)); then
  echo "slurm-array.sh: task $index of $count: the array must be 0-$((count - 1))" >&2
  exit 2
fi
weights=${WEIGHTS:-/opt/pixab/models/pixab-demo.safetensors}
read -r -a pixab <<<"${PIXAB:-pixab}"
read -r -a flags <<<"${PIXAB_FLAGS:-}"
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-4}

# Slurm gives the task one GPU (--gres) and makes it device 0 (CUDA_VISIBLE_DEVICES).
rc=0
"${pixab[@]}" explain --device cuda -v -w "$weights" -o "$OUT/shard-$index" --shard "$index/$count" --resume \
  "${flags[@]}" "$IMAGES" || rc=$?
# Exit 1 = some bad images, reported above and skipped: the shard is complete,
# so the task succeeds and afterok still fires; anything else fails the task.
if ((rc == 1)); then
  echo "slurm-array.sh: shard $index/$count done; some images were bad (see above)" >&2
  exit 0
fi
exit "$rc"

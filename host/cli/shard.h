/* shard.h — which share of the inputs a run takes (shard.c): --shard I/N, or
 * the array index of the batch system that started it. */
#ifndef PIXAB_CLI_SHARD_H
#define PIXAB_CLI_SHARD_H

#include <stddef.h>

/* The share of a run: the inputs whose index is i mod n. */
typedef struct {
    long i, n;
    int set; /* given by --shard */
} cli_shard;

/* Parse --shard "I/N" (0 <= I < N) into the cli_shard at dst (a cli_parse_fn
 * of args.h); prints one line prefixed by cmd and returns -1 if bad. */
int cli_shard_parse(const char *cmd, const char *value, void *dst);
/* The shard from the environment, for runs without --shard: a Kubernetes
 * Indexed Job's JOB_COMPLETION_INDEX with the count in PIXAB_SHARD_COUNT (the
 * Job's completions, set by the manifest) or JOB_COMPLETION_COUNT; else a
 * Slurm array's SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (less
 * SLURM_ARRAY_TASK_MIN, over SLURM_ARRAY_TASK_STEP, when set). 1 when found
 * (`from` says which variables, for -v), 0 when none is set, -1 on a bad or
 * incomplete setting (one line printed). */
int cli_shard_env(const char *cmd, long *i, long *n, char *from, size_t cap);

#endif

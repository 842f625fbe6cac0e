/* shard.c — which share of the inputs a run takes: `--shard I/N`, or, when
 * the flag is absent, the array index of the batch system that started it
 * (a Kubernetes Indexed Job, a Slurm job array). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"

int cli_shard_parse(const char *cmd, const char *v, void *dst) {
    cli_shard *s = dst;
    char *end;
    errno = 0;
    long a = strtol(v, &end, 10), b;
    if (end != v && *end == '/' && !errno) {
        const char *q = end + 1;
        b = strtol(q, &end, 10);
        if (end != q && !*end && !errno && b >= 1 && a >= 0 && a < b) {
            s->i = a, s->n = b, s->set = 1;
            return 0;
        }
    }
    fprintf(stderr, "%s: --shard: '%s' is not I/N with 0 <= I < N\n", cmd, v);
    return -1;
}

/* The variable as a non-negative integer: 1; unset or empty: 0; else -1 (printed). */
static int env_long(const char *cmd, const char *name, long *out) {
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < 0 || x > 1L << 30) {
        fprintf(stderr, "%s: %s='%s' is not a non-negative integer (it sets the shard; see --shard)\n", cmd, name, v);
        return -1;
    }
    *out = x;
    return 1;
}

int cli_shard_env(const char *cmd, long *i, long *n, char *from, size_t cap) {
    long idx = 0, count = 0, a = 0, min = 0, step = 1;
    int r;
    if ((r = env_long(cmd, "JOB_COMPLETION_INDEX", &idx))) {
        /* An Indexed Job exposes only its index: the count is the Job's
         * .spec.completions, which the manifest passes as PIXAB_SHARD_COUNT. */
        int has_p = 0, has_j = 0;
        if (r < 0 || (has_p = env_long(cmd, "PIXAB_SHARD_COUNT", &count)) < 0 ||
            (has_j = env_long(cmd, "JOB_COMPLETION_COUNT", &a)) < 0)
            return -1;
        if (has_p && has_j && a != count) {
            fprintf(stderr, "%s: PIXAB_SHARD_COUNT=%ld and JOB_COMPLETION_COUNT=%ld disagree on the shard count\n", cmd,
                    count, a);
            return -1;
        }
        if (!has_p) count = a;
        if (!has_p && !has_j) {
            fprintf(stderr,
                    "%s: JOB_COMPLETION_INDEX=%ld is set but not the shard count: set PIXAB_SHARD_COUNT to the Job's "
                    "completions, or pass --shard I/N\n",
                    cmd, idx);
            return -1;
        }
        if (count < 1 || idx >= count) {
            fprintf(stderr, "%s: JOB_COMPLETION_INDEX=%ld is not a shard of %s=%ld (0 <= index < count)\n", cmd, idx,
                    has_p ? "PIXAB_SHARD_COUNT" : "JOB_COMPLETION_COUNT", count);
            return -1;
        }
        *i = idx, *n = count;
        snprintf(from, cap, "JOB_COMPLETION_INDEX=%ld, %s=%ld", idx,
                 has_p ? "PIXAB_SHARD_COUNT" : "JOB_COMPLETION_COUNT", count);
        return 1;
    }
    if ((r = env_long(cmd, "SLURM_ARRAY_TASK_ID", &idx))) {
        /* Task ids run from SLURM_ARRAY_TASK_MIN (often 1) in steps of
         * SLURM_ARRAY_TASK_STEP ("--array=1-99:2"). */
        int has_c = 0, has_min = 0, has_step = 0;
        if (r < 0 || (has_c = env_long(cmd, "SLURM_ARRAY_TASK_COUNT", &count)) < 0 ||
            (has_min = env_long(cmd, "SLURM_ARRAY_TASK_MIN", &min)) < 0 ||
            (has_step = env_long(cmd, "SLURM_ARRAY_TASK_STEP", &step)) < 0)
            return -1;
        if (!has_c) {
            fprintf(stderr, "%s: SLURM_ARRAY_TASK_ID=%ld is set but not SLURM_ARRAY_TASK_COUNT: pass --shard I/N\n", cmd,
                    idx);
            return -1;
        }
        if (!has_step || step < 1) step = 1;
        long k = (idx - min) / step;
        if (count < 1 || idx < min || (idx - min) % step || k >= count) {
            fprintf(stderr,
                    "%s: SLURM_ARRAY_TASK_ID=%ld is not a task of an array of SLURM_ARRAY_TASK_COUNT=%ld starting at "
                    "SLURM_ARRAY_TASK_MIN=%ld in steps of %ld\n",
                    cmd, idx, count, min, step);
            return -1;
        }
        *i = k, *n = count;
        char extra[96] = "";
        if (has_min || step > 1)
            snprintf(extra, sizeof extra, ", SLURM_ARRAY_TASK_MIN=%ld, SLURM_ARRAY_TASK_STEP=%ld", min, step);
        snprintf(from, cap, "SLURM_ARRAY_TASK_ID=%ld, SLURM_ARRAY_TASK_COUNT=%ld%s", idx, count, extra);
        return 1;
    }
    return 0;
}

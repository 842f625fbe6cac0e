/* run_log.h — OUTDIR/runs.jsonl of `pixab explain` (run_log.c): one JSON line
 * per run, appended whole like results.jsonl's: what ran (model, layer,
 * device, methods, shard), how long, and each input that failed with its
 * one-line reason. `pixab report` summarises it. */
#ifndef PIXAB_CLI_RUN_LOG_H
#define PIXAB_CLI_RUN_LOG_H

#include "pixab.h"

/* The inputs of a run that failed, each with the line printed for it. */
typedef struct {
    char *input, *reason;
} cli_failure;
typedef struct {
    cli_failure *v; /* (n) in the order they failed */
    int n, cap;
} cli_failures;
/* Copy (input, reason) into f; -1 when out of memory. */
int cli_failures_add(cli_failures *f, const char *input, const char *reason);
void cli_failures_free(cli_failures *f);

/* One run, as its line says it. */
typedef struct {
    const char *model, *layer, *device;
    const pixab_method *methods; /* (n_methods) */
    int n_methods;
    long shard_i, shard_n;
    int images;      /* explained by this run */
    int failed;      /* inputs that failed: those in the failures list and any others */
    double seconds;  /* from the first decode to the last output */
    int interrupted; /* stopped by a signal */
} cli_run_info;

/* Append {"time","model","layer","device","methods","shard","images","failed",
 * "seconds","images_per_s","interrupted","failures":[{"input","reason"}...]}
 * to OUTDIR/runs.jsonl (time: UTC, ISO 8601; images_per_s: images / seconds).
 * -1 with errno. */
int cli_run_log_append(const char *outdir, const cli_run_info *r, const cli_failures *f);

#endif

/* run_log.c — OUTDIR/runs.jsonl: a line per `pixab explain` run (model,
 * layer, device, methods, shard, images/s, the failed inputs and why),
 * appended in one write as results.jsonl's lines are (results.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "results.h"
#include "run_log.h"

static char *copy(const char *s) {
    char *c = malloc(strlen(s) + 1);
    return c ? strcpy(c, s) : NULL;
}

int cli_failures_add(cli_failures *f, const char *input, const char *reason) {
    if (f->n == f->cap) {
        int cap = f->cap ? 2 * f->cap : 16;
        cli_failure *v = realloc(f->v, sizeof *v * (size_t)cap);
        if (!v) return -1;
        f->v = v, f->cap = cap;
    }
    cli_failure *e = &f->v[f->n];
    e->input = copy(input), e->reason = copy(reason);
    if (!e->input || !e->reason) {
        free(e->input), free(e->reason);
        return -1;
    }
    f->n++;
    return 0;
}

void cli_failures_free(cli_failures *f) {
    for (int k = 0; k < f->n; k++) free(f->v[k].input), free(f->v[k].reason);
    free(f->v);
    memset(f, 0, sizeof *f);
}

int cli_run_log_append(const char *outdir, const cli_run_info *r, const cli_failures *f) {
    char *line = NULL, *path = cli_out_path(outdir, "runs", NULL, "jsonl"), stamp[32] = "";
    size_t len = 0;
    FILE *m = path ? open_memstream(&line, &len) : NULL;
    if (!m) return free(path), errno = ENOMEM, -1;
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(m, "{\"time\":\"%s\",\"model\":", stamp);
    json_write_string(m, r->model);
    fputs(",\"layer\":", m);
    json_write_string(m, r->layer);
    fputs(",\"device\":", m);
    json_write_string(m, r->device);
    fputs(",\"methods\":[", m);
    for (int k = 0; k < r->n_methods; k++) fprintf(m, "%s\"%s\"", k ? "," : "", pixab_method_name(r->methods[k]));
    fprintf(m, "],\"shard\":[%ld,%ld],\"images\":%d,\"failed\":%d,\"seconds\":%.3f,\"images_per_s\":%.3f,"
               "\"interrupted\":%s,\"failures\":[",
            r->shard_i, r->shard_n, r->images, r->failed, r->seconds,
            r->seconds > 0 ? r->images / r->seconds : 0.0, r->interrupted ? "true" : "false");
    for (int k = 0; f && k < f->n; k++) {
        fputs(k ? ",{\"input\":" : "{\"input\":", m);
        json_write_string(m, f->v[k].input);
        fputs(",\"reason\":", m);
        json_write_string(m, f->v[k].reason);
        fputc('}', m);
    }
    fputs("]}\n", m);
    int rc = -1, fd = -1;
    if (!fclose(m) && (fd = cli_results_open(path)) >= 0) rc = cli_append_whole(fd, line, len);
    int e = errno;
    if (fd >= 0 && close(fd) && !rc) rc = -1, e = errno;
    free(line), free(path);
    errno = e;
    return rc;
}

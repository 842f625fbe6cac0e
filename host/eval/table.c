/* table.c — running means of the evaluation suite's (method, task, metric)
 * cells (see table.h). */
#include "table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static int same(const eval_cell *c, const char *method, const char *task, const char *metric) {
    return !strcmp(c->method, method) && !strcmp(c->task, task) && !strcmp(c->metric, metric);
}

const eval_cell *eval_table_find(const eval_table *t, const char *method, const char *task, const char *metric) {
    for (size_t i = 0; i < t->n; i++)
        if (same(&t->cells[i], method, task, metric)) return &t->cells[i];
    return NULL;
}

pixab_status eval_table_add(eval_table *t, const char *method, const char *task, const char *metric, double value) {
    if (isnan(value)) return PIXAB_OK;
    eval_cell *c = (eval_cell *)eval_table_find(t, method, task, metric);
    if (!c) {
        if (strlen(method) >= sizeof c->method || strlen(task) >= sizeof c->task ||
            strlen(metric) >= sizeof c->metric)
            return pixab_fail(PIXAB_ERR_ARG, "metric name too long: %s/%s/%s", method, task, metric);
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 64;
            eval_cell *p = realloc(t->cells, sizeof *p * cap);
            if (!p) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for metrics");
            t->cells = p;
            t->cap = cap;
        }
        c = &t->cells[t->n++];
        memset(c, 0, sizeof *c);
        strcpy(c->method, method);
        strcpy(c->task, task);
        strcpy(c->metric, metric);
    }
    c->sum += value;
    c->n++;
    return PIXAB_OK;
}

double eval_table_mean(const eval_table *t, const char *method, const char *task, const char *metric) {
    const eval_cell *c = eval_table_find(t, method, task, metric);
    return c && c->n ? c->sum / (double)c->n : NAN;
}

void eval_table_free(eval_table *t) {
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* table.h — the evaluation suite's results: running means of
 * (method, task, metric) cells, in the order they were first added, so the
 * CLI can write metrics.csv (method,task,metric,value,n) and the markdown
 * tables from one place. */
#ifndef PIXAB_EVAL_TABLE_H
#define PIXAB_EVAL_TABLE_H

#include <stddef.h>

#include "pixab.h"

typedef struct {
    char method[24], task[16], metric[32];
    double sum;
    long n;
} eval_cell;

typedef struct {
    eval_cell *cells;
    size_t n, cap;
} eval_table;

/* Add one observation to the cell (created on first use). NaN values are
 * skipped (not counted). PIXAB_ERR_NOMEM, or ARG for names too long. */
pixab_status eval_table_add(eval_table *t, const char *method, const char *task, const char *metric, double value);
/* The cell, or NULL when nothing was added to it. */
const eval_cell *eval_table_find(const eval_table *t, const char *method, const char *task, const char *metric);
/* Its mean (NaN when the cell is missing or empty). */
double eval_table_mean(const eval_table *t, const char *method, const char *task, const char *metric);
void eval_table_free(eval_table *t);

#endif

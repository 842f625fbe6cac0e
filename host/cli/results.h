/* results.h — OUTDIR/results.jsonl of `pixab explain` (results.c): output
 * paths, lines appended whole, and what the file says is done (--resume). */
#ifndef PIXAB_CLI_RESULTS_H
#define PIXAB_CLI_RESULTS_H

#include <stddef.h>

#include "pixab.h"

/* OUTDIR/<stem>.<method>.<ext>, or OUTDIR/<stem>.<ext> without a method;
 * malloc'd (NULL when out of memory). */
char *cli_out_path(const char *outdir, const char *stem, const char *method, const char *ext);
/* Open results.jsonl for appending (O_APPEND); a torn last line (no final
 * newline) is ended first so new lines start clean. -1 with errno. */
int cli_results_open(const char *path);
/* Append buf[0, n) (whole lines) to the file open at fd with O_APPEND, in
 * one write(); should it fail part way, the file is cut back to its length
 * before, so no line is ever torn. -1 with errno. (runs.jsonl uses it too.) */
int cli_append_whole(int fd, const char *buf, size_t n);
/* Append one line {"image","method","layer","class","label"?,"score",
 * "score_kind","map","png"?,"ms","shared_ms","wsol_box"?} (wsol_box: NULL,
 * or [x0, y0, x1, y1]) in a single write(), so lines
 * are never torn or interleaved; should it fail part way (a full disk), the
 * file is truncated back to its length before it. -1 with errno. */
int cli_results_append(int fd, const pixab_model *m, const char *image, const char *layer, const pixab_map *map,
                       const char *npy, const char *png, double shared_ms, const int *wsol_box);
/* What results.jsonl says is done, for --resume: the (map, layer) pairs of
 * its complete lines (torn or foreign lines ignored), with their class. */
typedef struct {
    char *key;   /* the map's file name (whatever the outdir's spelling), 0x1f, the layer */
    int cls;     /* the line's "class" (-1 when it has none) */
    size_t line; /* the line's index: of equal keys, the last line counts */
} cli_done_entry;
typedef struct {
    cli_done_entry *v; /* (n) sorted by key, then line */
    size_t n;
} cli_done_set;
/* Read the file open at fd (from offset 0); -1 on a read error or out of memory. */
int cli_done_load(int fd, cli_done_set *d);
/* 1 when (map, layer) is done, 0 when not, -1 when out of memory. */
int cli_done_has(const cli_done_set *d, const char *map, const char *layer);
/* The class of (map, layer)'s last line, or -1 when there is none (or out of memory). */
int cli_done_class(const cli_done_set *d, const char *map, const char *layer);
void cli_done_free(cli_done_set *d);

#endif

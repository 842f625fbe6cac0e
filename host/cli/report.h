/* report.h — OUTDIR/report/ of `pixab report` and `pixab explain --report`
 * (report.c): a static, offline HTML gallery of an output directory. */
#ifndef PIXAB_CLI_REPORT_H
#define PIXAB_CLI_REPORT_H

#include <stddef.h>

/* Images per page of the gallery, and per chunk of its search index. */
enum { REPORT_PAGE_SIZE = 50, REPORT_CHUNK_SIZE = 10000 };

typedef struct {
    size_t lines, skipped; /* results.jsonl's lines kept, and those skipped (torn, foreign) */
    size_t images, pages, failures, metrics;
} cli_report_stats;

/* Write OUTDIR/report/: index.html (summary, eval tables and plots, the
 * gallery's frame), report.js and report.css, and data/: page-NNNNN.js (the
 * images of each page of 50, in results order) and index-NNN.js (the
 * search index: file name, class, methods and scores of every image, in
 * chunks of 10,000). Every file is written by the rule of temp_file.h, the
 * data before index.html; data files of an earlier, larger report are
 * removed. 0, or -1 with a one-line reason in why (OUTDIR has neither
 * results.jsonl nor metrics.csv; a file cannot be read or written). */
int cli_report_write(const char *outdir, cli_report_stats *st, char *why, size_t cap);

#endif

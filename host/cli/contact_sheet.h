/* contact_sheet.h — OUTDIR/contact_sheet.png of `pixab explain`
 * (contact_sheet.c): thumbnails of images and their overlays, kept during the
 * run and composed at the end. */
#ifndef PIXAB_CLI_CONTACT_SHEET_H
#define PIXAB_CLI_CONTACT_SHEET_H

#include <stddef.h>

#include "pixab.h"

typedef struct cli_sheet cli_sheet;

/* The contact sheet of `pixab explain`: a header CLI_SHEET_HEADER_H px high with
 * the column labels ("image", then the method names), then one row per image,
 * CLI_SHEET_CELL_H + CLI_SHEET_GAP px high: a label column CLI_SHEET_LABEL_W px
 * wide (stem, class), then 1 + methods columns, each as wide as the widest
 * thumbnail plus CLI_SHEET_GAP. A thumbnail is CLI_SHEET_CELL_H px high and
 * CLI_SHEET_CELL_H * w / h wide, capped at CLI_SHEET_MAX_W (then less high, to
 * keep the aspect). At most CLI_SHEET_MAX_ROWS rows. */
enum {
    CLI_SHEET_MAX_ROWS = 16,
    CLI_SHEET_CELL_H = 160,
    CLI_SHEET_MAX_W = 320,
    CLI_SHEET_HEADER_H = 28,
    CLI_SHEET_LABEL_W = 200,
    CLI_SHEET_GAP = 4,
};
cli_sheet *cli_sheet_new(const pixab_method *methods, int n_methods);
void cli_sheet_free(cli_sheet *s);
/* Add a row at `key` (rows are shown by key: the image's index in the
 * inputs); the sheet keeps the CLI_SHEET_MAX_ROWS rows of the smallest keys.
 * Returns the row's index (valid until the next add), -1 when the sheet is
 * full of smaller keys, -2 when out of memory. */
int cli_sheet_add_row(cli_sheet *s, int key, const char *stem, const char *label);
/* The index of the row at key, or -1. */
int cli_sheet_find(const cli_sheet *s, int key);
int cli_sheet_rows(const cli_sheet *s);
/* Store the thumbnail of rgb (h, w, 3) at (row, col): col 0 the image, col 1 + k
 * method k. Ignored (0) for no sheet or a row/col out of range; -1 when out of
 * memory. */
int cli_sheet_set(cli_sheet *s, int row, int col, const unsigned char *rgb, int w, int h);
/* cli_sheet_set with the image file at path (an overlay or an input written
 * by an earlier run, for --resume). A file that cannot be decoded leaves the
 * cell empty (0); -1 when out of memory. */
int cli_sheet_load(cli_sheet *s, int row, int col, const char *path);
/* Its size in pixels, and the width of a cell column (col_w may be NULL). */
void cli_sheet_size(const cli_sheet *s, int *w, int *h, int *col_w);
/* Compose and write it with cli_write_png. */
int cli_sheet_write(const cli_sheet *s, const char *path, char *why, size_t cap);

#endif

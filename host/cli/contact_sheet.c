/* contact_sheet.c — OUTDIR/contact_sheet.png of `pixab explain`: one row per
 * explained image (the first CLI_SHEET_MAX_ROWS in input order, those of
 * earlier runs read back from their files with --resume), the image and then
 * its overlay per method, each scaled to CLI_SHEET_CELL_H px high, with column
 * labels on top and the image's stem and class at the left. Thumbnails are kept
 * in memory during the run and composed at the end on a canvas (canvas.h),
 * text in stb_easy_font. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "contact_sheet.h"
#include "outputs.h"

#define TEXT_SCALE 2
#define PAD 6

typedef struct {
    unsigned char *rgb; /* (h, w, 3), NULL while not set */
    int w, h;
} thumb;

typedef struct {
    int key; /* shown in key order */
    char *stem, *label;
    thumb cells[1 + PIXAB_METHOD_COUNT];
} sheet_row;

struct cli_sheet {
    int n_methods;
    char names[PIXAB_METHOD_COUNT][32];
    sheet_row rows[CLI_SHEET_MAX_ROWS];
    int n_rows;
};

cli_sheet *cli_sheet_new(const pixab_method *methods, int n_methods) {
    cli_sheet *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n_methods = n_methods < PIXAB_METHOD_COUNT ? n_methods : PIXAB_METHOD_COUNT;
    for (int k = 0; k < s->n_methods; k++) snprintf(s->names[k], sizeof s->names[k], "%s", pixab_method_name(methods[k]));
    return s;
}

static char *dup_str(const char *t) {
    char *d = malloc(strlen(t) + 1);
    if (d) strcpy(d, t);
    return d;
}

/* The thumbnail size of a w x h image: CLI_SHEET_CELL_H high, width keeping the
 * aspect, capped at CLI_SHEET_MAX_W (the height then shrinks to keep it). */
static void thumb_size(int w, int h, int *tw, int *th) {
    long x = (long)CLI_SHEET_CELL_H * w / h;
    *th = CLI_SHEET_CELL_H;
    if (x > CLI_SHEET_MAX_W) {
        x = CLI_SHEET_MAX_W;
        long y = (long)CLI_SHEET_MAX_W * h / w;
        *th = y < 1 ? 1 : (int)y;
    }
    *tw = x < 1 ? 1 : (int)x;
}

static void row_free(cli_sheet *s, sheet_row *r) {
    free(r->stem);
    free(r->label);
    for (int c = 0; c <= s->n_methods; c++) free(r->cells[c].rgb);
    memset(r, 0, sizeof *r);
}

void cli_sheet_free(cli_sheet *s) {
    if (!s) return;
    for (int r = 0; r < s->n_rows; r++) row_free(s, &s->rows[r]);
    free(s);
}

int cli_sheet_add_row(cli_sheet *s, int key, const char *stem, const char *label) {
    int at = s->n_rows;
    if (at == CLI_SHEET_MAX_ROWS) { /* full: the row of the largest key makes room for a smaller one */
        at = 0;
        for (int r = 1; r < s->n_rows; r++)
            if (s->rows[r].key > s->rows[at].key) at = r;
        if (s->rows[at].key <= key) return -1;
    }
    sheet_row row = {.key = key, .stem = dup_str(stem), .label = dup_str(label)};
    if (!row.stem || !row.label) {
        free(row.stem);
        free(row.label);
        return -2;
    }
    if (at < s->n_rows) row_free(s, &s->rows[at]);
    else s->n_rows++;
    s->rows[at] = row;
    return at;
}

int cli_sheet_find(const cli_sheet *s, int key) {
    for (int r = 0; s && r < s->n_rows; r++)
        if (s->rows[r].key == key) return r;
    return -1;
}

int cli_sheet_set(cli_sheet *s, int row, int col, const unsigned char *rgb, int w, int h) {
    if (!s || row < 0 || row >= s->n_rows || col < 0 || col > s->n_methods || w < 1 || h < 1) return 0;
    thumb *t = &s->rows[row].cells[col];
    int tw, th;
    thumb_size(w, h, &tw, &th);
    unsigned char *out = malloc((size_t)tw * th * 3);
    if (!out) return -1;
    /* Box filter: each thumbnail pixel averages the source pixels it covers
     * (at least one, so it also enlarges small images). */
    for (int y = 0; y < th; y++) {
        int y0 = (int)((long)y * h / th), y1 = (int)((long)(y + 1) * h / th);
        if (y1 <= y0) y1 = y0 + 1;
        for (int x = 0; x < tw; x++) {
            int x0 = (int)((long)x * w / tw), x1 = (int)((long)(x + 1) * w / tw);
            if (x1 <= x0) x1 = x0 + 1;
            unsigned long sum[3] = {0, 0, 0}, n = (unsigned long)(y1 - y0) * (unsigned long)(x1 - x0);
            for (int v = y0; v < y1; v++)
                for (int u = x0; u < x1; u++)
                    for (int c = 0; c < 3; c++) sum[c] += rgb[((size_t)v * w + u) * 3 + c];
            for (int c = 0; c < 3; c++) out[((size_t)y * tw + x) * 3 + c] = (unsigned char)((sum[c] + n / 2) / n);
        }
    }
    free(t->rgb);
    t->rgb = out;
    t->w = tw;
    t->h = th;
    return 0;
}

int cli_sheet_load(cli_sheet *s, int row, int col, const char *path) {
    pixab_image img;
    pixab_status st = pixab_image_load(path, &img);
    if (st) return st == PIXAB_ERR_NOMEM ? -1 : 0;
    int rc = cli_sheet_set(s, row, col, img.rgb, img.width, img.height);
    pixab_image_free(&img);
    return rc;
}

int cli_sheet_rows(const cli_sheet *s) { return s ? s->n_rows : 0; }

/* ---- composing ------------------------------------------------------------------ */

static const unsigned char black[3] = {0, 0, 0}, light_grey[3] = {224, 224, 224};

void cli_sheet_size(const cli_sheet *s, int *w, int *h, int *col_w) {
    int cw = 1;
    for (int r = 0; r < s->n_rows; r++)
        for (int c = 0; c <= s->n_methods; c++)
            if (s->rows[r].cells[c].w > cw) cw = s->rows[r].cells[c].w;
    if (col_w) *col_w = cw;
    *w = CLI_SHEET_LABEL_W + (1 + s->n_methods) * (cw + CLI_SHEET_GAP);
    *h = CLI_SHEET_HEADER_H + s->n_rows * (CLI_SHEET_CELL_H + CLI_SHEET_GAP);
}

int cli_sheet_write(const cli_sheet *s, const char *path, char *why, size_t cap) {
    canvas cv;
    int w, h, cw;
    cli_sheet_size(s, &w, &h, &cw);
    if (canvas_init(&cv, w, h, 255)) {
        snprintf(why, cap, "cannot write '%s': out of memory", path);
        return -1;
    }
    const int text_y = (CLI_SHEET_HEADER_H - CANVAS_TEXT_H * TEXT_SCALE) / 2;
    for (int c = 0; c <= s->n_methods; c++) {
        int x = CLI_SHEET_LABEL_W + c * (cw + CLI_SHEET_GAP);
        canvas_text(&cv, x, text_y, c ? s->names[c - 1] : "image", TEXT_SCALE, cw, black);
    }
    int order[CLI_SHEET_MAX_ROWS]; /* the rows by key */
    for (int r = 0; r < s->n_rows; r++) {
        int k = r;
        for (; k > 0 && s->rows[order[k - 1]].key > s->rows[r].key; k--) order[k] = order[k - 1];
        order[k] = r;
    }
    for (int r = 0; r < s->n_rows; r++) {
        const sheet_row *row = &s->rows[order[r]];
        int y = CLI_SHEET_HEADER_H + r * (CLI_SHEET_CELL_H + CLI_SHEET_GAP);
        int max_w = CLI_SHEET_LABEL_W - 2 * PAD;
        canvas_text(&cv, PAD, y + PAD, row->stem, TEXT_SCALE, max_w, black);
        canvas_text(&cv, PAD, y + PAD + 12 * TEXT_SCALE, row->label, TEXT_SCALE, max_w, black);
        for (int c = 0; c <= s->n_methods; c++) {
            const thumb *t = &row->cells[c];
            int x = CLI_SHEET_LABEL_W + c * (cw + CLI_SHEET_GAP);
            if (!t->rgb) { /* not made (a file of an earlier run that cannot be read back): light grey */
                canvas_fill(&cv, x, y, x + cw, y + CLI_SHEET_CELL_H, light_grey);
                continue;
            }
            int oy = y + (CLI_SHEET_CELL_H - t->h) / 2;
            for (int v = 0; v < t->h; v++)
                memcpy(cv.rgb + ((size_t)(oy + v) * cv.w + x) * 3, t->rgb + (size_t)v * t->w * 3, (size_t)t->w * 3);
        }
    }
    int rc = cli_write_png(path, cv.rgb, cv.w, cv.h, why, cap);
    canvas_free(&cv);
    return rc;
}

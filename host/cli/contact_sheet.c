/* contact_sheet.c — OUTDIR/contact_sheet.png of `pixab explain`: one row per
 * explained image (the first CLI_SHEET_MAX_ROWS of the run), the image and then
 * its overlay per method, each scaled to CLI_SHEET_CELL_H px high, with column
 * labels on top and the image's stem and class at the left. Thumbnails are kept
 * in memory during the run and composed at the end; text is drawn with
 * stb_easy_font's quads. */
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-braces"
#endif
#include <stb_easy_font.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "cli.h"

#define TEXT_SCALE 2
#define PAD 6

typedef struct {
    unsigned char *rgb; /* (h, w, 3), NULL while not set */
    int w, h;
} thumb;

typedef struct {
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

void cli_sheet_free(cli_sheet *s) {
    if (!s) return;
    for (int r = 0; r < s->n_rows; r++) {
        free(s->rows[r].stem);
        free(s->rows[r].label);
        for (int c = 0; c <= s->n_methods; c++) free(s->rows[r].cells[c].rgb);
    }
    free(s);
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

int cli_sheet_add_row(cli_sheet *s, const char *stem, const char *label) {
    if (s->n_rows >= CLI_SHEET_MAX_ROWS) return -1;
    sheet_row *r = &s->rows[s->n_rows];
    memset(r, 0, sizeof *r);
    r->stem = dup_str(stem);
    r->label = dup_str(label);
    if (!r->stem || !r->label) {
        free(r->stem);
        free(r->label);
        memset(r, 0, sizeof *r);
        return -2;
    }
    return s->n_rows++;
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

int cli_sheet_rows(const cli_sheet *s) { return s ? s->n_rows : 0; }

/* ---- composing ------------------------------------------------------------------ */

typedef struct {
    unsigned char *rgb;
    int w, h;
} canvas;

static void fill(canvas *cv, int x0, int y0, int x1, int y1, unsigned char v) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > cv->w) x1 = cv->w;
    if (y1 > cv->h) y1 = cv->h;
    for (int y = y0; y < y1; y++)
        if (x0 < x1) memset(cv->rgb + ((size_t)y * cv->w + x0) * 3, v, (size_t)(x1 - x0) * 3);
}

/* Printable ASCII only (stb_easy_font indexes its table by char - 32); cut
 * with "..." to at most max_w pixels at TEXT_SCALE. */
static void fit_text(const char *in, char *out, size_t cap, int max_w) {
    size_t n = 0;
    for (; in[n] && n + 1 < cap; n++) out[n] = in[n] >= 32 && in[n] < 127 ? in[n] : '?';
    out[n] = '\0';
    if (stb_easy_font_width(out) * TEXT_SCALE <= max_w) return;
    while (n > 0) {
        out[--n] = '\0';
        if (n + 4 > cap) continue;
        char probe[256];
        snprintf(probe, sizeof probe, "%s...", out);
        if (stb_easy_font_width(probe) * TEXT_SCALE <= max_w || n == 0) {
            snprintf(out, cap, "%s", probe);
            return;
        }
    }
}

/* Text in black at (x, y), clipped to x < clip_x. */
static void draw_text(canvas *cv, int x, int y, const char *text, int clip_x, int max_w) {
    char buf[256];
    fit_text(text, buf, sizeof buf, max_w);
    static char quads[64 * 4096];
    int n = stb_easy_font_print(0.0f, 0.0f, buf, NULL, quads, (int)sizeof quads);
    for (int q = 0; q < n; q++) {
        const char *v = quads + 64 * q;
        float qx0 = 1e9f, qy0 = 1e9f, qx1 = -1e9f, qy1 = -1e9f;
        for (int k = 0; k < 4; k++) {
            float fx, fy;
            memcpy(&fx, v + 16 * k, sizeof fx);
            memcpy(&fy, v + 16 * k + 4, sizeof fy);
            if (fx < qx0) qx0 = fx;
            if (fx > qx1) qx1 = fx;
            if (fy < qy0) qy0 = fy;
            if (fy > qy1) qy1 = fy;
        }
        int x1 = x + (int)(qx1 * TEXT_SCALE + 0.5f);
        if (x1 > clip_x) x1 = clip_x;
        fill(cv, x + (int)(qx0 * TEXT_SCALE + 0.5f), y + (int)(qy0 * TEXT_SCALE + 0.5f), x1,
             y + (int)(qy1 * TEXT_SCALE + 0.5f), 0);
    }
}

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
    int cw;
    cli_sheet_size(s, &cv.w, &cv.h, &cw);
    cv.rgb = malloc((size_t)cv.w * cv.h * 3);
    if (!cv.rgb) {
        snprintf(why, cap, "cannot write '%s': out of memory", path);
        return -1;
    }
    memset(cv.rgb, 255, (size_t)cv.w * cv.h * 3);
    const int text_y = (CLI_SHEET_HEADER_H - 7 * TEXT_SCALE) / 2;
    for (int c = 0; c <= s->n_methods; c++) {
        int x = CLI_SHEET_LABEL_W + c * (cw + CLI_SHEET_GAP);
        draw_text(&cv, x, text_y, c ? s->names[c - 1] : "image", x + cw, cw);
    }
    for (int r = 0; r < s->n_rows; r++) {
        const sheet_row *row = &s->rows[r];
        int y = CLI_SHEET_HEADER_H + r * (CLI_SHEET_CELL_H + CLI_SHEET_GAP);
        int max_w = CLI_SHEET_LABEL_W - 2 * PAD;
        draw_text(&cv, PAD, y + PAD, row->stem, CLI_SHEET_LABEL_W - PAD, max_w);
        draw_text(&cv, PAD, y + PAD + 12 * TEXT_SCALE, row->label, CLI_SHEET_LABEL_W - PAD, max_w);
        for (int c = 0; c <= s->n_methods; c++) {
            const thumb *t = &row->cells[c];
            int x = CLI_SHEET_LABEL_W + c * (cw + CLI_SHEET_GAP);
            if (!t->rgb) { /* not made in this run (--resume): light grey */
                fill(&cv, x, y, x + cw, y + CLI_SHEET_CELL_H, 224);
                continue;
            }
            int oy = y + (CLI_SHEET_CELL_H - t->h) / 2;
            for (int v = 0; v < t->h; v++)
                memcpy(cv.rgb + ((size_t)(oy + v) * cv.w + x) * 3, t->rgb + (size_t)v * t->w * 3, (size_t)t->w * 3);
        }
    }
    int rc = cli_write_png(path, cv.rgb, cv.w, cv.h, why, cap);
    free(cv.rgb);
    return rc;
}

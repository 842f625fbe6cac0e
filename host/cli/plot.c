/* plot.c — line plots for `pixab eval` (see plot.h), in matplotlib's manner:
 * a framed plot area with light grid lines at the ticks, tab10 colours, the
 * legend in the corner of the plot area that the data leave most free. The
 * layout (margins from the text sizes, ticks) is computed first, then drawn. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "outputs.h"
#include "plot.h"

static const unsigned char tab10[10][3] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                           {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                           {188, 189, 34},  {23, 190, 207}};
static const unsigned char black[3] = {0, 0, 0}, white[3] = {255, 255, 255}, grid_grey[3] = {232, 232, 232},
                           edge_grey[3] = {200, 200, 200};

enum { MAX_TICKS = 16 };

typedef struct {
    float v[MAX_TICKS];
    char label[MAX_TICKS][24];
    int n;
} ticks;

/* Everything plot_write draws from, derived from the arguments. */
typedef struct {
    plot_frame f;
    int scale, title_scale; /* px per font unit */
    int pad, tick_len, gap; /* px */
    ticks yt, xt;           /* xt: numeric x ticks (none with categories) */
    int x_up;               /* category labels read upwards */
    int x_every;            /* label every x_every-th category */
    int x_label_max;        /* px a category label may take */
    float line_w, marker_w; /* px */
    int markers;            /* draw markers at every finite point */
} layout;

static float x_at(const plot_axes *ax, int i) { return ax->x ? ax->x[i] : (float)i; }

/* Ticks at multiples of 1, 2 or 5 x 10^k, about `target` of them over [lo, hi],
 * labelled with as many decimals as the step needs. */
static void nice_ticks(double lo, double hi, int target, ticks *t) {
    t->n = 0;
    double raw = (hi - lo) / (target < 1 ? 1 : target);
    if (!(raw > 0.0) || !isfinite(raw)) return;
    double mag = pow(10.0, floor(log10(raw))), norm = raw / mag;
    double step = (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
    int dec = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    for (double k = ceil(lo / step - 1e-6); t->n < MAX_TICKS; k++) {
        double v = k * step;
        if (v > hi + step * 1e-6) break;
        if (fabs(v) < step * 1e-6) v = 0.0; /* no "-0.0" */
        t->v[t->n] = (float)v;
        if (dec <= 6 && fabs(v) < 1e7)
            snprintf(t->label[t->n], sizeof t->label[0], "%.*f", dec, v);
        else
            snprintf(t->label[t->n], sizeof t->label[0], "%.3g", v);
        t->n++;
    }
}

static int widest(const ticks *t, int scale) {
    int w = 0;
    for (int i = 0; i < t->n; i++) {
        int tw = canvas_text_width(t->label[i], scale);
        if (tw > w) w = tw;
    }
    return w;
}

/* [lo, hi] padded by 5% each side; a single value v gets 5% of |v| (0.5 for 0). */
static void pad_range(double lo, double hi, float *out_lo, float *out_hi) {
    double p = hi > lo ? 0.05 * (hi - lo) : lo != 0.0 ? 0.05 * fabs(lo) : 0.5;
    *out_lo = (float)(lo - p);
    *out_hi = (float)(hi + p);
}

static int fail(char *why, size_t cap, const char *reason) {
    snprintf(why, cap, "%s", reason);
    return -1;
}

/* The data ranges; -1 with the reason for bad arguments. */
static int ranges(const plot_axes *ax, const plot_series *s, int n_series, plot_frame *f, char *why, size_t cap) {
    if (ax->n_points < 1) return fail(why, cap, "a plot needs at least one point");
    if (n_series < 0 || (n_series > 0 && !s)) return fail(why, cap, "bad series count");
    for (int k = 0; k < n_series; k++)
        if (!s[k].y) return fail(why, cap, "a series has no values");
    if (!isfinite(ax->y_min) || !isfinite(ax->y_max) || ax->y_min > ax->y_max)
        return fail(why, cap, "bad y range (not finite, or min > max)");
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < ax->n_points; i++) {
        double v = x_at(ax, i);
        if (!isfinite(v)) return fail(why, cap, "an x position is not finite");
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    pad_range(lo, hi, &f->x_lo, &f->x_hi);
    if (ax->y_min < ax->y_max) {
        f->y_lo = ax->y_min;
        f->y_hi = ax->y_max;
    } else {
        lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < n_series; k++)
            for (int i = 0; i < ax->n_points; i++) {
                double v = s[k].y[i];
                if (!isfinite(v)) continue;
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        if (lo > hi) lo = 0.0, hi = 1.0; /* no data: an empty [0, 1] */
        pad_range(lo, hi, &f->y_lo, &f->y_hi);
    }
    if (!isfinite(f->x_hi - f->x_lo) || !isfinite(f->y_hi - f->y_lo) || !(f->x_hi > f->x_lo) || !(f->y_hi > f->y_lo))
        return fail(why, cap, "values too large to plot");
    return 0;
}

/* Margins from the text they hold, then the ticks; -1 with the reason. */
static int make_layout(const plot_axes *ax, const plot_series *s, int n_series, int width, int height, layout *L,
                       char *why, size_t cap) {
    memset(L, 0, sizeof *L);
    if (width < PLOT_MIN_SIDE || height < PLOT_MIN_SIDE || width > PLOT_MAX_SIDE || height > PLOT_MAX_SIDE) {
        snprintf(why, cap, "plot size %dx%d outside [%d, %d]", width, height, PLOT_MIN_SIDE, PLOT_MAX_SIDE);
        return -1;
    }
    if (ranges(ax, s, n_series, &L->f, why, cap)) return -1;
    const int S = 1 + (width < height ? width : height) / 600;
    L->scale = S;
    L->title_scale = S + 1;
    L->pad = 6 * S;
    L->tick_len = 4 * S;
    L->gap = 3 * S;
    L->line_w = 1.0f + (float)S;
    L->marker_w = 3.0f * L->line_w;
    const int text_h = CANVAS_TEXT_DESC * S;

    plot_frame *f = &L->f;
    f->y0 = L->pad + (ax->title ? CANVAS_TEXT_DESC * L->title_scale + L->pad : 0);
    /* y ticks about every 60 px of a plot area guessed at 3/4 of the height */
    nice_ticks(f->y_lo, f->y_hi, (int)(0.75 * height / (60.0 * S)), &L->yt);
    f->x0 = L->pad + (ax->y_label ? text_h + L->pad : 0) + widest(&L->yt, S) + L->gap + L->tick_len;
    f->x1 = width - 1 - 3 * L->pad;
    const int plot_w = f->x1 - f->x0;
    if (plot_w < 40) return fail(why, cap, "plot too narrow for its labels");
    const double px_per_x = plot_w / ((double)f->x_hi - f->x_lo);

    /* the closest two points, in px, decide markers and category labels */
    double min_gap = plot_w;
    for (int i = 1; i < ax->n_points; i++) {
        double g = fabs((double)x_at(ax, i) - x_at(ax, i - 1)) * px_per_x;
        if (g < min_gap) min_gap = g;
    }
    L->markers = min_gap >= 2.5 * L->marker_w;

    int tick_text_h = text_h;
    if (ax->x_ticks) {
        int w = 0;
        for (int i = 0; i < ax->n_points; i++) {
            int tw = ax->x_ticks[i] ? canvas_text_width(ax->x_ticks[i], S) : 0;
            if (tw > w) w = tw;
        }
        L->x_every = 1;
        if (w + 2 * L->gap > min_gap) {
            L->x_up = 1;
            L->x_label_max = w < height / 4 ? w : height / 4;
            tick_text_h = L->x_label_max;
            while (L->x_every < ax->n_points && L->x_every * min_gap < text_h + L->gap) L->x_every++;
        } else {
            L->x_label_max = w;
        }
    } else {
        /* numeric: as many as fit with their labels apart, about every 100 px at most */
        for (int target = plot_w / (100 * S) > 1 ? plot_w / (100 * S) : 1; target >= 1; target--) {
            nice_ticks(f->x_lo, f->x_hi, target, &L->xt);
            if (L->xt.n < 2 ||
                (widest(&L->xt, S) + 4 * L->gap) * (L->xt.n - 1) <= (L->xt.v[L->xt.n - 1] - L->xt.v[0]) * px_per_x)
                break;
        }
    }
    f->y1 = height - 1 - (L->tick_len + L->gap + tick_text_h + (ax->x_label ? L->pad + text_h : 0) + L->pad);
    if (f->y1 - f->y0 < 40) return fail(why, cap, "plot too low for its labels");
    return 0;
}

int plot_frame_of(const plot_axes *ax, const plot_series *s, int n_series, int width, int height, plot_frame *f,
                  char *why, size_t cap) {
    layout L;
    if (make_layout(ax, s, n_series, width, height, &L, why, cap)) return -1;
    *f = L.f;
    return 0;
}

/* Data to pixel coordinates, kept within a million px so that lines towards
 * far-off values stay finite (and are cut at the frame). */
static float clamp_px(double p) { return (float)(p < -1e6 ? -1e6 : p > 1e6 ? 1e6 : p); }
static float px_x(const plot_frame *f, double v) {
    return clamp_px(f->x0 + (v - f->x_lo) / ((double)f->x_hi - f->x_lo) * (f->x1 - f->x0));
}
static float px_y(const plot_frame *f, double v) {
    return clamp_px(f->y1 - (v - f->y_lo) / ((double)f->y_hi - f->y_lo) * (f->y1 - f->y0));
}

static int finite_at(const plot_series *s, int n, int i) { return i >= 0 && i < n && isfinite(s->y[i]); }

/* The x ticks: one per category, or the numeric ones; their columns. */
static int x_tick_count(const layout *L, const plot_axes *ax) { return ax->x_ticks ? ax->n_points : L->xt.n; }
static int x_tick_col(const layout *L, const plot_axes *ax, int i) {
    return (int)lroundf(px_x(&L->f, ax->x_ticks ? x_at(ax, i) : L->xt.v[i]));
}
static int y_tick_row(const layout *L, int i) { return (int)lroundf(px_y(&L->f, L->yt.v[i])); }

static void draw_series(canvas *cv, const layout *L, const plot_axes *ax, const plot_series *s,
                        const unsigned char rgb[3]) {
    const int n = ax->n_points;
    for (int i = 1; i < n; i++)
        if (finite_at(s, n, i - 1) && finite_at(s, n, i))
            canvas_line(cv, px_x(&L->f, x_at(ax, i - 1)), px_y(&L->f, s->y[i - 1]), px_x(&L->f, x_at(ax, i)),
                        px_y(&L->f, s->y[i]), L->line_w, rgb);
    for (int i = 0; i < n; i++)
        if (finite_at(s, n, i) && (L->markers || (!finite_at(s, n, i - 1) && !finite_at(s, n, i + 1)))) {
            float x = px_x(&L->f, x_at(ax, i)), y = px_y(&L->f, s->y[i]);
            canvas_line(cv, x, y, x, y, L->marker_w, rgb);
        }
}

/* How much of series data (points, and 16 samples along each segment) lies
 * in the box [bx0, bx1] x [by0, by1]. */
static long crowding(const layout *L, const plot_axes *ax, const plot_series *s, int n_series, int bx0, int by0,
                     int bx1, int by1) {
    long count = 0;
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < ax->n_points; i++) {
            if (!finite_at(&s[k], ax->n_points, i)) continue;
            int seg = finite_at(&s[k], ax->n_points, i + 1);
            float x0 = px_x(&L->f, x_at(ax, i)), y0 = px_y(&L->f, s[k].y[i]);
            float x1 = seg ? px_x(&L->f, x_at(ax, i + 1)) : x0, y1 = seg ? px_y(&L->f, s[k].y[i + 1]) : y0;
            for (int j = 0; j < (seg ? 16 : 1); j++) {
                float x = x0 + (x1 - x0) * j / 16.0f, y = y0 + (y1 - y0) * j / 16.0f;
                count += x >= bx0 && x <= bx1 && y >= by0 && y <= by1;
            }
        }
    return count;
}

static void draw_legend(canvas *cv, const layout *L, const plot_axes *ax, const plot_series *s, int n_series) {
    const int S = L->scale, row_h = CANVAS_TEXT_DESC * S + 4 * S, swatch = 20 * S;
    const plot_frame *f = &L->f;
    int n = 0, text_w = 0, max_text = (f->x1 - f->x0) * 45 / 100;
    for (int k = 0; k < n_series; k++)
        if (s[k].name && s[k].name[0]) {
            int w = canvas_text_width(s[k].name, S);
            text_w = w > text_w ? w : text_w;
            n++;
        }
    if (!n) return;
    if (text_w > max_text) text_w = max_text;
    const int w = 3 * L->pad + swatch + text_w, h = 2 * L->pad + n * row_h - 4 * S;
    /* upper right, upper left, lower left, lower right: the first least crowded */
    int best_x = 0, best_y = 0;
    long best = -1;
    for (int c = 0; c < 4; c++) {
        int x = c == 0 || c == 3 ? f->x1 - L->pad - w : f->x0 + L->pad;
        int y = c < 2 ? f->y0 + L->pad : f->y1 - L->pad - h;
        long crowd = crowding(L, ax, s, n_series, x, y, x + w, y + h);
        if (best < 0 || crowd < best) best = crowd, best_x = x, best_y = y;
    }
    canvas_fill(cv, best_x, best_y, best_x + w, best_y + h, edge_grey);
    canvas_fill(cv, best_x + 1, best_y + 1, best_x + w - 1, best_y + h - 1, white);
    int row = 0;
    for (int k = 0; k < n_series; k++) {
        if (!s[k].name || !s[k].name[0]) continue;
        const unsigned char *rgb = tab10[k % 10];
        float cy = (float)(best_y + L->pad + row * row_h + CANVAS_TEXT_H * S / 2);
        float sx = (float)(best_x + L->pad);
        canvas_line(cv, sx, cy, sx + swatch, cy, L->line_w, rgb);
        canvas_line(cv, sx + swatch / 2.0f, cy, sx + swatch / 2.0f, cy, L->marker_w, rgb);
        canvas_text(cv, best_x + 2 * L->pad + swatch, best_y + L->pad + row * row_h, s[k].name, S, text_w, black);
        row++;
    }
}

static void draw_axes(canvas *cv, const layout *L, const plot_axes *ax) {
    const plot_frame *f = &L->f;
    const int S = L->scale, W = cv->w, H = cv->h, text_h = CANVAS_TEXT_DESC * S;
    /* cut what the series drew outside the frame */
    canvas_fill(cv, 0, 0, W, f->y0, white);
    canvas_fill(cv, 0, f->y1 + 1, W, H, white);
    canvas_fill(cv, 0, f->y0, f->x0, f->y1 + 1, white);
    canvas_fill(cv, f->x1 + 1, f->y0, W, f->y1 + 1, white);
    canvas_fill(cv, f->x0, f->y0, f->x1 + 1, f->y0 + 1, black);
    canvas_fill(cv, f->x0, f->y1, f->x1 + 1, f->y1 + 1, black);
    canvas_fill(cv, f->x0, f->y0, f->x0 + 1, f->y1 + 1, black);
    canvas_fill(cv, f->x1, f->y0, f->x1 + 1, f->y1 + 1, black);

    for (int i = 0; i < L->yt.n; i++) {
        int y = y_tick_row(L, i), tw = canvas_text_width(L->yt.label[i], S);
        canvas_fill(cv, f->x0 - L->tick_len, y, f->x0, y + 1, black);
        canvas_text(cv, f->x0 - L->tick_len - L->gap - tw, y - CANVAS_TEXT_H * S / 2, L->yt.label[i], S, tw, black);
    }
    const int label_y = f->y1 + L->tick_len + L->gap;
    for (int i = 0; i < x_tick_count(L, ax); i++) {
        int x = x_tick_col(L, ax, i);
        canvas_fill(cv, x, f->y1 + 1, x + 1, f->y1 + 1 + L->tick_len, black);
        const char *label = ax->x_ticks ? ax->x_ticks[i] : L->xt.label[i];
        if (!label || (ax->x_ticks && i % L->x_every)) continue;
        if (L->x_up) {
            char fitted[256];
            canvas_fit_text(label, fitted, sizeof fitted, L->x_label_max, S);
            int tw = canvas_text_width(fitted, S);
            canvas_text_up(cv, x - CANVAS_TEXT_H * S / 2, label_y + tw - 1, fitted, S, tw, black);
        } else {
            int tw = canvas_text_width(label, S), tx = x - tw / 2;
            tx = tx + tw > W ? W - tw : tx < 0 ? 0 : tx;
            canvas_text(cv, tx, label_y, label, S, W, black);
        }
    }
    if (ax->x_label) {
        int tw = canvas_text_width(ax->x_label, S), max_w = W - 2 * L->pad;
        tw = tw < max_w ? tw : max_w;
        canvas_text(cv, (f->x0 + f->x1 - tw) / 2, H - L->pad - text_h, ax->x_label, S, max_w, black);
    }
    if (ax->y_label) {
        int tw = canvas_text_width(ax->y_label, S), max_w = f->y1 - f->y0;
        tw = tw < max_w ? tw : max_w;
        canvas_text_up(cv, L->pad, (f->y0 + f->y1 + tw) / 2, ax->y_label, S, max_w, black);
    }
    if (ax->title) {
        const int T = L->title_scale, max_w = W - 2 * L->pad;
        int tw = canvas_text_width(ax->title, T);
        tw = tw < max_w ? tw : max_w;
        canvas_text(cv, (W - tw) / 2, L->pad, ax->title, T, max_w, black);
    }
}

int plot_write(const char *path, const plot_axes *ax, const plot_series *s, int n_series, int width, int height,
               char *why, size_t cap) {
    layout L;
    char reason[192];
    if (make_layout(ax, s, n_series, width, height, &L, reason, sizeof reason)) {
        snprintf(why, cap, "cannot write '%s': %s", path, reason);
        return -1;
    }
    canvas cv;
    if (canvas_init(&cv, width, height, 255)) {
        snprintf(why, cap, "cannot write '%s': out of memory", path);
        return -1;
    }
    const plot_frame *f = &L.f;
    for (int i = 0; i < L.yt.n; i++)
        canvas_fill(&cv, f->x0, y_tick_row(&L, i), f->x1 + 1, y_tick_row(&L, i) + 1, grid_grey);
    for (int i = 0; i < x_tick_count(&L, ax); i++)
        canvas_fill(&cv, x_tick_col(&L, ax, i), f->y0, x_tick_col(&L, ax, i) + 1, f->y1 + 1, grid_grey);
    for (int k = 0; k < n_series; k++) draw_series(&cv, &L, ax, &s[k], tab10[k % 10]);
    draw_axes(&cv, &L, ax);
    draw_legend(&cv, &L, ax, s, n_series);
    int rc = cli_write_png(path, cv.rgb, cv.w, cv.h, why, cap);
    canvas_free(&cv);
    return rc;
}

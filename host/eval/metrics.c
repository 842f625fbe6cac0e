/* metrics.c — the evaluation metrics that need only maps, boxes and weights
 * (DESIGN.md §7): compactness, pointing game, object localisation, DOA's cosine
 * distance, Spearman rank correlation, the AD / IIC / AUC aggregates, #COP's
 * channel coverage and top-N weights, and box scaling. Rules in metrics.h. */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"
#include "preprocess.cuh"

/* ceil(a / b) for b > 0 and any a. */
static long long ceil_div(long long a, long long b) { return a / b + (a % b != 0 && a > 0); }

static int clampi(long long v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : (int)v; }

/* One axis of metrics_box_scale: [a0, a1) of an axis of `in` pixels -> S. */
static void scale_axis(int a0, int a1, int in, int size, int *o0, int *o1) {
    a0 = clampi(a0, 0, in);
    a1 = clampi(a1, 0, in);
    if (a1 <= a0) { /* empty stays empty */
        *o0 = *o1 = clampi(ceil_div(2LL * a0 * size - in, 2LL * in), 0, size);
        return;
    }
    /* Output pixel j (centre j + 0.5) maps to image coordinate (j + 0.5) * in / S;
     * it is inside when a0 <= that < a1, i.e. j >= a*S/in - 0.5. */
    int j0 = clampi(ceil_div(2LL * a0 * size - in, 2LL * in), 0, size);
    int j1 = clampi(ceil_div(2LL * a1 * size - in, 2LL * in), 0, size);
    if (j1 <= j0) { /* thinner than an input pixel: keep the one it falls in */
        if (j0 >= size) j0 = size - 1;
        j1 = j0 + 1;
    }
    *o0 = j0;
    *o1 = j1;
}

metrics_box metrics_box_scale(metrics_box b, int w, int h, int size) {
    metrics_box r = {0, 0, 0, 0};
    if (w < 1 || h < 1 || size < 1) return r;
    scale_axis(b.x0, b.x1, w, size, &r.x0, &r.x1);
    scale_axis(b.y0, b.y1, h, size, &r.y0, &r.y1);
    return r;
}

double metrics_compactness(const float *sal, int n) {
    if (n < 1) return NAN;
    double s = 0.0;
    for (int i = 0; i < n; i++) s += sal[i];
    return s / n;
}

/* Distance from index p to [a0, a1) along one axis (0 inside). */
static long long axis_gap(int p, int a0, int a1) { return p < a0 ? a0 - p : p >= a1 ? p - (a1 - 1) : 0; }

int metrics_pointing_game(const float *sal, int size, const metrics_box *boxes, int n_boxes, int tolerance) {
    long long n = (long long)size * size, best = -1;
    for (long long i = 0; i < n; i++) /* first maximum in raster order; NaN never wins */
        if (sal[i] == sal[i] && (best < 0 || sal[i] > sal[best])) best = i;
    if (best < 0 || tolerance < 0) return 0;
    int px = (int)(best % size), py = (int)(best / size);
    long long tol2 = (long long)tolerance * tolerance;
    for (int b = 0; b < n_boxes; b++) {
        const metrics_box *r = &boxes[b];
        if (r->x1 <= r->x0 || r->y1 <= r->y0) continue;
        long long dx = axis_gap(px, r->x0, r->x1), dy = axis_gap(py, r->y0, r->y1);
        if (dx * dx + dy * dy <= tol2) return 1;
    }
    return 0;
}

double metrics_object_localisation(const float *sal, int size, const metrics_box *boxes, int n_boxes) {
    double total = 0.0, inside = 0.0;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            double v = sal[(size_t)y * size + x];
            total += v;
            for (int b = 0; b < n_boxes; b++)
                if (x >= boxes[b].x0 && x < boxes[b].x1 && y >= boxes[b].y0 && y < boxes[b].y1) {
                    inside += v;
                    break;
                }
        }
    return total > 0.0 ? inside / total : 0.0;
}

double metrics_cosine_distance(const float *a, const float *b, int n) {
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (int i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    if (aa == 0.0 && bb == 0.0) return 0.0;
    if (aa == 0.0 || bb == 0.0) return 1.0;
    double d = 1.0 - ab / (sqrt(aa) * sqrt(bb));
    return d < 0.0 ? 0.0 : d > 2.0 ? 2.0 : d;
}

/* A value and its index, sorted by value then index: a total order (NaN last). */
typedef struct {
    float v;
    int i;
} keyed;

static int keyed_cmp(const void *pa, const void *pb) {
    const keyed *a = pa, *b = pb;
    int na = a->v != a->v, nb = b->v != b->v;
    if (na != nb) return na - nb;
    if (!na && a->v != b->v) return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Average ranks (1-based) of x (n) into rank (n); tmp (n) scratch. */
static void average_ranks(const float *x, int n, keyed *tmp, double *rank) {
    for (int i = 0; i < n; i++) tmp[i] = (keyed){x[i], i};
    qsort(tmp, (size_t)n, sizeof *tmp, keyed_cmp);
    for (int s = 0; s < n;) {
        int e = s + 1; /* [s, e): a run of equal values (NaNs count as equal) */
        while (e < n && (tmp[e].v == tmp[s].v || (tmp[e].v != tmp[e].v && tmp[s].v != tmp[s].v))) e++;
        double r = 0.5 * (double)(s + 1 + e); /* mean of ranks s+1 .. e */
        for (int t = s; t < e; t++) rank[tmp[t].i] = r;
        s = e;
    }
}

double metrics_spearman(const float *a, const float *b, int n) {
    if (n < 2) return 0.0;
    keyed *tmp = malloc(sizeof *tmp * (size_t)n);
    double *ra = malloc(sizeof *ra * (size_t)n), *rb = malloc(sizeof *rb * (size_t)n);
    double r = NAN;
    if (tmp && ra && rb) {
        average_ranks(a, n, tmp, ra);
        average_ranks(b, n, tmp, rb);
        double mean = 0.5 * (n + 1), sab = 0.0, saa = 0.0, sbb = 0.0;
        for (int i = 0; i < n; i++) {
            double da = ra[i] - mean, db = rb[i] - mean;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        r = saa == 0.0 || sbb == 0.0 ? 0.0 : sab / sqrt(saa * sbb);
        r = r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
    }
    free(tmp);
    free(ra);
    free(rb);
    return r;
}

double metrics_average_drop(const float *y, const float *o, int n) {
    if (n < 1) return NAN;
    double s = 0.0;
    for (int i = 0; i < n; i++)
        if (y[i] > 0.0f && y[i] > o[i]) s += ((double)y[i] - o[i]) / y[i];
    return 100.0 * s / n;
}

double metrics_increase_in_confidence(const float *y, const float *o, int n) {
    if (n < 1) return NAN;
    int k = 0;
    for (int i = 0; i < n; i++) k += y[i] < o[i];
    return 100.0 * k / n;
}

double metrics_auc(const float *curve, int n) {
    if (n < 1) return NAN;
    double s = 0.0;
    for (int i = 0; i <= n; i++) s += curve[i];
    return (s - 0.5 * curve[0] - 0.5 * curve[n]) / n;
}

int metrics_channel_covers(const float *act, int h, int w, int channels, int k, int size, metrics_box box) {
    if (h < 1 || w < 1 || k < 0 || k >= channels || size < 1) return 0;
    const size_t hw = (size_t)h * w;
    float lo = act[k], hi = act[k];
    for (size_t p = 1; p < hw; p++) {
        float v = act[p * channels + k];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    int x0 = box.x0 < 0 ? 0 : box.x0, x1 = box.x1 > size ? size : box.x1;
    int y0 = box.y0 < 0 ? 0 : box.y0, y1 = box.y1 > size ? size : box.y1;
    if (x1 <= x0 || y1 <= y0 || !(hi > lo)) return 0; /* constant channel: all 0, covers nothing */
    const float range = hi - lo;
    long long covered = 0, total = (long long)(x1 - x0) * (y1 - y0);
#define NORM(i, j) ((act[((size_t)(i) * w + (j)) * channels + k] - lo) / range)
    for (int y = y0; y < y1; y++) {
        bilinear_tap ty = bilinear_axis(y, h, size);
        for (int x = x0; x < x1; x++) {
            /* bilinear_sample_f32 of the min-max normalised channel: columns, then rows */
            bilinear_tap tx = bilinear_axis(x, w, size);
            float t0 = bilinear_lerp(NORM(ty.i0, tx.i0), tx.w0, NORM(ty.i0, tx.i1), tx.w1);
            float t1 = bilinear_lerp(NORM(ty.i1, tx.i0), tx.w0, NORM(ty.i1, tx.i1), tx.w1);
            covered += bilinear_lerp(t0, ty.w0, t1, ty.w1) >= METRICS_COP_PIXEL;
        }
    }
#undef NORM
    return covered * 100 >= total * METRICS_COP_PERCENT;
}

/* 1 when weight (va, ia) ranks before (vb, ib): larger first, ties by lower index, NaN last. */
static int ranks_before(float va, int ia, float vb, int ib) {
    int na = va != va, nb = vb != vb;
    if (na != nb) return nb;
    if (!na && va != vb) return va > vb;
    return ia < ib;
}

int metrics_top_n(const float *w, int k, int n, int *idx) {
    int m = 0, cap = n < k ? n : k;
    if (cap < 1) return 0;
    for (int i = 0; i < k; i++) { /* insertion into the sorted prefix idx[0 .. m) */
        if (m == cap && !ranks_before(w[i], i, w[idx[m - 1]], idx[m - 1])) continue;
        int p = m < cap ? m++ : cap - 1;
        while (p > 0 && ranks_before(w[i], i, w[idx[p - 1]], idx[p - 1])) {
            idx[p] = idx[p - 1];
            p--;
        }
        idx[p] = i;
    }
    return m;
}

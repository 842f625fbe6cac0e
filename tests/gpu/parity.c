/* parity.c — the parity suite's table of checks, error measures and
 * deterministic inputs (see parity.h). */
#include "parity.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_backend.h"

const backend_ops *parity_gpu = &cuda_backend;
int parity_gpu_index = 0;
const char *parity_gpu_device = "cuda:0";
int parity_self_test;

typedef struct {
    char what[112];
    double err, tol;
} row;

static row *rows;
static int n_rows, cap_rows;

static const char *verdict(double err, double tol) {
    return err <= tol ? "ok" : err <= 2.0 * tol ? "warn" : "MISS";
}

double parity_record(const char *what, double err, double tol) {
    if (n_rows == cap_rows) {
        int cap = cap_rows ? 2 * cap_rows : 256;
        row *r = realloc(rows, sizeof *r * (size_t)cap);
        if (!r) { /* no silent drop: the row still prints, and the run fails */
            fprintf(stderr, "gpu_parity: out of memory for the table\n");
            exit(1);
        }
        rows = r, cap_rows = cap;
    }
    row *r = &rows[n_rows++];
    snprintf(r->what, sizeof r->what, "%s", what);
    r->err = err, r->tol = tol;
    printf("row: %-64s %11.3g %11.3g  %s\n", what, err, tol, verdict(err, tol));
    fflush(stdout);
    return err;
}

double parity_recordf(double err, double tol, const char *fmt, ...) {
    char what[112];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return parity_record(what, err, tol);
}

int parity_report(void) {
    int ok = 0, warn = 0, miss = 0;
    printf("\n%-70s %11s %11s  %s\n", "check (CUDA vs CPU)", "error", "tolerance", "result");
    for (int i = 0; i < n_rows; i++) {
        const char *v = verdict(rows[i].err, rows[i].tol);
        ok += v[0] == 'o', warn += v[0] == 'w', miss += v[0] == 'M';
        printf("%-70s %11.3g %11.3g  %s\n", rows[i].what, rows[i].err, rows[i].tol, v);
    }
    printf("%d check(s): %d ok, %d warn (tolerance < error <= 2x tolerance), %d miss(es)\n", n_rows, ok, warn, miss);
    free(rows);
    rows = NULL, n_rows = cap_rows = 0;
    return miss;
}

double parity_rel_err(const float *a, const float *b, const float *ref, size_t n) {
    double d = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= d)) d = e;
        if (fabs((double)ref[i]) > m) m = fabs((double)ref[i]);
    }
    return isnan(d) || isinf(d) ? INFINITY : d / (m > 0.0 ? m : 1.0);
}

double parity_max_abs(const float *a, const float *b, size_t n) {
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= d)) d = e;
    }
    return isnan(d) ? INFINITY : d;
}

/* Ranks of v (1-based, ties averaged) into r. */
static int ranks(const float *v, size_t n, double *r) {
    size_t *idx = malloc(sizeof *idx * n);
    if (!idx) return -1;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 1; i < n; i++) /* insertion sort: maps are small */
        for (size_t j = i; j > 0 && v[idx[j - 1]] > v[idx[j]]; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1], idx[j - 1] = t;
        }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) j++;
        for (size_t k = i; k <= j; k++) r[idx[k]] = 0.5 * (double)(i + j) + 1.0;
        i = j + 1;
    }
    free(idx);
    return 0;
}

double parity_spearman(const float *a, const float *b, size_t n) {
    double *ra = malloc(sizeof *ra * n), *rb = malloc(sizeof *rb * n), out = NAN;
    if (ra && rb && !ranks(a, n, ra) && !ranks(b, n, rb)) {
        double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
        for (size_t i = 0; i < n; i++) ma += ra[i], mb += rb[i];
        ma /= (double)n, mb /= (double)n;
        for (size_t i = 0; i < n; i++)
            sab += (ra[i] - ma) * (rb[i] - mb), saa += (ra[i] - ma) * (ra[i] - ma), sbb += (rb[i] - mb) * (rb[i] - mb);
        out = saa == 0.0 && sbb == 0.0 ? 1.0 : saa == 0.0 || sbb == 0.0 ? 0.0 : sab / sqrt(saa * sbb);
    }
    free(ra), free(rb);
    return out;
}

static unsigned long long rng = 0x9E3779B97F4A7C15ull;

void parity_seed(unsigned long long s) { rng = s * 0x9E3779B97F4A7C15ull + 1; }

float parity_rand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / (1ull << 23)) - 1.0);
}

void parity_fill(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = parity_rand();
}

/* The output size of a one-op graph's op along an axis of `in` (window k,
 * stride s, top / left padding p, bottom / right p + e, dilation d; ceil mode
 * as PyTorch: no window may start in the bottom / right padding). */
static int out_size(const graph_op *o, int in, int k, int s, int p, int e, int d) {
    switch (o->kind) {
    case OP_GAP:
    case OP_FC: return 1;
    case OP_ADD:
    case OP_MUL:
    case OP_ACT: return in;
    case OP_PAD: return in + 2 * p + e;
    default: break;
    }
    const int span = in + 2 * p + e - (o->kind == OP_CONV ? d * (k - 1) + 1 : k);
    int out = (o->ceil_mode ? span + s - 1 : span) / s + 1;
    if (o->ceil_mode && (out - 1) * s >= in + p) out--;
    return out;
}

int parity_build_graph(graph *g, const op_case *t, const op_variant *v) {
    static const op_variant none;
    if (!v) v = &none;
    memset(g, 0, sizeof *g);
    int x = graph_add_tensor(g, t->c_in), y = graph_add_tensor(g, t->pre), x2 = v->in2 ? graph_add_tensor(g, t->c_in) : 0;
    if (x < 0 || y < 0 || x2 < 0) return -1;
    graph_op o;
    memset(&o, 0, sizeof o);
    o.kind = t->kind, o.src = x, o.dst = y, o.c_in = t->c_in, o.c_out = t->c_out;
    o.k_h = t->k_h, o.k_w = t->k_w, o.s_h = t->s_h, o.s_w = t->s_w, o.p_h = t->p_h, o.p_w = t->p_w;
    o.relu = t->relu;
    o.group = v->group, o.d_h = o.d_w = v->dil, o.e_h = v->e_h, o.e_w = v->e_w;
    o.ceil_mode = v->ceil_mode, o.exclude_pad = v->exclude_pad;
    o.act = v->act, o.act_a = v->act_a, o.act_b = v->act_b, o.src2 = x2;
    snprintf(o.name, sizeof o.name, "%s", t->name);
    if (t->kind == OP_CONV || t->kind == OP_FC) { /* aligned like a loaded model's */
        size_t wn = (size_t)t->c_out * t->k_h * t->k_w * t->c_in / (v->group > 1 ? v->group : 1);
        o.w_off = graph_reserve_params(g, wn);
        o.b_off = graph_reserve_params(g, (size_t)t->c_out);
        if (!(g->params = calloc(g->n_params + 1, sizeof(float)))) return -1;
        parity_fill(g->params + o.w_off, wn);
        parity_fill(g->params + o.b_off, (size_t)t->c_out);
    }
    if (graph_add_op(g, &o) < 0) return -1;
    g->tensors[y].c += t->post;
    const graph_op *op = &g->ops[0];
    g->tensors[x].h = t->h, g->tensors[x].w = t->w;
    g->tensors[y].h = out_size(op, t->h, op->k_h, op->s_h, op->p_h, op->e_h, op->d_h);
    g->tensors[y].w = out_size(op, t->w, op->k_w, op->s_w, op->p_w, op->e_w, op->d_w);
    if (x2) g->tensors[x2].h = v->in2 == 2 ? 1 : t->h, g->tensors[x2].w = v->in2 == 2 ? 1 : t->w;
    g->input_size = t->h;
    return 0;
}

pixab_status parity_run_op(const backend_ops *be, int device, int precision, const graph *g, const op_io *io,
                           float *y_out, float *dx_out) {
    void *ctx = NULL;
    float *x = NULL, *y = NULL, *dx = NULL, *dy = NULL, *x2 = NULL, *dx2 = NULL;
    int max_batch = io->n > 3 ? 3 : io->n;
    backend_op fwd = {.kind = BOP_NETWORK, .index = 0, .count = io->n};
    pixab_status s = be->create(g, max_batch, device, &ctx);
    if (s) return s;
    if (precision != PIXAB_PRECISION_FP32 && (s = be->set_precision(ctx, g, precision))) goto done;
    if ((s = be->alloc(ctx, io->xf * sizeof(float), (void **)&x)) ||
        (s = be->alloc(ctx, io->yf * sizeof(float), (void **)&y)) ||
        (s = be->alloc(ctx, io->xf * sizeof(float), (void **)&dx)) ||
        (s = be->alloc(ctx, io->yf * sizeof(float), (void **)&dy)))
        goto done;
    if (io->x2f && ((s = be->alloc(ctx, io->x2f * sizeof(float), (void **)&x2)) ||
                    (s = be->alloc(ctx, io->x2f * sizeof(float), (void **)&dx2)) ||
                    (s = be->upload(ctx, x2, io->x2, io->x2f * sizeof(float))) ||
                    (s = be->upload(ctx, dx2, io->dx2_0, io->x2f * sizeof(float)))))
        goto done;
    fwd.src = x, fwd.src2 = x2, fwd.dst = y;
    if ((s = be->upload(ctx, x, io->x, io->xf * sizeof(float))) ||
        (s = be->upload(ctx, y, io->y0, io->yf * sizeof(float))) || (s = be->run(ctx, g, &fwd)) ||
        (s = be->download(ctx, y_out, y, io->yf * sizeof(float))))
        goto done;
    if ((s = be->upload(ctx, y, io->y_fwd, io->yf * sizeof(float))) ||
        (s = be->upload(ctx, dy, io->dy, io->yf * sizeof(float))) ||
        (s = be->upload(ctx, dx, io->dx0, io->xf * sizeof(float))) ||
        (s = be->run_op_backward(ctx, g, 0, io->n, x, x2, y, dx, dx2, dy)) ||
        (s = be->download(ctx, dx_out, dx, io->xf * sizeof(float))))
        goto done;
    if (io->x2f) s = be->download(ctx, io->dx2_out, dx2, io->x2f * sizeof(float));
done:
    if (x2) be->free(ctx, x2);
    if (dx2) be->free(ctx, dx2);
    if (x) be->free(ctx, x);
    if (y) be->free(ctx, y);
    if (dx) be->free(ctx, dx);
    if (dy) be->free(ctx, dy);
    be->destroy(ctx);
    return s;
}

pixab_status parity_cpu_reference(const graph *g, op_io *io, float *y, float *dx) {
    memcpy(io->y_fwd, io->y0, sizeof(float) * io->yf);
    pixab_status s = parity_run_op(&cpu_backend, -1, PIXAB_PRECISION_FP32, g, io, y, dx);
    if (s) return s;
    memcpy(io->y_fwd, y, sizeof(float) * io->yf);
    return parity_run_op(&cpu_backend, -1, PIXAB_PRECISION_FP32, g, io, y, dx);
}

float *parity_model_input(int S, int n) {
    size_t per = (size_t)S * S * 3;
    float *x = malloc(sizeof(float) * per * (size_t)n);
    if (!x) return NULL;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < per; k++)
            x[(size_t)i * per + k] = 2.0f * sinf(0.0137f * (float)k * (float)(i + 1) + 0.5f * (float)(k % 3));
    return x;
}

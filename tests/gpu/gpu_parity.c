/* gpu_parity.c — the GPU parity suite: every CUDA op against the CPU path on
 * fresh inputs, a table of max errors printed last, exit status 1 on any miss
 * (2 when no CUDA device is usable). Plain C, no Criterion, so it runs on a
 * lent GPU machine that has nothing but the binary and the CUDA libraries:
 *     build/gpu_parity [w8_model.safetensors [full_width_model.safetensors]] [--bench]
 * Checks: the preprocessing kernel; every op kind of the network backend
 * (cuda_backend vs cpu_backend, forward and backward, on one-op graphs built
 * here: odd sizes, sizes of 1, batches 1, 3 and 8, channel slices of wider
 * tensors); every explanation-batch op of the backends (box and channel
 * ablation batches, pooled features, channel-ablated logits, class scores,
 * Pixab-CAM's reduction, weighted sums, ReLU + min-max incl. constant maps)
 * and the map upsampling kernel; then whole engines "cpu" vs "cuda" on a
 * checkpoint: every Mixed_* output, the logits, input/layer gradients, and
 * every method's map (Mixed_7c and Mixed_6e, softmax and logit, the top-1 and
 * another class; Pixab-CAM and Ablation-CAM also through the general path).
 * --bench prints CUDA forward images/s at batch 1, 8 and 64 (before the table).
 * Errors: preprocessing max|CUDA - CPU| (tolerance 0: the same per-pixel
 * code); network rows max|CUDA - CPU| / max|CPU| over what the op or layer
 * computes (fp32, summation orders differ), with channels an op must not
 * touch compared exactly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda_runtime.h>

#include "backend.h"
#include "cam.h"
#include "cam_kernels.h"
#include "cuda_backend.h"
#include "device.h"
#include "engine.h"
#include "graph.h"
#include "nn.cuh"
#include "pixab.h"
#include "preprocess.h"

#ifndef PIXAB_TEST_DATA
#define PIXAB_TEST_DATA "tests/data"
#endif

#define MAX_ROWS 256
#define TOL_OP 1e-5    /* one fp32 op: different summation orders only */
#define TOL_MODEL 1e-4 /* ~100 fp32 layers in a row */
#define TOL_MAP 1e-3   /* end-to-end maps in [0, 1] */
#define TOL_SCORECAM 5e-3 /* min-max of each upsampled channel amplifies activation rounding */

typedef struct {
    char what[96];
    double err, tol;
} row;

static row rows[MAX_ROWS];
static int n_rows;

static void record(const char *what, double err, double tol) {
    if (n_rows < MAX_ROWS) {
        snprintf(rows[n_rows].what, sizeof rows[n_rows].what, "%s", what);
        rows[n_rows].err = err;
        rows[n_rows++].tol = tol;
    }
}

/* A deterministic image with every byte value represented. */
static pixab_image make_image(int w, int h, unsigned seed) {
    pixab_image img = {w, h, malloc((size_t)w * h * 3)};
    for (size_t i = 0; i < (size_t)w * h * 3; i++) img.rgb[i] = (unsigned char)((i * 2654435761u + seed) >> 7);
    return img;
}

/* Preprocessing: CUDA kernel vs CPU for odd sizes, a size of 1, down- and
 * upsampling and the identity; the two run the same per-pixel code, so the
 * tolerance is 0. */
static void check_preprocess(void) {
    static const struct { int w, h, s; } cases[] = {
        {1, 1, 1}, {1, 1, 7}, {53, 37, 31}, {53, 37, 71}, {299, 299, 299}, {640, 480, 299}, {17, 301, 299},
    };
    const pixab_preproc base = {.size = 0, .mean = {0.485f, 0.456f, 0.406f}, .std = {0.229f, 0.224f, 0.225f}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pixab_preproc p = base;
        p.size = cases[i].s;
        pixab_image img = make_image(cases[i].w, cases[i].h, (unsigned)i);
        size_t n = (size_t)p.size * p.size * 3;
        float *cpu = malloc(sizeof(float) * n), *gpu = malloc(sizeof(float) * n);
        char what[96];
        snprintf(what, sizeof what, "preprocess %dx%d -> %d", cases[i].w, cases[i].h, p.size);
        double err = INFINITY;
        if (!pixab_image_preprocess(&img, &p, cpu) && !preprocess_image_cuda(gpu, &img, &p)) {
            err = 0.0;
            for (size_t k = 0; k < n; k++) {
                double d = fabs((double)cpu[k] - gpu[k]);
                if (!(d <= err)) err = d;
            }
        } else {
            fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
        }
        record(what, err, 0.0);
        free(cpu), free(gpu), free(img.rgb);
    }
}

/* ---- the network backend, one op at a time -------------------------------- */

static unsigned long long rng = 0x9E3779B97F4A7C15ull;

static void seed_rng(unsigned long long s) { rng = s * 0x9E3779B97F4A7C15ull + 1; }

/* Uniform in [-1, 1). */
static float frand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / (1ull << 23)) - 1.0);
}

static void fill(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = frand();
}

typedef struct {
    const char *name;
    op_kind kind;
    int c_in, c_out;            /* pools and GAP: c_out = c_in */
    int k_h, k_w, s_h, s_w, p_h, p_w, relu;
    int h, w;                   /* input size */
    int pre, post;              /* dst channels before and after the op's slice */
    int ties;                   /* input mostly zeros: max pool windows full of equal maxima */
} op_case;

static const op_case op_cases[] = {
    {"conv 1x1 relu, slice", OP_CONV, 5, 7, 1, 1, 1, 1, 0, 0, 1, 9, 11, 3, 2, 0},
    {"conv 3x3 s1 p1 relu, slice", OP_CONV, 3, 4, 3, 3, 1, 1, 1, 1, 1, 13, 10, 5, 0, 0},
    {"conv 3x3 s2 p0 relu, slice", OP_CONV, 6, 5, 3, 3, 2, 2, 0, 0, 1, 15, 9, 2, 3, 0},
    {"conv 1x7 p(0,3) relu, slice", OP_CONV, 4, 6, 1, 7, 1, 1, 0, 3, 1, 9, 12, 1, 1, 0},
    {"conv 7x1 p(3,0) relu, slice", OP_CONV, 7, 3, 7, 1, 1, 1, 3, 0, 1, 12, 9, 4, 2, 0},
    {"conv 5x5 p2 relu, whole", OP_CONV, 3, 8, 5, 5, 1, 1, 2, 2, 1, 11, 11, 0, 0, 0},
    {"conv 1x1 1->1 on 1x1, slice", OP_CONV, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0},
    {"conv 3x3 p1 relu on 1x1, whole", OP_CONV, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
    {"maxpool 3x3 s2, slice", OP_MAXPOOL, 6, 6, 3, 3, 2, 2, 0, 0, 0, 15, 13, 3, 2, 0},
    {"maxpool 3x3 s2 3x3->1x1, whole", OP_MAXPOOL, 5, 5, 3, 3, 2, 2, 0, 0, 0, 3, 3, 0, 0, 0},
    {"maxpool 3x3 s2 ties, slice", OP_MAXPOOL, 8, 8, 3, 3, 2, 2, 0, 0, 0, 17, 17, 2, 0, 1},
    {"avgpool 3x3 s1 p1, whole", OP_AVGPOOL, 5, 5, 3, 3, 1, 1, 1, 1, 0, 9, 7, 0, 0, 0},
    {"avgpool 3x3 s1 p1 on 1x1, slice", OP_AVGPOOL, 3, 3, 3, 3, 1, 1, 1, 1, 0, 1, 1, 1, 2, 0},
    {"gap 5x3, slice", OP_GAP, 7, 7, 1, 1, 1, 1, 0, 0, 0, 5, 3, 2, 3, 0},
    {"gap 1x1 c1, whole", OP_GAP, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0},
    {"fc 9->5, whole", OP_FC, 9, 5, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0},
    {"fc 13->1, slice", OP_FC, 13, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 2, 1, 0},
};

static int window_out(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

/* A one-op graph: tensor 0 (h, w, c_in) -> tensor 1 of pre + c_out + post
 * channels, the op writing [pre, pre + c_out); random weights. */
static int build_graph(graph *g, const op_case *t) {
    memset(g, 0, sizeof *g);
    int x = graph_add_tensor(g, t->c_in), y = graph_add_tensor(g, t->pre);
    if (x < 0 || y < 0) return -1;
    graph_op o;
    memset(&o, 0, sizeof o);
    o.kind = t->kind, o.src = x, o.dst = y, o.c_in = t->c_in, o.c_out = t->c_out;
    o.k_h = t->k_h, o.k_w = t->k_w, o.s_h = t->s_h, o.s_w = t->s_w, o.p_h = t->p_h, o.p_w = t->p_w;
    o.relu = t->relu;
    snprintf(o.name, sizeof o.name, "%s", t->name);
    size_t wn = 0;
    if (t->kind == OP_CONV || t->kind == OP_FC) {
        wn = (size_t)t->c_out * t->k_h * t->k_w * t->c_in;
        o.w_off = 0, o.b_off = wn;
        g->n_params = wn + (size_t)t->c_out;
        if (!(g->params = malloc(sizeof(float) * g->n_params))) return -1;
        fill(g->params, g->n_params);
    }
    if (graph_add_op(g, &o) < 0) return -1;
    g->tensors[y].c += t->post;
    g->tensors[x].h = t->h, g->tensors[x].w = t->w;
    if (t->kind == OP_GAP || t->kind == OP_FC)
        g->tensors[y].h = g->tensors[y].w = 1;
    else
        g->tensors[y].h = window_out(t->h, t->k_h, t->s_h, t->p_h), g->tensors[y].w = window_out(t->w, t->k_w, t->s_w, t->p_w);
    g->input_size = t->h;
    return 0;
}

/* Buffers of one op run: forward y = y0, then op 0; backward dx = dx0, then
 * += the op's backward for dy, given the forward's output y_fwd. */
typedef struct {
    int n;
    size_t xf, yf;              /* floats of x and y for n images */
    float *x, *y0, *y_fwd, *dy, *dx0;
} op_io;

/* Run op 0 of g on a backend; y_out (xf) and dx_out (yf) on the host. A
 * create with fewer images than n (max_batch 3 for n = 8) makes the CUDA
 * backend re-plan for a larger batch, as the engine's head plans do. */
static pixab_status run_on(const backend_ops *be, int device, const graph *g, const op_io *io, float *y_out,
                           float *dx_out) {
    void *ctx = NULL;
    float *x = NULL, *y = NULL, *dx = NULL, *dy = NULL;
    int max_batch = io->n > 3 ? 3 : io->n;
    pixab_status s = be->create(g, max_batch, device, &ctx);
    if (s) return s;
    if ((s = be->alloc(ctx, io->xf * sizeof(float), (void **)&x)) ||
        (s = be->alloc(ctx, io->yf * sizeof(float), (void **)&y)) ||
        (s = be->alloc(ctx, io->xf * sizeof(float), (void **)&dx)) ||
        (s = be->alloc(ctx, io->yf * sizeof(float), (void **)&dy)))
        goto done;
    if ((s = be->upload(ctx, x, io->x, io->xf * sizeof(float))) ||
        (s = be->upload(ctx, y, io->y0, io->yf * sizeof(float))) || (s = be->run_op(ctx, g, 0, io->n, x, y)) ||
        (s = be->download(ctx, y_out, y, io->yf * sizeof(float))))
        goto done;
    if ((s = be->upload(ctx, y, io->y_fwd, io->yf * sizeof(float))) ||
        (s = be->upload(ctx, dy, io->dy, io->yf * sizeof(float))) ||
        (s = be->upload(ctx, dx, io->dx0, io->xf * sizeof(float))) ||
        (s = be->run_op_backward(ctx, g, 0, io->n, x, y, dx, dy)) ||
        (s = be->download(ctx, dx_out, dx, io->xf * sizeof(float))))
        goto done;
done:
    if (x) be->free(ctx, x);
    if (y) be->free(ctx, y);
    if (dx) be->free(ctx, dx);
    if (dy) be->free(ctx, dy);
    be->destroy(ctx);
    return s;
}

/* max|a - b| / max|ref|, where ref is what the op contributed; NaN -> inf. */
static double rel_err(const float *a, const float *b, const float *ref, size_t n) {
    double d = 0.0, m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= d)) d = e;
        if (fabs((double)ref[i]) > m) m = fabs((double)ref[i]);
    }
    return isnan(d) || isinf(d) ? INFINITY : d / (m > 0.0 ? m : 1.0);
}

/* Forward and backward errors of one case at batch n (inf on any failure). */
static void op_errors(const graph *g, int n, int ties, double *fwd, double *bwd) {
    const tshape *ys = &g->tensors[1];
    const int lo = g->ops[0].dst_c0, hi = lo + g->ops[0].c_out;
    op_io io = {n, graph_tensor_floats(g, 0) * (size_t)n, graph_tensor_floats(g, 1) * (size_t)n,
                NULL, NULL, NULL, NULL, NULL};
    float *cy = malloc(sizeof(float) * io.yf), *gy = malloc(sizeof(float) * io.yf);
    float *cs = malloc(sizeof(float) * io.yf), *gs = malloc(sizeof(float) * io.yf);
    float *cdx = malloc(sizeof(float) * io.xf), *gdx = malloc(sizeof(float) * io.xf);
    float *grad = malloc(sizeof(float) * io.xf);
    io.x = malloc(sizeof(float) * io.xf), io.dx0 = malloc(sizeof(float) * io.xf);
    io.y0 = malloc(sizeof(float) * io.yf), io.y_fwd = malloc(sizeof(float) * io.yf);
    io.dy = malloc(sizeof(float) * io.yf);
    *fwd = *bwd = INFINITY;
    if (!cy || !gy || !cs || !gs || !cdx || !gdx || !grad || !io.x || !io.dx0 || !io.y0 || !io.y_fwd || !io.dy) {
        fprintf(stderr, "gpu_parity: %s: out of memory\n", g->ops[0].name);
        goto done;
    }
    fill(io.x, io.xf), fill(io.y0, io.yf), fill(io.dy, io.yf), fill(io.dx0, io.xf);
    if (ties) /* ~90% zeros, as after a ReLU: many 3x3 windows hold only equal maxima */
        for (size_t i = 0; i < io.xf; i++) io.x[i] = io.x[i] > 0.8f ? io.x[i] : 0.0f;
    /* The CPU forward first, so that both backwards mask with the same y. */
    memcpy(io.y_fwd, io.y0, sizeof(float) * io.yf);
    if (run_on(&cpu_backend, -1, g, &io, cy, cdx)) goto fail;
    memcpy(io.y_fwd, cy, sizeof(float) * io.yf);
    if (run_on(&cpu_backend, -1, g, &io, cy, cdx) || run_on(&cuda_backend, 0, g, &io, gy, gdx)) goto fail;
    /* Forward: the op's slice, relative to its own size; other channels exactly as they were. */
    size_t m = 0, untouched = 0;
    for (size_t i = 0; i < io.yf; i++) {
        int k = (int)(i % (size_t)ys->c);
        if (k >= lo && k < hi)
            cs[m] = cy[i], gs[m++] = gy[i];
        else
            untouched += memcmp(&gy[i], &io.y0[i], sizeof(float)) != 0;
    }
    if (untouched) fprintf(stderr, "gpu_parity: %s, n=%d: %zu values outside the slice changed\n", g->ops[0].name, n,
                           untouched);
    *fwd = untouched ? INFINITY : rel_err(gs, cs, cs, m);
    /* Backward: dx (= dx0 + gradient), relative to the gradient added. */
    for (size_t i = 0; i < io.xf; i++) grad[i] = cdx[i] - io.dx0[i];
    *bwd = rel_err(gdx, cdx, grad, io.xf);
    goto done;
fail:
    fprintf(stderr, "gpu_parity: %s, n=%d: %s\n", g->ops[0].name, n, pixab_last_error());
done:
    free(cy), free(gy), free(cs), free(gs), free(cdx), free(gdx), free(grad);
    free(io.x), free(io.dx0), free(io.y0), free(io.y_fwd), free(io.dy);
}

static void check_op(const op_case *t, int n, unsigned long long seed) {
    char what[96];
    graph g;
    double fwd = INFINITY, bwd = INFINITY;
    seed_rng(seed);
    if (build_graph(&g, t))
        fprintf(stderr, "gpu_parity: %s: out of memory\n", t->name);
    else
        op_errors(&g, n, t->ties, &fwd, &bwd);
    snprintf(what, sizeof what, "%s, n=%d", t->name, n);
    record(what, fwd, TOL_OP);
    snprintf(what, sizeof what, "%s, n=%d, bwd", t->name, n);
    record(what, bwd, TOL_OP);
    graph_free(&g);
}

static void check_ops(void) {
    static const int batches[] = {1, 3, 8};
    for (size_t i = 0; i < sizeof op_cases / sizeof op_cases[0]; i++)
        for (int b = 0; b < 3; b++) check_op(&op_cases[i], batches[b], 1000 * i + (unsigned)b + 1);
}

/* ---- explanation-batch ops, one backend call at a time ----------------------- */

/* Buffers of one explanation-op case, on the host: inputs, and each backend's output. */
typedef struct {
    int H, W, K, classes, n_boxes, first, count, cls;
    int box_h[4], box_w[4];
} xop_case;

static const xop_case xop_cases[] = {
    {8, 8, 16, 10, 4, 0, 0, 3, {1, 1, 2, 2}, {1, 2, 1, 2}},
    {5, 3, 7, 5, 2, 0, 0, 0, {3, 1}, {1, 3}},
    {1, 1, 1, 1, 1, 0, 0, 0, {1}, {1}},
    {17, 17, 9, 13, 4, 100, 0, 12, {1, 1, 2, 2}, {1, 2, 1, 2}}, /* a chunk in the middle of a batch */
};

/* A backend's memory for n floats holding host values v (NULL: zeros). */
static float *dev_put(const backend_ops *be, void *ctx, const float *v, size_t n) {
    float *d = NULL;
    if (be->alloc(ctx, n * sizeof(float), (void **)&d)) return NULL;
    if ((v ? be->upload(ctx, d, v, n * sizeof(float)) : be->zero(ctx, d, n * sizeof(float)))) {
        be->free(ctx, d);
        return NULL;
    }
    return d;
}

typedef enum { X_BOXES, X_POOLED, X_CHANNELS, X_CHANNEL_LOGITS, X_SCORES_SOFTMAX, X_SCORES_LOGIT, X_REDUCE,
               X_WSUM, X_NORMALIZE, X_NORMALIZE_CONST, X_COUNT } xop_kind;
static const char *const xop_names[X_COUNT] = {"ablate_boxes", "ablate_boxes_pooled", "ablate_channels",
                                               "ablate_channel_logits", "class_scores softmax", "class_scores logit",
                                               "pixab_reduce", "weighted_sum", "normalize", "normalize constant"};

/* Run explanation op `x` of case t on backend be (its ctx made for the FC graph g); out (n_out floats). */
static pixab_status run_xop(const backend_ops *be, int device, const graph *g, const xop_case *t, xop_kind x,
                            const float *a, const float *v, size_t n_v, float *out, size_t n_out) {
    void *ctx = NULL;
    float *da = NULL, *dv = NULL, *dpooled = NULL, *dout = NULL;
    const int HW = t->H * t->W, K = t->K;
    pixab_status s = be->create(g, 1, device, &ctx);
    if (s) return s;
    float pooled[64];
    for (int k = 0; k < K; k++) pooled[k] = nn_gap_channel(a, (size_t)HW, K, k);
    if (!(da = dev_put(be, ctx, a, (size_t)HW * K)) || !(dv = dev_put(be, ctx, v, n_v ? n_v : 1)) ||
        !(dpooled = dev_put(be, ctx, pooled, (size_t)K)) || !(dout = dev_put(be, ctx, NULL, n_out))) {
        s = PIXAB_ERR_NOMEM;
        goto done;
    }
    switch (x) {
    case X_BOXES:
        s = be->ablate_boxes(ctx, dout, da, t->H, t->W, K, t->n_boxes, t->box_h, t->box_w, t->first, t->count);
        break;
    case X_POOLED:
        s = be->ablate_boxes_pooled(ctx, dout, da, dpooled, t->H, t->W, K, t->n_boxes, t->box_h, t->box_w, t->first,
                                    t->count);
        break;
    case X_CHANNELS: s = be->ablate_channels(ctx, dout, da, HW, K, t->first % (K + 1), t->count % (K + 1)); break;
    case X_CHANNEL_LOGITS: s = be->ablate_channel_logits(ctx, g, 0, dout, dv, da, HW, K, 0, K + 1); break;
    case X_SCORES_SOFTMAX:
    case X_SCORES_LOGIT:
        s = be->class_scores(ctx, dout, dv, (int)(n_v / (size_t)t->classes), t->classes, t->cls, x == X_SCORES_SOFTMAX);
        break;
    case X_REDUCE: s = be->pixab_reduce(ctx, dout, dv, t->n_boxes, HW); break;
    case X_WSUM: s = be->weighted_sum(ctx, dout, da, dv, HW, K); break;
    case X_NORMALIZE:
    case X_NORMALIZE_CONST:
        if (!(s = be->copy(ctx, dout, dv, n_out * sizeof(float)))) s = be->normalize(ctx, dout, (int)n_out);
        break;
    default: s = PIXAB_ERR_ARG;
    }
    if (!s) s = be->download(ctx, out, dout, n_out * sizeof(float));
done:
    if (da) be->free(ctx, da);
    if (dv) be->free(ctx, dv);
    if (dpooled) be->free(ctx, dpooled);
    if (dout) be->free(ctx, dout);
    be->destroy(ctx);
    return s;
}

/* Each explanation op on each case: CUDA vs CPU, max|d| relative to max|CPU|. */
static void check_xops(void) {
    for (size_t ci = 0; ci < sizeof xop_cases / sizeof xop_cases[0]; ci++) {
        xop_case t = xop_cases[ci];
        const int HW = t.H * t.W, K = t.K, batch = 2 + 2 * t.n_boxes * HW;
        t.count = batch - t.first < 37 ? batch - t.first : 37;
        /* An FC graph K -> classes: its weights serve ablate_channel_logits. */
        op_case fc = {"fc", OP_FC, K, t.classes, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0};
        graph g;
        seed_rng(7000 + ci);
        if (build_graph(&g, &fc)) continue;
        size_t n_a = (size_t)HW * K, n_v = (size_t)(batch > K + 1 ? batch : K + 1) * t.classes + 1;
        float *a = malloc(sizeof(float) * n_a), *v = malloc(sizeof(float) * n_v);
        size_t n_out_max = (size_t)t.count * HW * K + (size_t)(K + 1) * t.classes + (size_t)batch + 16;
        float *oc = malloc(sizeof(float) * n_out_max), *og = malloc(sizeof(float) * n_out_max);
        if (!a || !v || !oc || !og) goto next;
        fill(a, n_a);
        for (size_t i = 0; i < n_a; i++) a[i] = a[i] > 0.0f ? a[i] : 0.0f; /* post-ReLU activations */
        for (int x = 0; x < X_COUNT; x++) {
            size_t n_out = 0, nv = 0;
            fill(v, n_v);
            switch ((xop_kind)x) {
            case X_BOXES: n_out = (size_t)t.count * HW * K; break;
            case X_POOLED: n_out = (size_t)t.count * K; break;
            case X_CHANNELS: n_out = (size_t)(t.count % (K + 1)) * HW * K; break;
            case X_CHANNEL_LOGITS: n_out = (size_t)(K + 1) * t.classes, nv = (size_t)t.classes; break;
            case X_SCORES_SOFTMAX:
            case X_SCORES_LOGIT: nv = (size_t)batch * t.classes, n_out = (size_t)batch; break;
            case X_REDUCE: nv = (size_t)batch, n_out = (size_t)HW; break;
            case X_WSUM: nv = (size_t)K, n_out = (size_t)HW; break;
            case X_NORMALIZE: nv = n_out = (size_t)HW; break;
            case X_NORMALIZE_CONST:
                nv = n_out = (size_t)HW;
                for (size_t i = 0; i < nv; i++) v[i] = 0.5f;
                break;
            default: break;
            }
            char what[96];
            snprintf(what, sizeof what, "%s %dx%dx%d, %d boxes", xop_names[x], t.H, t.W, K, t.n_boxes);
            double err = INFINITY;
            if (!n_out) continue;
            if (run_xop(&cpu_backend, -1, &g, &t, (xop_kind)x, a, v, nv, oc, n_out) ||
                run_xop(&cuda_backend, 0, &g, &t, (xop_kind)x, a, v, nv, og, n_out))
                fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
            else
                err = rel_err(og, oc, oc, n_out);
            /* Element selection and copies are exact; sums and softmax differ in rounding only. */
            record(what, err, x == X_BOXES || x == X_CHANNELS || x == X_NORMALIZE_CONST ? 0.0 : TOL_OP);
        }
    next:
        free(a), free(v), free(oc), free(og);
        graph_free(&g);
    }
}

/* out (oh, ow) on the host = cam_upsample_cuda of map (h, w) from the host. */
static pixab_status cam_upsample_cuda_roundtrip(float *out, const float *map, int h, int w, int oh, int ow) {
    float *dmap = NULL, *dout = NULL;
    const size_t in = sizeof(float) * (size_t)h * w, bytes = sizeof(float) * (size_t)oh * ow;
    pixab_status s = PIXAB_ERR_DEVICE;
    if (cudaMalloc((void **)&dmap, in) == cudaSuccess && cudaMalloc((void **)&dout, bytes) == cudaSuccess &&
        cudaMemcpy(dmap, map, in, cudaMemcpyHostToDevice) == cudaSuccess &&
        !(s = cam_upsample_cuda(dout, dmap, h, w, oh, ow, NULL)) &&
        cudaMemcpy(out, dout, bytes, cudaMemcpyDeviceToHost) != cudaSuccess)
        s = PIXAB_ERR_DEVICE;
    (void)cudaFree(dmap), (void)cudaFree(dout);
    return s;
}

/* The map upsampling kernel against pixab_map_upsample (the same taps: exact). */
static void check_upsample(void) {
    static const int cases[][4] = {{8, 8, 299, 299}, {17, 17, 299, 299}, {1, 1, 5, 7}, {5, 3, 5, 3}, {8, 8, 480, 640}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int h = cases[i][0], w = cases[i][1], oh = cases[i][2], ow = cases[i][3];
        size_t n = (size_t)oh * ow;
        float *map = malloc(sizeof(float) * (size_t)h * w), *cpu = malloc(sizeof(float) * n);
        float *gpu = malloc(sizeof(float) * n);
        char what[96];
        double err = INFINITY;
        snprintf(what, sizeof what, "map upsample %dx%d -> %dx%d", h, w, oh, ow);
        seed_rng(9000 + i);
        if (!map || !cpu || !gpu) goto next;
        fill(map, (size_t)h * w);
        if (pixab_map_upsample(map, h, w, oh, ow, cpu) || cam_upsample_cuda_roundtrip(gpu, map, h, w, oh, ow)) {
            fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
        } else {
            err = 0.0;
            for (size_t k = 0; k < n; k++) {
                double d = fabs((double)cpu[k] - gpu[k]);
                if (!(d <= err)) err = d;
            }
        }
    next:
        record(what, err, 0.0);
        free(map), free(cpu), free(gpu);
    }
}

/* ---- whole engines: "cpu" vs "cuda" on a checkpoint ------------------------ */

#define MODEL_BATCH 2

/* A deterministic input (n, S, S, 3) in about [-2, 2], different per image. */
static float *model_input(int S, int n) {
    size_t per = (size_t)S * S * 3;
    float *x = malloc(sizeof(float) * per * (size_t)n);
    if (!x) return NULL;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < per; k++)
            x[(size_t)i * per + k] = 2.0f * sinf(0.0137f * (float)k * (float)(i + 1) + 0.5f * (float)(k % 3));
    return x;
}

static void seed_one_hot(void *ctx, const float *logits, int classes, float *dlogits) {
    (void)logits;
    memset(dlogits, 0, sizeof(float) * (size_t)classes);
    dlogits[*(const int *)ctx] = 1.0f;
}

/* The CPU's error-free buffers against the CUDA ones, relative to max|CPU|. */
static void record_pair(const char *what, const float *cpu, const float *gpu, size_t n, double tol) {
    record(what, rel_err(gpu, cpu, cpu, n), tol);
}

/* Gradient of the top class's logit w.r.t. layer `layer`'s activation (-1: the input). */
static void check_gradient(const char *tag, pixab_model *m, pixab_engine *ec, pixab_engine *eg, int layer,
                           const float *input) {
    char what[96];
    int c = 3, h = pixab_model_preproc(m)->size, w = h, classes = pixab_model_num_classes(m);
    if (layer >= 0) pixab_model_layer_shape(m, layer, &c, &h, &w);
    size_t n = (size_t)c * h * w;
    float *act = malloc(sizeof(float) * n), *dc = malloc(sizeof(float) * n), *dg = malloc(sizeof(float) * n);
    float *lc = malloc(sizeof(float) * (size_t)classes), *lg = malloc(sizeof(float) * (size_t)classes);
    double err = INFINITY;
    snprintf(what, sizeof what, "%s: d top logit / d %s", tag, layer < 0 ? "input" : pixab_model_layer_name(m, layer));
    if (!act || !dc || !dg || !lc || !lg) goto done;
    /* The same activation on both (the CPU's), the class the CPU predicts. */
    if (layer < 0)
        memcpy(act, input, sizeof(float) * n);
    else if (pixab_engine_body(ec, input, 1, layer, act))
        goto fail;
    if (pixab_engine_head(ec, act, 1, layer, lc)) goto fail;
    int cls = 0;
    for (int k = 1; k < classes; k++) cls = lc[k] > lc[cls] ? k : cls;
    if (engine_gradient(ec, layer, act, seed_one_hot, &cls, lc, dc) ||
        engine_gradient(eg, layer, act, seed_one_hot, &cls, lg, dg))
        goto fail;
    err = rel_err(dg, dc, dc, n);
    goto done;
fail:
    fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
done:
    record(what, err, TOL_MODEL);
    free(act), free(dc), free(dg), free(lc), free(lg);
}

static void check_methods(const char *tag, pixab_model *m, pixab_engine *ec, pixab_engine *eg, const float *input);

static void check_model(const char *path, const char *tag) {
    char what[96];
    pixab_model *m = NULL;
    pixab_engine *ec = NULL, *eg = NULL;
    float *input = NULL, *ac = NULL, *ag = NULL;
    if (pixab_model_load(path, &m) || pixab_engine_create(m, "cpu", MODEL_BATCH, &ec) ||
        pixab_engine_create(m, "cuda", MODEL_BATCH, &eg)) {
        fprintf(stderr, "gpu_parity: %s (%s): %s\n", tag, path, pixab_last_error());
        snprintf(what, sizeof what, "%s: engines", tag);
        record(what, INFINITY, TOL_MODEL);
        goto done;
    }
    const int S = pixab_model_preproc(m)->size, L = pixab_model_num_layers(m);
    size_t most = 0;
    for (int l = 0; l < L; l++) {
        int c, h, w;
        if (!pixab_model_layer_shape(m, l, &c, &h, &w) && (size_t)c * h * w > most) most = (size_t)c * h * w;
    }
    input = model_input(S, MODEL_BATCH);
    ac = malloc(sizeof(float) * most * MODEL_BATCH), ag = malloc(sizeof(float) * most * MODEL_BATCH);
    if (!input || !ac || !ag) goto done;
    /* Every Mixed_* output, then the logits (the last layer), for a batch of MODEL_BATCH. */
    for (int l = 0; l < L; l++) {
        const char *name = pixab_model_layer_name(m, l);
        if (strncmp(name, "Mixed_", 6) && l != L - 1) continue;
        int c, h, w;
        pixab_model_layer_shape(m, l, &c, &h, &w);
        snprintf(what, sizeof what, "%s: %s (n=%d)", tag, l == L - 1 ? "logits" : name, MODEL_BATCH);
        if (pixab_engine_body(ec, input, MODEL_BATCH, l, ac) || pixab_engine_body(eg, input, MODEL_BATCH, l, ag)) {
            fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
            record(what, INFINITY, TOL_MODEL);
            continue;
        }
        record_pair(what, ac, ag, (size_t)c * h * w * MODEL_BATCH, TOL_MODEL);
    }
    /* Backward through the head from two targets (max pools full of post-ReLU
     * ties on the way), and through the whole network from the input. */
    static const char *targets[] = {"Mixed_7c", "Mixed_6e"};
    for (int t = 0; t < 2; t++) {
        int l = pixab_model_find_layer(m, targets[t]);
        if (l >= 0) check_gradient(tag, m, ec, eg, l, input);
    }
    check_gradient(tag, m, ec, eg, -1, input);
    check_methods(tag, m, ec, eg, input);
done:
    free(input), free(ac), free(ag);
    pixab_engine_destroy(ec);
    pixab_engine_destroy(eg);
    pixab_model_free(m);
}

/* Every method's map, CUDA vs CPU: both layers, both scores, the top-1 and
 * another class (the CPU's second-ranked). */
static void check_methods(const char *tag, pixab_model *m, pixab_engine *ec, pixab_engine *eg, const float *input) {
    static const char *layers[] = {"Mixed_7c", "Mixed_6e"};
    const int classes = pixab_model_num_classes(m);
    float *logits = malloc(sizeof(float) * (size_t)classes);
    if (!logits || pixab_engine_forward(ec, input, 1, logits)) goto done;
    int top = 0, second = classes > 1 ? 1 : 0;
    for (int k = 0; k < classes; k++) top = logits[k] > logits[top] ? k : top;
    if (second == top) second = 0;
    for (int k = 0; k < classes; k++) second = k != top && logits[k] > logits[second] ? k : second;
    for (int l = 0; l < 2; l++)
        for (int sc = 0; sc < 2; sc++)
            for (int c = 0; c < 2; c++)
                for (int me = 0; me < PIXAB_METHOD_COUNT; me++) {
                    pixab_method method = (pixab_method)me;
                    pixab_explain_opts o;
                    memset(&o, 0, sizeof o);
                    o.layer = pixab_model_find_layer(m, layers[l]);
                    o.cls = c ? second : -1;
                    o.score = sc ? PIXAB_SCORE_LOGIT : PIXAB_SCORE_SOFTMAX;
                    char what[96];
                    snprintf(what, sizeof what, "%s: %s %s %s %s", tag, pixab_method_name(method), layers[l],
                             sc ? "logit" : "softmax", c ? "other" : "top1");
                    pixab_map mc, mg;
                    memset(&mc, 0, sizeof mc), memset(&mg, 0, sizeof mg);
                    double err = INFINITY;
                    if (o.layer < 0 || pixab_explain(ec, input, &method, 1, &o, &mc) ||
                        pixab_explain(eg, input, &method, 1, &o, &mg))
                        fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
                    else
                        err = rel_err(mg.map, mc.map, mc.map, (size_t)mc.h * mc.w);
                    record(what, err, method == PIXAB_METHOD_SCORECAM ? TOL_SCORECAM : TOL_MAP);
                    pixab_map_free(&mc), pixab_map_free(&mg);
                }
    /* The general (materialised) paths of Pixab-CAM and Ablation-CAM on CUDA vs the CPU's. */
    for (int l = 0; l < 2; l++) {
        int layer = pixab_model_find_layer(m, layers[l]), K, H, W;
        if (layer < 0 || pixab_model_layer_shape(m, layer, &K, &H, &W)) continue;
        float *act = malloc(sizeof(float) * (size_t)K * H * W), *lg = malloc(sizeof(float) * (size_t)classes);
        float *pc = malloc(sizeof(float) * (size_t)H * W), *pg = malloc(sizeof(float) * (size_t)H * W);
        float *wc = malloc(sizeof(float) * (size_t)K), *wg = malloc(sizeof(float) * (size_t)K);
        static const int bh[] = {1, 1, 2, 2}, bw[] = {1, 2, 1, 2};
        char what[96], what_a[96];
        double err = INFINITY, err_a = INFINITY;
        snprintf(what, sizeof what, "%s: pixab general path %s", tag, layers[l]);
        snprintf(what_a, sizeof what_a, "%s: ablation weights, general path %s", tag, layers[l]);
        if (act && lg && pc && pg && wc && wg) {
            cam_ctx cc = {.e = ec, .layer = layer, .H = H, .W = W, .K = K, .classes = classes, .cls = top,
                          .score = PIXAB_SCORE_SOFTMAX, .input = input, .size = pixab_model_preproc(m)->size,
                          .act = act, .logits = lg, .n_boxes = 4, .box_h = bh, .box_w = bw};
            cam_ctx cg = cc;
            cg.e = eg;
            if (engine_forward_keep(ec, input, layer, act, lg) || cam_pixab(&cc, 0, pc) || cam_ablation(&cc, 0, wc) ||
                engine_forward_keep(eg, input, layer, act, lg) || cam_pixab(&cg, 0, pg) || cam_ablation(&cg, 0, wg))
                fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
            else
                err = rel_err(pg, pc, pc, (size_t)H * W), err_a = rel_err(wg, wc, wc, (size_t)K);
        }
        record(what, err, TOL_MAP);
        record(what_a, err_a, TOL_MAP);
        free(act), free(lg), free(pc), free(pg), free(wc), free(wg);
    }
done:
    free(logits);
}

/* ---- --bench: CUDA forward throughput ------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Forward images/s at batch 1, 8, 64: wall clock around pixab_engine_forward,
 * which returns after downloading the logits (the stream has drained). */
static void bench(const char *path) {
    static const int batches[] = {1, 8, 64};
    pixab_model *m = NULL;
    pixab_engine *e = NULL;
    float *input = NULL, *logits = NULL;
    if (pixab_model_load(path, &m) || pixab_engine_create(m, "cuda", 64, &e)) {
        fprintf(stderr, "gpu_parity: bench (%s): %s\n", path, pixab_last_error());
        goto done;
    }
    input = model_input(pixab_model_preproc(m)->size, 64);
    logits = malloc(sizeof(float) * 64 * (size_t)pixab_model_num_classes(m));
    if (!input || !logits) goto done;
    printf("bench: %s on %s, fp32, input %d\n", path, pixab_engine_device(e), pixab_model_preproc(m)->size);
    for (int b = 0; b < 3; b++) {
        int n = batches[b], iters = 0;
        if (pixab_engine_forward(e, input, n, logits) || pixab_engine_forward(e, input, n, logits)) { /* warm-up */
            fprintf(stderr, "gpu_parity: bench: %s\n", pixab_last_error());
            goto done;
        }
        double t0 = now_s(), t = 0.0;
        while (t < 1.0 || iters < 5) {
            if (pixab_engine_forward(e, input, n, logits)) {
                fprintf(stderr, "gpu_parity: bench: %s\n", pixab_last_error());
                goto done;
            }
            iters++;
            t = now_s() - t0;
        }
        printf("bench: forward batch %2d: %9.1f images/s (%.3f ms per batch, %d runs)\n", n, n * iters / t,
               1e3 * t / iters, iters);
    }
done:
    free(input), free(logits);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

int main(int argc, char **argv) {
    const char *paths[2] = {PIXAB_TEST_DATA "/inception_v3_w8.safetensors", NULL};
    int do_bench = 0, n_paths = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench"))
            do_bench = 1;
        else if (n_paths < 2 && argv[i][0] != '-')
            paths[n_paths++] = argv[i];
        else {
            fprintf(stderr, "usage: gpu_parity [w8_model.safetensors [full_width_model.safetensors]] [--bench]\n");
            return 2;
        }
    }
    int count = cuda_device_count();
    if (count < 1) {
        fprintf(stderr, "gpu_parity: no CUDA device (%s)\n", pixab_last_error());
        return 2;
    }
    for (int d = 0; d < count; d++) {
        cuda_device_info info;
        if (!cuda_device_query(d, &info))
            printf("device %d: %s, sm_%d%d, %zu MiB, %d SMs, runtime %d, driver %d\n", d, info.name, info.major,
                   info.minor, info.total_mem >> 20, info.multiprocessors, info.runtime_version, info.driver_version);
    }
    int dnn_rt, dnn_hdr, blas_rt;
    cuda_backend_versions(&dnn_rt, &dnn_hdr, &blas_rt);
    printf("cuDNN %d (built against %d), cuBLAS %d\n", dnn_rt, dnn_hdr, blas_rt);
    if (cuda_select_device(0)) {
        fprintf(stderr, "gpu_parity: %s\n", pixab_last_error());
        return 2;
    }
    check_preprocess();
    check_ops();
    check_xops();
    check_upsample();
    check_model(paths[0], "w8");
    if (paths[1]) check_model(paths[1], "full");
    if (do_bench) bench(paths[1] ? paths[1] : paths[0]);
    int misses = 0;
    printf("\n%-52s %12s %12s  %s\n", "check (CUDA vs CPU)", "error", "tolerance", "result");
    for (int i = 0; i < n_rows; i++) {
        int ok = rows[i].err <= rows[i].tol;
        misses += !ok;
        printf("%-52s %12.3g %12.3g  %s\n", rows[i].what, rows[i].err, rows[i].tol, ok ? "ok" : "MISS");
    }
    printf("%d check(s), %d miss(es)\n", n_rows, misses);
    return misses ? 1 : 0;
}

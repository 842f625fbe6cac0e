/* cpu_backend.c — the CPU backend: NHWC convolution as GEMMs over the whole
 * batch (1x1: straight on the activations; k x k: through im2col; grouped
 * and depthwise ones direct, nn.cuh), pools, global average pooling and the
 * FC layer; the elementwise ops and zero padding are cpu_eltwise.c's.
 * cblas_sgemm (OpenBLAS) does the heavy work, OpenMP all the parallelism. It
 * is a product path and the reference the CUDA backend is tested against. */
#include <cblas.h>
#include <float.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cpu_eltwise.h"
#include "cpu_head_ops.h"
#include "error.h"
#include "nn.cuh"

/* Convolutions run as tiles of output rows (pixels of an image), one per
 * OpenMP thread at a time: im2col of the tile into the thread's own buffer,
 * a single-threaded GEMM, bias and ReLU, all while the tile is in that core's
 * cache. Images with too few rows for every thread split output channels.
 * Tiles never cross images (conv), so an image's values do not depend on the
 * batch. */
#define TILE_COL_FLOATS (96u << 10) /* im2col tile: 384 KiB, under half an L2 */
#define TILE_MIN_ROWS 72
/* Tiles are a multiple of TILE_ROW_STEP rows: OpenBLAS's AVX2 sgemm (Haswell,
 * Zen) rounds a row by its place in the call modulo 12, so with them an
 * image's values are those of one GEMM over all its rows, whatever the cut. */
#define TILE_ROW_STEP 24
#define TILE_COST_ROWS 8 /* a tile's own cost (packing the weights again), in rows */
/* Ops on 1x1 maps (the FC layer) run their rows in groups of ROW_GROUP. */
#define ROW_GROUP 16

typedef struct {
    float *col;        /* im2col workspace: a tile per thread, or all rows of a small image */
    size_t col_floats;
    float *pad;        /* per thread: a padded row group, ROW_GROUP x (c_in + c_out) */
    size_t pad_floats; /* per thread */
    float *dz;         /* one image's packed output gradient of the widest grouped convolution */
    float *dwt;        /* the widest depthwise convolution's weights, transposed to (k_h * k_w, C) */
    int threads;
} cpu_ctx;

static int is_pointwise(const graph_op *o) {
    return o->k_h == 1 && o->k_w == 1 && o->s_h == 1 && o->s_w == 1 && o->p_h == 0 && o->p_w == 0 && !o->e_h &&
           !o->e_w && o->group <= 1;
}

/* One input channel per output channel (MobileNet's, EfficientNet's). */
static int is_depthwise(const graph_op *o) { return o->group > 1 && o->group == o->c_in && o->c_out == o->c_in; }

static nn_window window_of(const graph_op *o) {
    return (nn_window){o->k_h, o->k_w, o->s_h, o->s_w, o->p_h, o->p_w, o->e_h, o->e_w, o->d_h, o->d_w, o->exclude_pad};
}

/* Rows of a tile for an im2col width of kk floats. */
static size_t tile_rows(size_t kk) {
    const size_t r = TILE_COL_FLOATS / kk / TILE_ROW_STEP * TILE_ROW_STEP;
    return r < TILE_MIN_ROWS ? TILE_MIN_ROWS : r;
}

static pixab_status cpu_create(const graph *g, int max_batch, int device, void **out) {
    cpu_ctx *c = calloc(1, sizeof *c);
    if (!c) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    /* All parallelism is ours (OpenMP over tiles): BLAS runs single-threaded. */
    openblas_set_num_threads(1);
    c->threads = omp_get_max_threads();
    /* A row tile per thread for the widest im2col; the rows of an image too
     * small to give every thread a tile fit in it too. */
    size_t need = 0, need_dz = 0, need_dwt = 0, dz_floats;
    for (int i = 0; i < g->n_ops; i++) {
        const graph_op *o = &g->ops[i];
        if (o->kind == OP_CONV || o->kind == OP_FC) { /* a row group of either may run padded */
            size_t pad = (size_t)ROW_GROUP * (size_t)(o->c_in + o->c_out);
            if (pad > c->pad_floats) c->pad_floats = pad;
        }
        if (o->kind == OP_CONV && o->group > 1) {
            dz_floats = (size_t)g->tensors[o->dst].h * g->tensors[o->dst].w * o->c_out;
            need_dz = dz_floats > need_dz ? dz_floats : need_dz;
        }
        if (o->kind == OP_CONV && is_depthwise(o) && (size_t)o->c_out * o->k_h * o->k_w > need_dwt)
            need_dwt = (size_t)o->c_out * o->k_h * o->k_w;
        if (o->kind != OP_CONV || is_pointwise(o) || o->group > 1) continue; /* grouped: direct */
        size_t kk = (size_t)o->k_h * o->k_w * o->c_in, floats = tile_rows(kk) * kk * (size_t)c->threads;
        if (floats > need) need = floats;
    }
    c->col_floats = need;
    if ((need && !(c->col = malloc(need * sizeof(float)))) ||
        (c->pad_floats && !(c->pad = malloc(c->pad_floats * (size_t)c->threads * sizeof(float)))) ||
        (need_dz && !(c->dz = malloc(need_dz * sizeof(float)))) ||
        (need_dwt && !(c->dwt = malloc(need_dwt * sizeof(float))))) {
        const size_t mib = (need + need_dz + need_dwt + c->pad_floats * (size_t)c->threads) * sizeof(float) >> 20;
        free(c->col);
        free(c->pad);
        free(c->dz);
        free(c);
        return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for GEMM workspaces (%zu MiB)", mib);
    }
    *out = c;
    return PIXAB_OK;
}

static void cpu_destroy(void *ctx) {
    cpu_ctx *c = ctx;
    if (!c) return;
    free(c->col);
    free(c->pad);
    free(c->dz);
    free(c->dwt);
    free(c);
}

static pixab_status cpu_alloc(void *ctx, size_t bytes, void **out) {
    *out = malloc(bytes ? bytes : 1);
    return *out ? PIXAB_OK : pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %zu MiB of activations", bytes >> 20);
}

static void cpu_free(void *ctx, void *p) { free(p); }

static pixab_status cpu_host_alloc(void *ctx, size_t bytes, void **out) {
    *out = malloc(bytes ? bytes : 1);
    return *out ? PIXAB_OK : pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %zu MiB of inputs", bytes >> 20);
}

static pixab_status cpu_copy(void *ctx, void *dst, const void *src, size_t bytes) {
    memcpy(dst, src, bytes);
    return PIXAB_OK;
}

/* y[r, 0:c] = max(y[r, 0:c] + b, 0) (or without the max) for `rows` rows of
 * stride ldy. The loops over channels are SIMD (restrict: y and b never
 * overlap; plain -O2 vectorises nothing it cannot prove independent), one
 * element's arithmetic as the scalar code's. */
static void bias_act(float *restrict y, size_t rows, int c, int ldy, const float *restrict b, int relu) {
    for (size_t r = 0; r < rows; r++) {
        float *restrict yr = y + r * (size_t)ldy;
        if (relu) {
#pragma omp simd
            for (int k = 0; k < c; k++) {
                const float v = yr[k] + b[k];
                yr[k] = v > 0.0f ? v : 0.0f;
            }
        } else {
#pragma omp simd
            for (int k = 0; k < c; k++) yr[k] += b[k];
        }
    }
}

/* Rows [r0, r0 + rows) of the im2col matrix of x (n, h, w, c_in) for op o:
 * col[r, (ky * k_w + kx) * c_in + ci]; zero outside the image. */
static void im2col(float *col, const float *x, const tshape *xs, const tshape *ys, const graph_op *o, size_t r0,
                   size_t rows) {
    const size_t kk = (size_t)o->k_h * o->k_w * o->c_in, hw = (size_t)ys->h * ys->w, row = (size_t)o->k_w * o->c_in;
    const int whole = o->d_w == 1 && xs->c == o->c_in;
    for (size_t r = 0; r < rows; r++) {
        size_t img = (r0 + r) / hw, p = (r0 + r) % hw;
        int oy = (int)(p / (size_t)ys->w), ox = (int)(p % (size_t)ys->w);
        float *dst = col + r * kk;
        const int ix0 = ox * o->s_w - o->p_w, inside = ix0 >= 0 && ix0 + (o->k_w - 1) * o->d_w < xs->w;
        for (int ky = 0; ky < o->k_h; ky++) {
            int iy = oy * o->s_h - o->p_h + ky * o->d_h;
            if (whole && inside && iy >= 0 && iy < xs->h) { /* the kernel row's pixels lie side by side in x */
                memcpy(dst, x + ((img * xs->h + iy) * xs->w + ix0) * (size_t)xs->c, sizeof(float) * row);
                dst += row;
                continue;
            }
            for (int kx = 0; kx < o->k_w; kx++, dst += o->c_in) {
                int ix = ox * o->s_w - o->p_w + kx * o->d_w;
                if (iy < 0 || iy >= xs->h || ix < 0 || ix >= xs->w)
                    memset(dst, 0, sizeof(float) * (size_t)o->c_in);
                else
                    memcpy(dst, x + ((img * xs->h + iy) * xs->w + ix) * (size_t)xs->c, sizeof(float) * (size_t)o->c_in);
            }
        }
    }
}

/* out[r0 : r0+m, c0 : c0+nc] = ReLU(A W[c0 : c0+nc]^T + b), where A is the
 * tile's im2col rows (in col) or, for a pointwise conv, x's pixels. */
static void conv_tile(const graph *g, const graph_op *o, const float *x, float *out, const float *col, size_t r0,
                      size_t m, int c0, int nc) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const float *w = g->params + o->w_off, *b = g->params + o->b_off;
    const float *a = is_pointwise(o) ? x + r0 * (size_t)xs->c : col;
    const int kk = o->k_h * o->k_w * o->c_in, lda = is_pointwise(o) ? xs->c : kk;
    float *y = out + r0 * (size_t)ys->c + c0;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, nc, kk, 1.0f, a, lda, w + (size_t)c0 * kk, kk,
                0.0f, y, ys->c);
    bias_act(y, m, nc, ys->c, b + c0, o->relu);
}

/* A pointwise op on 1x1 maps (the FC layer), one row per image: the rows in
 * groups of ROW_GROUP at their own place (row r: group r / ROW_GROUP), each
 * group's output channels in a part per thread, each part one GEMM of exactly
 * ROW_GROUP rows, the last group padded with zero rows in the thread's
 * scratch. A row meets the same calls whatever the number of rows, so its
 * values do not depend on it (an image's logits on the batch); a single image
 * still keeps every thread busy. Kernels that round a row by its place in the
 * call (OpenBLAS's AVX2 sgemm) still tie its last bits to that place, r % ROW_GROUP. */
static void rows_1x1(cpu_ctx *c, const graph *g, const graph_op *o, int n, const float *x, float *y) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const int K = o->c_in, N = o->c_out, parts = c->threads, step = (N + parts - 1) / parts;
    const long tasks = (n + ROW_GROUP - 1) / ROW_GROUP * (long)parts;
    float *out = y + o->dst_c0;
#pragma omp parallel for schedule(dynamic)
    for (long t = 0; t < tasks; t++) {
        const size_t r0 = (size_t)(t / parts) * ROW_GROUP, m = n - r0 < ROW_GROUP ? n - r0 : ROW_GROUP;
        const int c0 = (int)(t % parts) * step, nc = N - c0 < step ? N - c0 : step;
        if (nc <= 0) continue;
        if (m == ROW_GROUP) {
            conv_tile(g, o, x, out, NULL, r0, m, c0, nc);
            continue;
        }
        float *a = c->pad + (size_t)omp_get_thread_num() * c->pad_floats, *p = a + (size_t)ROW_GROUP * K;
        memset(a, 0, sizeof(float) * ROW_GROUP * (size_t)K);
        for (size_t r = 0; r < m; r++) memcpy(a + r * K, x + (r0 + r) * xs->c, sizeof(float) * (size_t)K);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ROW_GROUP, nc, K, 1.0f, a, K,
                    g->params + o->w_off + (size_t)c0 * K, K, 0.0f, p, nc);
        bias_act(p, m, nc, nc, g->params + o->b_off + c0, o->relu);
        for (size_t r = 0; r < m; r++) memcpy(out + (r0 + r) * ys->c + c0, p + r * nc, sizeof(float) * (size_t)nc);
    }
}

/* How a conv cuts an image's rows, the same for every image whatever the
 * batch (BLAS kernels round a value by its place in the call, so an image's
 * values do not depend on the batch size): tiles of `rows` rows from its
 * first row, the last one shorter; or none (tiles = 0) for an image too small
 * to give every thread a tile of TILE_MIN_ROWS (late layers). `rows` is a
 * multiple of TILE_ROW_STEP, at most tile_rows, chosen so that the threads
 * finish a single image together: the rows of the busiest thread (tiles
 * handed out in order, as schedule(dynamic) does with tiles of equal cost),
 * plus TILE_COST_ROWS a tile, as few as can be; the larger tile on a tie. */
typedef struct {
    size_t tiles, rows;
} row_cut;

static row_cut cut_rows(size_t hw, size_t kk, int threads) {
    const size_t tr = tile_rows(kk), th = (size_t)threads;
    if (hw < tr * th) return (row_cut){0, hw};
    row_cut best = {0, 0};
    size_t best_cost = (size_t)-1;
    for (size_t rows = tr; rows >= TILE_ROW_STEP; rows -= TILE_ROW_STEP) {
        const size_t tiles = (hw + rows - 1) / rows, last = hw - (tiles - 1) * rows, q = tiles / th, r = tiles % th;
        const size_t busiest = r == 0 ? (th > 1 ? q * rows : hw) : r == 1 ? q * rows + last : (q + 1) * rows;
        const size_t cost = busiest + ((tiles + th - 1) / th) * TILE_COST_ROWS;
        if (cost < best_cost) best_cost = cost, best = (row_cut){tiles, rows};
    }
    return best;
}

/* A grouped (or depthwise) convolution, direct: one output pixel's channels
 * at a time, each from nn_conv_at (the CUDA kernel's very code). */
static void conv_grouped(const graph *g, const graph_op *o, int n, const float *x, float *y) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const size_t hw = (size_t)ys->h * ys->w, rows = (size_t)n * hw, x_img = (size_t)xs->h * xs->w * xs->c;
    const float *w = g->params + o->w_off, *b = g->params + o->b_off;
    const nn_window win = window_of(o);
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const size_t img = r / hw, p = r % hw;
        const int oy = (int)(p / (size_t)ys->w), ox = (int)(p % (size_t)ys->w);
        float *dst = y + r * (size_t)ys->c + o->dst_c0;
        for (int k = 0; k < o->c_out; k++)
            dst[k] = nn_bias_act(nn_conv_at(x + img * x_img, xs->c, xs->h, xs->w, w, o->c_in, o->c_out, o->group,
                                            win, oy, ox, k),
                                 b[k], o->relu);
    }
}

/* A depthwise convolution, direct: per output pixel its taps in nn_conv_at's
 * order, each across all channels at once (the weights transposed into wt,
 * (k_h * k_w, C)). Every channel's sum adds the same products in the same
 * order from 0 as nn_conv_at's, so the values are conv_grouped's. */
static void conv_depthwise(const graph *g, const graph_op *o, int n, const float *x, float *y, float *wt) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const int C = o->c_out, taps = o->k_h * o->k_w, dh = nn_dilation(o->d_h), dw = nn_dilation(o->d_w),
              relu = o->relu;
    const size_t hw = (size_t)ys->h * ys->w, rows = (size_t)n * hw, x_img = (size_t)xs->h * xs->w * xs->c;
    const float *w = g->params + o->w_off, *b = g->params + o->b_off;
    for (int k = 0; k < C; k++)
        for (int t = 0; t < taps; t++) wt[(size_t)t * C + k] = w[(size_t)k * taps + t];
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const size_t img = r / hw, p = r % hw;
        const int oy = (int)(p / (size_t)ys->w), ox = (int)(p % (size_t)ys->w);
        float *dst = y + r * (size_t)ys->c + o->dst_c0;
        for (int k = 0; k < C; k++) dst[k] = 0.0f;
        for (int ky = 0; ky < o->k_h; ky++) {
            const int iy = oy * o->s_h - o->p_h + ky * dh;
            if (iy < 0 || iy >= xs->h) continue;
            for (int kx = 0; kx < o->k_w; kx++) {
                const int ix = ox * o->s_w - o->p_w + kx * dw;
                if (ix < 0 || ix >= xs->w) continue;
                const float *xp = x + img * x_img + ((size_t)iy * xs->w + ix) * (size_t)xs->c;
                const float *wp = wt + (size_t)(ky * o->k_w + kx) * C;
#pragma omp simd
                for (int k = 0; k < C; k++) dst[k] += xp[k] * wp[k];
            }
        }
#pragma omp simd
        for (int k = 0; k < C; k++) dst[k] = nn_bias_act(dst[k], b[k], relu);
    }
}

static void conv(cpu_ctx *c, const graph *g, const graph_op *o, int n, const float *x, float *y) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    if (is_depthwise(o)) {
        conv_depthwise(g, o, n, x, y, c->dwt);
        return;
    }
    if (o->group > 1) {
        conv_grouped(g, o, n, x, y);
        return;
    }
    if (ys->h * ys->w == 1 && is_pointwise(o)) {
        rows_1x1(c, g, o, n, x, y);
        return;
    }
    const size_t hw = (size_t)ys->h * ys->w, kk = (size_t)o->k_h * o->k_w * o->c_in;
    const row_cut cut = cut_rows(hw, kk, c->threads);
    const int pw = is_pointwise(o);
    float *out = y + o->dst_c0;
    if (cut.tiles) { /* tiles of all images, each im2col'd into its thread's own buffer */
        const long tiles = (long)((size_t)n * cut.tiles);
#pragma omp parallel for schedule(dynamic)
        for (long t = 0; t < tiles; t++) {
            const size_t k = (size_t)t % cut.tiles, r0 = (size_t)t / cut.tiles * hw + k * cut.rows,
                         m = hw - k * cut.rows < cut.rows ? hw - k * cut.rows : cut.rows;
            float *col = c->col + (size_t)omp_get_thread_num() * tile_rows(kk) * kk;
            if (!pw) im2col(col, x, xs, ys, o, r0, m);
            conv_tile(g, o, x, out, col, r0, m, 0, o->c_out);
        }
        return;
    }
    /* Image by image: one im2col, its rows shared out, then a part of the channels per thread. */
    const int parts = c->threads, step = (o->c_out + parts - 1) / parts;
    for (int i = 0; i < n; i++) {
        const size_t r0 = (size_t)i * hw;
#pragma omp parallel
        {
            if (!pw) {
#pragma omp for schedule(static)
                for (size_t r = 0; r < hw; r++) im2col(c->col + r * kk, x, xs, ys, o, r0 + r, 1);
            }
#pragma omp for schedule(static)
            for (int p = 0; p < parts; p++) {
                int c0 = p * step, nc = o->c_out - c0 < step ? o->c_out - c0 : step;
                if (nc > 0) conv_tile(g, o, x, out, c->col, r0, hw, c0, nc);
            }
        }
    }
}

/* Max or average pool, the average's divisor per window (nn_pool_divisor:
 * the padding counted, as torchvision's count_include_pad=True, or not);
 * the same sums in the same order as nn_pool_at, a pixel's channels at once. */
static void pool(const graph *g, const graph_op *o, int n, const float *x, float *y) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const size_t rows = (size_t)n * ys->h * ys->w, hw = (size_t)ys->h * ys->w;
    const int is_max = o->kind == OP_MAXPOOL, C = o->c_in;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        size_t img = r / hw, p = r % hw;
        int oy = (int)(p / (size_t)ys->w), ox = (int)(p % (size_t)ys->w);
        const float inv = is_max ? 1.0f : 1.0f / (float)nn_pool_divisor(xs->h, xs->w, oy, ox, window_of(o));
        float *restrict dst = y + r * (size_t)ys->c + o->dst_c0;
        const float init = is_max ? -FLT_MAX : 0.0f;
#pragma omp simd
        for (int k = 0; k < C; k++) dst[k] = init;
        for (int ky = 0; ky < o->k_h; ky++) {
            int iy = oy * o->s_h - o->p_h + ky;
            if (iy < 0 || iy >= xs->h) continue;
            for (int kx = 0; kx < o->k_w; kx++) {
                int ix = ox * o->s_w - o->p_w + kx;
                if (ix < 0 || ix >= xs->w) continue;
                const float *restrict src = x + ((img * xs->h + iy) * xs->w + ix) * (size_t)xs->c;
                if (is_max) {
#pragma omp simd
                    for (int k = 0; k < C; k++) dst[k] = src[k] > dst[k] ? src[k] : dst[k];
                } else {
#pragma omp simd
                    for (int k = 0; k < C; k++) dst[k] += src[k];
                }
            }
        }
        if (!is_max)
#pragma omp simd
            for (int k = 0; k < C; k++) dst[k] *= inv;
    }
}

static void global_avg_pool(const graph *g, const graph_op *o, int n, const float *x, float *y) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const size_t hw = (size_t)xs->h * xs->w;
    const int C = o->c_in;
#pragma omp parallel for schedule(static)
    for (int img = 0; img < n; img++) {
        float *dst = y + (size_t)img * ys->c + o->dst_c0;
        const float *src = x + (size_t)img * hw * xs->c;
        for (int k = 0; k < C; k++) dst[k] = 0.0f;
        for (size_t p = 0; p < hw; p++)
            for (int k = 0; k < C; k++) dst[k] += src[p * xs->c + k];
        for (int k = 0; k < C; k++) dst[k] /= (float)hw;
    }
}

static void network_op(cpu_ctx *c, const graph *g, const backend_op *op) {
    const graph_op *o = &g->ops[op->index];
    const int n = op->count;
    switch (o->kind) {
    case OP_ADD:
    case OP_MUL:
    case OP_ACT:
    case OP_PAD: cpu_eltwise_forward(g, o, n, op->src, op->src2, op->dst); break;
    case OP_CONV: conv(c, g, o, n, op->src, op->dst); break;
    case OP_MAXPOOL:
    case OP_AVGPOOL: pool(g, o, n, op->src, op->dst); break;
    case OP_GAP: global_avg_pool(g, o, n, op->src, op->dst); break;
    case OP_FC: conv(c, g, o, n, op->src, op->dst); break; /* a 1x1 convolution of the pooled pixel, no ReLU */
    }
}

static int cpu_supports_op(void *ctx, bop_kind kind) { return kind >= 0 && kind < BOP_COUNT; }

static pixab_status cpu_run(void *ctx, const graph *g, const backend_op *op) {
    if (op->kind != BOP_NETWORK) return cpu_run_head_op(g, op);
    network_op(ctx, g, op);
    return PIXAB_OK;
}

/* ---- backward (data gradients only: weights stay fixed) ------------------ */

/* col2im: dx (n, h, w, c_in) += the tile's dcol rows scattered back to the pixels they were read from. */
static void col2im_add(float *dx, const float *dcol, const tshape *xs, const tshape *ys, const graph_op *o,
                       size_t r0, size_t rows) {
    const size_t kk = (size_t)o->k_h * o->k_w * o->c_in, hw = (size_t)ys->h * ys->w;
    for (size_t r = 0; r < rows; r++) {
        size_t row = r0 + r, img = row / hw, p = row % hw;
        int oy = (int)(p / (size_t)ys->w), ox = (int)(p % (size_t)ys->w);
        const float *src = dcol + r * kk;
        for (int ky = 0; ky < o->k_h; ky++) {
            int iy = oy * o->s_h - o->p_h + ky * o->d_h;
            for (int kx = 0; kx < o->k_w; kx++, src += o->c_in) {
                int ix = ox * o->s_w - o->p_w + kx * o->d_w;
                if (iy < 0 || iy >= xs->h || ix < 0 || ix >= xs->w) continue;
                float *d = dx + ((img * xs->h + iy) * xs->w + ix) * (size_t)xs->c;
                for (int k = 0; k < o->c_in; k++) d[k] += src[k];
            }
        }
    }
}

/* dx += the backward-data of a grouped convolution, dz = its output
 * gradient (already ReLU-masked) in dy's slice: image by image, dz packed
 * into scratch (one image's output), then one nn_conv_backward_data_at per
 * element of dx (the CUDA kernel's code). */
static void conv_backward_grouped(cpu_ctx *c, const graph *g, const graph_op *o, int n, float *dx, const float *dys) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const size_t hw = (size_t)ys->h * ys->w, xhw = (size_t)xs->h * xs->w;
    float *dz = c->dz;
    const nn_window win = window_of(o);
    for (int i = 0; i < n; i++) {
        for (size_t p = 0; p < hw; p++)
            memcpy(dz + p * o->c_out, dys + ((size_t)i * hw + p) * ys->c, sizeof(float) * (size_t)o->c_out);
        float *dxi = dx + (size_t)i * xhw * xs->c;
#pragma omp parallel for schedule(static)
        for (size_t p = 0; p < xhw; p++)
            for (int k = 0; k < o->c_in; k++)
                dxi[p * xs->c + k] += nn_conv_backward_data_at(dz, ys->h, ys->w, o->c_out, g->params + o->w_off,
                                                               o->c_in, o->group, win, (int)(p / (size_t)xs->w),
                                                               (int)(p % (size_t)xs->w), k);
    }
}

static void conv_backward(cpu_ctx *c, const graph *g, const graph_op *o, int n, const float *y, float *dx,
                          float *dy) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const float *w = g->params + o->w_off;
    const size_t rows = (size_t)n * ys->h * ys->w, kk = (size_t)o->k_h * o->k_w * o->c_in;
    float *dys = dy + o->dst_c0;
    const float *yo = y + o->dst_c0;
    if (o->relu) /* y = ReLU(z): dz = dy where y > 0 */
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < rows; r++)
            for (int k = 0; k < o->c_out; k++)
                if (!(yo[r * ys->c + k] > 0.0f)) dys[r * ys->c + k] = 0.0f;
    /* Image by image, as the forward: an image's gradient does not depend on the batch. */
    const size_t hw = (size_t)ys->h * ys->w, x_img = (size_t)xs->h * xs->w * xs->c;
    if (o->group > 1) { /* direct, a gather per dx element (nn.cuh); dz packed per image in the col workspace */
        conv_backward_grouped(c, g, o, n, dx, dys);
        return;
    }
    if (is_pointwise(o)) {
        for (int i = 0; i < n; i++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)hw, o->c_in, o->c_out, 1.0f,
                        dys + (size_t)i * hw * ys->c, ys->c, w, o->c_in, 1.0f, dx + (size_t)i * x_img, xs->c);
        return;
    }
    /* dcol = dz W, a tile at a time (tiles overlap in dx, so they run in turn). */
    const size_t tr = c->col_floats / kk;
    for (size_t r0 = 0, m; r0 < rows; r0 += m) {
        m = hw - r0 % hw < tr ? hw - r0 % hw : tr; /* tiles end at each image's last row */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)kk, o->c_out, 1.0f,
                    dys + r0 * (size_t)ys->c, ys->c, w, (int)kk, 0.0f, c->col, (int)kk);
        col2im_add(dx, c->col, xs, ys, o, r0, m);
    }
}

/* Max pool: the gradient goes to the first maximum of each window (PyTorch's
 * choice); average pool: spread evenly, the padding counted. Gathered per
 * input element by nn_pool_backward_at, the CUDA kernel's very code. */
static void pool_backward(const graph *g, const graph_op *o, int n, const float *x, const float *y, float *dx,
                          const float *dy) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const size_t rows = (size_t)n * xs->h * xs->w, hw = (size_t)xs->h * xs->w;
    const size_t y_img = (size_t)ys->h * ys->w * ys->c;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const size_t img = r / hw, p = r % hw;
        const int iy = (int)(p / (size_t)xs->w), ix = (int)(p % (size_t)xs->w);
        const float *xi = x + img * hw * xs->c, *yi = y + img * y_img + o->dst_c0, *dyi = dy + img * y_img + o->dst_c0;
        for (int k = 0; k < o->c_in; k++)
            dx[r * xs->c + k] = nn_pool_backward_at(dx[r * xs->c + k], xi + k, xs->c, xs->h, xs->w, yi + k, dyi + k,
                                                    ys->c, ys->h, ys->w, iy, ix, window_of(o), o->kind == OP_MAXPOOL);
    }
}

static pixab_status cpu_run_op_backward(void *ctx, const graph *g, int i, int n, const float *x, const float *x2,
                                        const float *y, float *dx, float *dx2, float *dy) {
    const graph_op *o = &g->ops[i];
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    switch (o->kind) {
    case OP_ADD:
    case OP_MUL:
    case OP_ACT:
    case OP_PAD: cpu_eltwise_backward(g, o, n, x, x2, y, dx, dx2, dy); break;
    case OP_CONV: conv_backward(ctx, g, o, n, y, dx, dy); break;
    case OP_MAXPOOL:
    case OP_AVGPOOL: pool_backward(g, o, n, x, y, dx, dy); break;
    case OP_GAP: {
        const size_t hw = (size_t)xs->h * xs->w;
        for (int img = 0; img < n; img++)
            for (size_t p = 0; p < hw; p++)
                for (int k = 0; k < o->c_in; k++)
                    dx[((size_t)img * hw + p) * xs->c + k] += dy[(size_t)img * ys->c + o->dst_c0 + k] / (float)hw;
        break;
    }
    case OP_FC: /* image by image, as the forward */
        for (int img = 0; img < n; img++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, o->c_in, o->c_out, 1.0f,
                        dy + (size_t)img * ys->c + o->dst_c0, ys->c, g->params + o->w_off, o->c_in, 1.0f,
                        dx + (size_t)img * xs->c, xs->c);
        break;
    }
    return PIXAB_OK;
}

static pixab_status cpu_zero(void *ctx, void *p, size_t bytes) {
    memset(p, 0, bytes);
    return PIXAB_OK;
}

/* Host memory is the system's to manage: the engine uses its fixed default budget. */
static pixab_status cpu_memory_info(void *ctx, size_t *free_bytes, size_t *total_bytes) {
    *free_bytes = *total_bytes = 0;
    return pixab_fail(PIXAB_ERR_UNSUPPORTED, "the CPU backend does not report its memory");
}

/* The im2col workspace is tiled to a fixed size: nothing grows with the batch. */
static pixab_status cpu_prepare(void *ctx, const graph *g, int first_op, int batch) { return PIXAB_OK; }

/* OpenBLAS sgemm is fp32 only: the lower precisions are the CUDA backend's. */
static pixab_status cpu_set_precision(void *ctx, const graph *g, int precision) {
    if (precision == PIXAB_PRECISION_FP32) return PIXAB_OK;
    return pixab_fail(PIXAB_ERR_UNSUPPORTED, "precision %s needs the CUDA backend (the CPU backend is fp32 only)",
                      pixab_precision_name((pixab_precision)precision));
}

const backend_ops cpu_backend = {
    .name = "cpu",
    .host_memory = 1,
    .create = cpu_create,
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .host_alloc = cpu_host_alloc,
    .host_free = cpu_free,
    .upload = cpu_copy,
    .download = cpu_copy,
    .copy = cpu_copy,
    .set_precision = cpu_set_precision,
    .prepare = cpu_prepare,
    .memory_info = cpu_memory_info,
    .supports_op = cpu_supports_op,
    .run = cpu_run,
    .run_op_backward = cpu_run_op_backward,
    .zero = cpu_zero,
};

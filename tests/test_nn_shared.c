/* test_nn_shared.c — the network-op logic the CPU backend and the CUDA
 * kernels share (kernels/element/nn.cuh), on the CPU: which windows read an input
 * position, the pool backward gather against a plain scatter over the
 * windows (bit for bit, max pools full of post-ReLU ties included), and the
 * direct convolution backward-data (the CUDA fallback) against the CPU
 * backend's GEMM backward. The GPU runs the same functions
 * (tests/gpu/gpu_parity.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "graph.h"
#include "nn.cuh"

static unsigned long long rng = 88172645463325252ull;

/* Uniform in [-1, 1). */
static float frand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / (1ull << 23)) - 1.0);
}

static int out_size(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

Test(nn_shared, windows_over_an_input_match_brute_force) {
    for (int n_in = 1; n_in <= 9; n_in++)
        for (int k = 1; k <= 7; k++)
            for (int s = 1; s <= 3; s++)
                for (int p = 0; p <= k / 2; p++) {
                    int n = out_size(n_in, k, s, p);
                    if (n < 1) continue;
                    for (int i = 0; i < n_in; i++) {
                        int lo, hi, want_lo = n, want_hi = -1;
                        for (int o = 0; o < n; o++)
                            if (o * s - p <= i && i < o * s - p + k) {
                                if (o < want_lo) want_lo = o;
                                want_hi = o;
                            }
                        nn_windows_over(i, n, k, s, p, &lo, &hi);
                        if (want_hi < 0)
                            cr_expect(lo > hi, "in %d k %d s %d p %d i %d: [%d, %d] not empty", n_in, k, s, p, i, lo,
                                      hi);
                        else
                            cr_expect(lo == want_lo && hi == want_hi, "in %d k %d s %d p %d i %d: [%d, %d] != [%d, %d]",
                                      n_in, k, s, p, i, lo, hi, want_lo, want_hi);
                    }
                }
}

typedef struct {
    int h, w, c, k, s, p, is_max, ties;
} pool_case;

/* The pool backward as a scatter over the output windows, row-major, the
 * first maximum of a window taking its gradient (PyTorch's rule). */
static void scatter_reference(const pool_case *t, int oh, int ow, const float *x, const float *y, const float *dy,
                              float *dx) {
    const float inv = 1.0f / (float)(t->k * t->k);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int k = 0; k < t->c; k++) {
                const size_t out = ((size_t)oy * ow + ox) * t->c + k;
                int found = 0;
                for (int ky = 0; ky < t->k && !found; ky++)
                    for (int kx = 0; kx < t->k && !found; kx++) {
                        int iy = oy * t->s - t->p + ky, ix = ox * t->s - t->p + kx;
                        if (iy < 0 || iy >= t->h || ix < 0 || ix >= t->w) continue;
                        size_t at = ((size_t)iy * t->w + ix) * t->c + k;
                        if (!t->is_max)
                            dx[at] += dy[out] * inv;
                        else if (x[at] == y[out])
                            dx[at] += dy[out], found = 1;
                    }
            }
}

Test(nn_shared, pool_backward_gather_equals_the_scatter_bit_for_bit) {
    static const pool_case cases[] = {
        {17, 17, 5, 3, 2, 0, 1, 1}, /* Mixed_6a/7a's pool on mostly post-ReLU zeros: windows of equal maxima */
        {15, 13, 3, 3, 2, 0, 1, 0}, {3, 3, 2, 3, 2, 0, 1, 1},  {1, 1, 1, 1, 1, 0, 1, 0},
        {9, 7, 4, 3, 1, 1, 0, 0},   {1, 1, 3, 3, 1, 1, 0, 0},  {8, 8, 2, 3, 1, 1, 1, 1}, /* padded max, all ties */
        {6, 5, 2, 2, 2, 0, 0, 0},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const pool_case *t = &cases[ci];
        const int oh = out_size(t->h, t->k, t->s, t->p), ow = out_size(t->w, t->k, t->s, t->p);
        const size_t nx = (size_t)t->h * t->w * t->c, ny = (size_t)oh * ow * t->c;
        float *x = malloc(sizeof(float) * nx), *dx0 = malloc(sizeof(float) * nx), *want = malloc(sizeof(float) * nx);
        float *got = malloc(sizeof(float) * nx), *y = malloc(sizeof(float) * ny), *dy = malloc(sizeof(float) * ny);
        cr_assert(x && dx0 && want && got && y && dy);
        for (size_t i = 0; i < nx; i++) x[i] = frand(), dx0[i] = frand();
        if (t->ties)
            for (size_t i = 0; i < nx; i++) x[i] = x[i] > 0.7f ? x[i] : 0.0f;
        for (size_t i = 0; i < ny; i++) dy[i] = frand();
        /* y: the forward (max, or anything for average: unused there) */
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int k = 0; k < t->c; k++) {
                    float m = -INFINITY;
                    for (int ky = 0; ky < t->k; ky++)
                        for (int kx = 0; kx < t->k; kx++) {
                            int iy = oy * t->s - t->p + ky, ix = ox * t->s - t->p + kx;
                            if (iy >= 0 && iy < t->h && ix >= 0 && ix < t->w) {
                                float v = x[((size_t)iy * t->w + ix) * t->c + k];
                                m = v > m ? v : m;
                            }
                        }
                    y[((size_t)oy * ow + ox) * t->c + k] = m;
                }
        memcpy(want, dx0, sizeof(float) * nx);
        scatter_reference(t, oh, ow, x, y, dy, want);
        for (int iy = 0; iy < t->h; iy++)
            for (int ix = 0; ix < t->w; ix++)
                for (int k = 0; k < t->c; k++) {
                    size_t at = ((size_t)iy * t->w + ix) * t->c + k;
                    got[at] = nn_pool_backward_at(dx0[at], x + k, t->c, t->h, t->w, y + k, dy + k, t->c, oh, ow, iy, ix,
                                                  (nn_window){.k_h = t->k, .k_w = t->k, .s_h = t->s, .s_w = t->s, .p_h = t->p, .p_w = t->p}, t->is_max);
                }
        cr_expect(!memcmp(got, want, sizeof(float) * nx), "case %zu (%dx%dx%d, k%d s%d p%d, %s): gather != scatter",
                  ci, t->h, t->w, t->c, t->k, t->s, t->p, t->is_max ? "max" : "avg");
        free(x), free(dx0), free(want), free(got), free(y), free(dy);
    }
}

typedef struct {
    int c_in, c_out, k_h, k_w, s, p_h, p_w, h, w;
} conv_case;

/* nn_conv_backward_data_at over every input element against the CPU
 * backend's backward of a one-op graph (im2col GEMM, or a plain GEMM for 1x1). */
Test(nn_shared, direct_conv_backward_data_matches_the_cpu_backend) {
    static const conv_case cases[] = {
        {3, 8, 3, 3, 2, 0, 0, 19, 17}, /* Conv2d_1a's shape: 3 input channels, stride 2 */
        {5, 7, 1, 1, 1, 0, 0, 9, 11},  {4, 6, 1, 7, 1, 0, 3, 9, 12}, {7, 3, 7, 1, 1, 3, 0, 12, 9},
        {3, 8, 5, 5, 1, 2, 2, 11, 11}, {1, 1, 1, 1, 1, 0, 0, 1, 1},  {2, 3, 3, 3, 1, 1, 1, 1, 1},
        {6, 5, 3, 3, 2, 0, 0, 15, 9},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const conv_case *t = &cases[ci];
        graph g;
        memset(&g, 0, sizeof g);
        int xt = graph_add_tensor(&g, t->c_in), yt = graph_add_tensor(&g, 0);
        cr_assert(xt == 0 && yt == 1);
        graph_op o = {.kind = OP_CONV, .src = 0, .dst = 1, .c_in = t->c_in, .c_out = t->c_out, .k_h = t->k_h,
                      .k_w = t->k_w, .s_h = t->s, .s_w = t->s, .p_h = t->p_h, .p_w = t->p_w, .relu = 0};
        size_t wn = (size_t)t->c_out * t->k_h * t->k_w * t->c_in;
        o.w_off = graph_reserve_params(&g, wn);
        o.b_off = graph_reserve_params(&g, (size_t)t->c_out);
        cr_assert_geq(graph_add_op(&g, &o), 0);
        g.params = calloc(g.n_params + 1, sizeof(float));
        cr_assert(g.params);
        for (size_t i = 0; i < wn; i++) g.params[o.w_off + i] = frand();
        cr_assert_eq(graph_infer_shapes(&g, t->h), PIXAB_OK);
        g.tensors[0].w = t->w, g.tensors[1].w = out_size(t->w, t->k_w, t->s, t->p_w); /* not square */
        const int oh = g.tensors[1].h, ow = g.tensors[1].w;
        cr_assert_eq(oh, out_size(t->h, t->k_h, t->s, t->p_h));
        const size_t nx = (size_t)t->h * t->w * t->c_in, ny = (size_t)oh * ow * t->c_out;
        float *x = calloc(nx, sizeof(float)), *dx = calloc(nx, sizeof(float)), *y = malloc(sizeof(float) * ny);
        float *dy = malloc(sizeof(float) * ny), *dz = malloc(sizeof(float) * ny);
        cr_assert(x && dx && y && dy && dz);
        for (size_t i = 0; i < ny; i++) dy[i] = dz[i] = frand(), y[i] = 1.0f;
        void *ctx;
        cr_assert_eq(cpu_backend.create(&g, 1, -1, &ctx), PIXAB_OK);
        cr_assert_eq(cpu_backend.run_op_backward(ctx, &g, 0, 1, x, NULL, y, dx, NULL, dy), PIXAB_OK);
        cpu_backend.destroy(ctx);
        double err = 0.0, scale = 0.0;
        for (int iy = 0; iy < t->h; iy++)
            for (int ix = 0; ix < t->w; ix++)
                for (int c = 0; c < t->c_in; c++) {
                    size_t at = ((size_t)iy * t->w + ix) * t->c_in + c;
                    float v = nn_conv_backward_data_at(dz, oh, ow, t->c_out, g.params + o.w_off, t->c_in, 1,
                                                       (nn_window){.k_h = t->k_h, .k_w = t->k_w, .s_h = t->s, .s_w = t->s, .p_h = t->p_h, .p_w = t->p_w}, iy,
                                                       ix, c);
                    err = fmax(err, fabs((double)v - dx[at]));
                    scale = fmax(scale, fabs((double)dx[at]));
                }
        /* fp32 sums of at most c_out * k_h * k_w products in another order */
        cr_expect_leq(err, 1e-5 * (scale > 0.0 ? scale : 1.0), "case %zu: max |direct - GEMM| = %g (max %g)", ci,
                      err, scale);
        free(x), free(dx), free(y), free(dy), free(dz);
        graph_free(&g);
    }
}

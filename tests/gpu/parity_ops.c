/* parity_ops.c — the GPU parity suite, op by op at fp32: the preprocessing
 * kernel; every op kind of the network backend (cuda_backend vs cpu_backend,
 * forward and backward, on one-op graphs: odd sizes, sizes of 1, batches 1,
 * 3 and 8, channel slices of wider tensors, max pools full of ties); every
 * convolution case through the direct backward-data kernel (the fallback);
 * every explanation-batch op (box and channel ablation batches, their logits,
 * channel-ablated logits, class scores, Pixab-CAM's reduction, weighted sums,
 * ReLU + min-max incl. constant maps) and the map upsampling kernel.
 * Errors: max|CUDA - CPU| relative to max|CPU| over what the op computes;
 * channels an op must not touch compared exactly; the code both backends
 * share (preprocessing, upsampling, pool backward, element selection)
 * compared exactly too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "backend.h"
#include "eltwise.cuh"
#include "map_kernels.h"
#include "cuda_backend.h"
#include "nn.cuh"
#include "nn_kernels.h"
#include "parity.h"
#include "preprocess.h"

/* A deterministic image with every byte value represented. */
static pixab_image make_image(int w, int h, unsigned seed) {
    pixab_image img = {w, h, malloc((size_t)w * h * 3)};
    for (size_t i = 0; i < (size_t)w * h * 3; i++) img.rgb[i] = (unsigned char)((i * 2654435761u + seed) >> 7);
    return img;
}

/* Preprocessing: CUDA kernel vs CPU for odd sizes, a size of 1, down- and
 * upsampling and the identity; the two run the same per-pixel code, so the
 * tolerance is 0. */
void check_preprocess(void) {
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
        parity_record(what, err, 0.0);
        free(cpu), free(gpu), free(img.rgb);
    }
}

/* ---- the network backend, one op at a time -------------------------------- */

const op_case parity_op_cases[] = {
    {"conv 1x1 relu, slice", OP_CONV, 5, 7, 1, 1, 1, 1, 0, 0, 1, 9, 11, 3, 2, 0},
    {"conv 3x3 s1 p1 relu, slice", OP_CONV, 3, 4, 3, 3, 1, 1, 1, 1, 1, 13, 10, 5, 0, 0},
    {"conv 3x3 s2 p0 relu, slice", OP_CONV, 6, 5, 3, 3, 2, 2, 0, 0, 1, 15, 9, 2, 3, 0},
    {"conv 1x7 p(0,3) relu, slice", OP_CONV, 4, 6, 1, 7, 1, 1, 0, 3, 1, 9, 12, 1, 1, 0},
    {"conv 7x1 p(3,0) relu, slice", OP_CONV, 7, 3, 7, 1, 1, 1, 3, 0, 1, 12, 9, 4, 2, 0},
    {"conv 5x5 p2 relu, whole", OP_CONV, 3, 8, 5, 5, 1, 1, 2, 2, 1, 11, 11, 0, 0, 0},
    {"conv 1x1 1->1 on 1x1, slice", OP_CONV, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0},
    {"conv 3x3 p1 relu on 1x1, whole", OP_CONV, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0},
    /* Conv2d_1a's shape: 3 input channels, the likeliest NHWC backward-data without a cuDNN algorithm */
    {"conv 3x3 s2 3->8 relu (Conv2d_1a), whole", OP_CONV, 3, 8, 3, 3, 2, 2, 0, 0, 1, 21, 19, 0, 0, 0},
    {"maxpool 3x3 s2, slice", OP_MAXPOOL, 6, 6, 3, 3, 2, 2, 0, 0, 0, 15, 13, 3, 2, 0},
    {"maxpool 3x3 s2 3x3->1x1, whole", OP_MAXPOOL, 5, 5, 3, 3, 2, 2, 0, 0, 0, 3, 3, 0, 0, 0},
    {"maxpool 3x3 s2 ties, slice", OP_MAXPOOL, 8, 8, 3, 3, 2, 2, 0, 0, 0, 17, 17, 2, 0, 1},
    {"maxpool 3x3 s1 p1 ties, whole", OP_MAXPOOL, 4, 4, 3, 3, 1, 1, 1, 1, 0, 9, 8, 0, 0, 1},
    {"avgpool 3x3 s1 p1, whole", OP_AVGPOOL, 5, 5, 3, 3, 1, 1, 1, 1, 0, 9, 7, 0, 0, 0},
    {"avgpool 3x3 s1 p1 on 1x1, slice", OP_AVGPOOL, 3, 3, 3, 3, 1, 1, 1, 1, 0, 1, 1, 1, 2, 0},
    {"gap 5x3, slice", OP_GAP, 7, 7, 1, 1, 1, 1, 0, 0, 0, 5, 3, 2, 3, 0},
    {"gap 1x1 c1, whole", OP_GAP, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0},
    {"fc 9->5, whole", OP_FC, 9, 5, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0},
    {"fc 13->1, slice", OP_FC, 13, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 2, 1, 0},
};
const int parity_n_op_cases = (int)(sizeof parity_op_cases / sizeof parity_op_cases[0]);

/* ONNX models' ops and window variants: the direct kernels (grouped,
 * dilated, asymmetric convolutions; pools cuDNN cannot run) and eltwise.cuh. */
const variant_case parity_variant_cases[] = {
    {{"conv 3x3 depthwise p1 relu, slice", OP_CONV, 6, 6, 3, 3, 1, 1, 1, 1, 1, 11, 9, 2, 1, 0}, {.group = 6}},
    {{"conv 3x3 depthwise s2 p1, whole", OP_CONV, 5, 5, 3, 3, 2, 2, 1, 1, 0, 12, 7, 0, 0, 0}, {.group = 5}},
    {{"conv 3x3 depthwise x2 on 1x1, whole", OP_CONV, 3, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, {.group = 3}},
    {{"conv 3x3 groups 2 8->6 relu, slice", OP_CONV, 8, 6, 3, 3, 1, 1, 1, 1, 1, 9, 10, 1, 2, 0}, {.group = 2}},
    {{"conv 3x3 dilation 2 p2 relu, whole", OP_CONV, 4, 5, 3, 3, 1, 1, 2, 2, 1, 11, 13, 0, 0, 0}, {.dil = 2}},
    {{"conv 3x3 s2 pads (0, 0, 1, 1), slice", OP_CONV, 3, 4, 3, 3, 2, 2, 0, 0, 1, 10, 9, 1, 0, 0},
     {.e_h = 1, .e_w = 1}},
    {{"conv 2x2 pads (1, 0, 0, 1), whole", OP_CONV, 3, 4, 2, 2, 1, 1, 1, 0, 0, 7, 8, 0, 0, 0}, {.e_h = -1, .e_w = 1}},
    {{"maxpool 3x3 s2 ceil, slice", OP_MAXPOOL, 5, 5, 3, 3, 2, 2, 0, 0, 0, 10, 8, 1, 1, 0}, {.ceil_mode = 1}},
    {{"maxpool 2x2 s2 ceil on 1x1, whole", OP_MAXPOOL, 2, 2, 2, 2, 2, 2, 0, 0, 0, 1, 1, 0, 0, 0}, {.ceil_mode = 1}},
    {{"maxpool 3x3 s2 pads (0, 0, 1, 1) ties, whole", OP_MAXPOOL, 4, 4, 3, 3, 2, 2, 0, 0, 0, 9, 10, 0, 0, 1},
     {.e_h = 1, .e_w = 1}},
    {{"avgpool 3x3 s2 p1 ceil, slice", OP_AVGPOOL, 4, 4, 3, 3, 2, 2, 1, 1, 0, 10, 9, 2, 0, 0}, {.ceil_mode = 1}},
    {{"avgpool 3x3 s2 p1 ceil exclude pad, whole", OP_AVGPOOL, 3, 3, 3, 3, 2, 2, 1, 1, 0, 10, 7, 0, 0, 0},
     {.ceil_mode = 1, .exclude_pad = 1}},
    {{"avgpool 3x3 s1 p1 exclude pad, slice", OP_AVGPOOL, 5, 5, 3, 3, 1, 1, 1, 1, 0, 6, 9, 1, 3, 0},
     {.exclude_pad = 1}},
    {{"avgpool 2x2 s2 pads (0, 0, 1, 1), whole", OP_AVGPOOL, 3, 3, 2, 2, 2, 2, 0, 0, 0, 9, 7, 0, 0, 0},
     {.e_h = 1, .e_w = 1}},
    {{"add, slice", OP_ADD, 5, 5, 1, 1, 1, 1, 0, 0, 0, 7, 6, 2, 1, 0}, {.in2 = 1}},
    {{"add relu, whole", OP_ADD, 4, 4, 1, 1, 1, 1, 0, 0, 1, 9, 9, 0, 0, 0}, {.in2 = 1}},
    {{"mul, whole", OP_MUL, 6, 6, 1, 1, 1, 1, 0, 0, 0, 5, 7, 0, 0, 0}, {.in2 = 1}},
    {{"mul per channel (SE), slice", OP_MUL, 7, 7, 1, 1, 1, 1, 0, 0, 0, 9, 8, 3, 2, 0}, {.in2 = 2}},
    {{"mul per channel on 1x1, whole", OP_MUL, 3, 3, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0}, {.in2 = 2}},
    {{"clip (0, 0.25): ReLU6 scaled, slice", OP_ACT, 6, 6, 1, 1, 1, 1, 0, 0, 0, 8, 7, 1, 1, 0},
     {.act = NN_ACT_CLIP, .act_a = 0.0f, .act_b = 0.25f}},
    {{"relu: clip (0, inf), unfused, slice", OP_ACT, 5, 5, 1, 1, 1, 1, 0, 0, 0, 7, 6, 1, 2, 0},
     {.act = NN_ACT_CLIP, .act_a = 0.0f, .act_b = INFINITY}},
    {{"clip (-0.5, 0.3), whole", OP_ACT, 5, 5, 1, 1, 1, 1, 0, 0, 0, 6, 6, 0, 0, 0},
     {.act = NN_ACT_CLIP, .act_a = -0.5f, .act_b = 0.3f}},
    {{"sigmoid, slice", OP_ACT, 4, 4, 1, 1, 1, 1, 0, 0, 0, 9, 5, 2, 0, 0}, {.act = NN_ACT_SIGMOID}},
    {{"hardsigmoid (2, 0.5), whole", OP_ACT, 5, 5, 1, 1, 1, 1, 0, 0, 0, 7, 7, 0, 0, 0},
     {.act = NN_ACT_HARDSIGMOID, .act_a = 2.0f, .act_b = 0.5f}},
    {{"hardswish, slice", OP_ACT, 6, 6, 1, 1, 1, 1, 0, 0, 0, 5, 9, 0, 2, 0}, {.act = NN_ACT_HARDSWISH}},
    {{"pad (1, 2, 0, 1), slice", OP_PAD, 3, 3, 1, 1, 1, 1, 1, 2, 0, 6, 5, 1, 1, 0}, {.e_h = -1, .e_w = -1}},
    {{"pad (0, 0, 1, 1) on 1x1, whole", OP_PAD, 2, 2, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0}, {.e_h = 1, .e_w = 1}},
};
const int parity_n_variant_cases = (int)(sizeof parity_variant_cases / sizeof parity_variant_cases[0]);

/* Forward and backward errors of one case at batch n (inf on any failure). */
static void op_errors(const graph *g, int n, int ties, double *fwd, double *bwd) {
    const tshape *ys = &g->tensors[1];
    const int lo = g->ops[0].dst_c0, hi = lo + g->ops[0].c_out;
    op_io io = {n, graph_tensor_floats(g, 0) * (size_t)n, graph_tensor_floats(g, 1) * (size_t)n,
                NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL};
    const int two = graph_op_inputs(&g->ops[0]) > 1;
    io.x2f = two ? graph_tensor_floats(g, g->ops[0].src2) * (size_t)n : 0;
    float *cy = malloc(sizeof(float) * io.yf), *gy = malloc(sizeof(float) * io.yf);
    float *cs = malloc(sizeof(float) * io.yf), *gs = malloc(sizeof(float) * io.yf);
    float *cdx = malloc(sizeof(float) * io.xf), *gdx = malloc(sizeof(float) * io.xf);
    float *grad = malloc(sizeof(float) * (io.xf > io.x2f ? io.xf : io.x2f));
    /* the second input: x2, dx2_0, the CPU's and the GPU's dx2 */
    float *in2 = two ? malloc(sizeof(float) * 4 * io.x2f) : NULL;
    if (in2) io.x2 = in2, io.dx2_0 = in2 + io.x2f, io.dx2_out = in2 + 2 * io.x2f;
    io.x = malloc(sizeof(float) * io.xf), io.dx0 = malloc(sizeof(float) * io.xf);
    io.y0 = malloc(sizeof(float) * io.yf), io.y_fwd = malloc(sizeof(float) * io.yf);
    io.dy = malloc(sizeof(float) * io.yf);
    *fwd = *bwd = INFINITY;
    if (!cy || !gy || !cs || !gs || !cdx || !gdx || !grad || !io.x || !io.dx0 || !io.y0 || !io.y_fwd || !io.dy ||
        (two && !in2)) {
        fprintf(stderr, "gpu_parity: %s: out of memory\n", g->ops[0].name);
        goto done;
    }
    parity_fill(io.x, io.xf), parity_fill(io.y0, io.yf), parity_fill(io.dy, io.yf), parity_fill(io.dx0, io.xf);
    if (two) parity_fill(io.x2, io.x2f), parity_fill(io.dx2_0, io.x2f);
    if (ties) /* ~90% zeros, as after a ReLU: many 3x3 windows hold only equal maxima */
        for (size_t i = 0; i < io.xf; i++) io.x[i] = io.x[i] > 0.8f ? io.x[i] : 0.0f;
    if (parity_cpu_reference(g, &io, cy, cdx)) goto fail;
    float *cdx2 = io.dx2_out;
    io.dx2_out = in2 ? in2 + 3 * io.x2f : NULL;
    if (parity_run_op(parity_gpu, parity_gpu_index, PIXAB_PRECISION_FP32, g, &io, gy, gdx)) goto fail;
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
    *fwd = untouched ? INFINITY : parity_rel_err(gs, cs, cs, m);
    /* Backward: dx (= dx0 + gradient), relative to the gradient added. */
    for (size_t i = 0; i < io.xf; i++) grad[i] = cdx[i] - io.dx0[i];
    *bwd = parity_rel_err(gdx, cdx, grad, io.xf);
    if (two) { /* and dx2 likewise: the worse of the two */
        for (size_t i = 0; i < io.x2f; i++) grad[i] = cdx2[i] - io.dx2_0[i];
        const double e2 = parity_rel_err(io.dx2_out, cdx2, grad, io.x2f);
        *bwd = e2 > *bwd || e2 != e2 ? e2 : *bwd;
    }
    goto done;
fail:
    fprintf(stderr, "gpu_parity: %s, n=%d: %s\n", g->ops[0].name, n, pixab_last_error());
done:
    free(cy), free(gy), free(cs), free(gs), free(cdx), free(gdx), free(grad);
    free(io.x), free(io.dx0), free(io.y0), free(io.y_fwd), free(io.dy), free(in2);
}

static void check_op(const op_case *t, const op_variant *v, int n, unsigned long long seed) {
    graph g;
    double fwd = INFINITY, bwd = INFINITY;
    parity_seed(seed);
    if (parity_build_graph(&g, t, v))
        fprintf(stderr, "gpu_parity: %s: out of memory\n", t->name);
    else
        op_errors(&g, n, t->ties, &fwd, &bwd);
    /* Exact: a max pool's forward (a max is a max) and every pool's backward
     * (both backends run nn_pool_backward_at, summing in the same order). */
    const int pool = t->kind == OP_MAXPOOL || t->kind == OP_AVGPOOL;
    parity_recordf(fwd, t->kind == OP_MAXPOOL ? 0.0 : TOL_OP, "%s, n=%d", t->name, n);
    parity_recordf(bwd, pool ? 0.0 : TOL_OP, "%s, n=%d, bwd", t->name, n);
    graph_free(&g);
}

void check_ops(void) {
    static const int batches[] = {1, 3, 8};
    for (int i = 0; i < parity_n_op_cases; i++)
        for (int b = 0; b < 3; b++)
            check_op(&parity_op_cases[i], NULL, batches[b], 1000 * (unsigned)i + (unsigned)b + 1);
    for (int i = 0; i < parity_n_variant_cases; i++)
        for (int b = 0; b < 3; b++)
            check_op(&parity_variant_cases[i].c, &parity_variant_cases[i].v, batches[b],
                     5000 + 1000 * (unsigned)i + (unsigned)b + 1);
}

/* The direct convolution backward-data kernel (the fallback where cuDNN has
 * no algorithm, so the backend may never pick it on a given GPU) against the
 * CPU backend's GEMM backward: every conv case, 3 images, no ReLU (dz = dy's
 * slice), dx0 + gradient relative to the gradient. */
static double direct_conv_backward_err(graph *g) {
    graph_op *o = &g->ops[0];
    o->relu = 0;
    const int n = 3;
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    op_io io = {n, graph_tensor_floats(g, 0) * (size_t)n, graph_tensor_floats(g, 1) * (size_t)n,
                NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL};
    const size_t X = io.xf, Y = io.yf, rows = (size_t)n * ys->h * ys->w, nz = rows * (size_t)o->c_out;
    const size_t nw = graph_op_weights(o);
    /* x, dx0, cpu dx, gpu dx | y0, y_fwd, dy, cpu y | dz (the packed slice of dy) */
    float *buf = calloc(4 * X + 4 * Y + nz, sizeof(float)), *dx = NULL, *dz = NULL, *w = NULL;
    double err = INFINITY;
    if (!buf) return err;
    io.x = buf, io.dx0 = buf + X;
    float *cdx = buf + 2 * X, *gdx = buf + 3 * X;
    io.y0 = buf + 4 * X, io.y_fwd = io.y0 + Y, io.dy = io.y_fwd + Y;
    float *cy = io.dy + Y, *z = cy + Y;
    parity_fill(io.x, X), parity_fill(io.y0, Y), parity_fill(io.dy, Y), parity_fill(io.dx0, X);
    for (size_t r = 0; r < rows; r++) memcpy(z + r * o->c_out, io.dy + r * ys->c + o->dst_c0, sizeof(float) * o->c_out);
    if (parity_cpu_reference(g, &io, cy, cdx)) {
        fprintf(stderr, "gpu_parity: direct backward-data %s: %s\n", o->name, pixab_last_error());
        goto done;
    }
    if (cudaMalloc((void **)&dx, sizeof(float) * X) || cudaMalloc((void **)&dz, sizeof(float) * nz) ||
        cudaMalloc((void **)&w, sizeof(float) * nw) ||
        cudaMemcpy(dx, io.dx0, sizeof(float) * X, cudaMemcpyHostToDevice) ||
        cudaMemcpy(dz, z, sizeof(float) * nz, cudaMemcpyHostToDevice) ||
        cudaMemcpy(w, g->params + o->w_off, sizeof(float) * nw, cudaMemcpyHostToDevice) ||
        nn_conv_backward_data_cuda(dx, xs->c, dz, w, n, xs->h, xs->w, o->c_in, ys->h, ys->w, o->c_out, o->group,
                                   (nn_window){o->k_h, o->k_w, o->s_h, o->s_w, o->p_h, o->p_w, o->e_h, o->e_w, o->d_h,
                                               o->d_w, o->exclude_pad},
                                   NULL) ||
        cudaMemcpy(gdx, dx, sizeof(float) * X, cudaMemcpyDeviceToHost)) {
        fprintf(stderr, "gpu_parity: direct backward-data %s: %s\n", o->name,
                pixab_last_error()[0] ? pixab_last_error() : cudaGetErrorString(cudaGetLastError()));
        goto done;
    }
    /* relative to the gradient added (cdx - dx0), as the op rows' backward */
    for (size_t i = 0; i < X; i++) io.x[i] = cdx[i] - io.dx0[i];
    err = parity_rel_err(gdx, cdx, io.x, X);
done:
    (void)cudaFree(dx), (void)cudaFree(dz), (void)cudaFree(w);
    free(buf);
    return err;
}

void check_direct_conv_backward(void) {
    for (int i = 0; i < parity_n_op_cases + parity_n_variant_cases; i++) {
        const int plain = i < parity_n_op_cases;
        const op_case *t = plain ? &parity_op_cases[i] : &parity_variant_cases[i - parity_n_op_cases].c;
        if (t->kind != OP_CONV) continue;
        graph g;
        double err = INFINITY;
        parity_seed(3000 + (unsigned)i);
        if (!parity_build_graph(&g, t, plain ? NULL : &parity_variant_cases[i - parity_n_op_cases].v))
            err = direct_conv_backward_err(&g);
        parity_recordf(err, TOL_OP, "direct conv backward-data kernel: %s, n=3", t->name);
        graph_free(&g);
    }
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

/* ---- guided backpropagation's ReLU backward (BOP_GUIDED_RELU) ---------------- */

/* dy (n images of op 0's dst) after BOP_GUIDED_RELU on backend be, given y. */
static pixab_status run_guided_relu(const backend_ops *be, int device, const graph *g, int n, const float *y,
                                    float *dy, size_t yf) {
    void *ctx = NULL;
    float *dyd = NULL, *yd = NULL;
    pixab_status s = be->create(g, n, device, &ctx);
    if (s) return s;
    if (!(dyd = dev_put(be, ctx, dy, yf)) || !(yd = dev_put(be, ctx, y, yf))) s = PIXAB_ERR_NOMEM;
    const backend_op op = {.kind = BOP_GUIDED_RELU, .dst = dyd, .src = yd, .index = 0, .count = n};
    if (!s && !be->supports_op(ctx, op.kind)) s = pixab_fail(PIXAB_ERR_UNSUPPORTED, "guided ReLU: not supported");
    if (!s) s = be->run(ctx, g, &op);
    if (!s) s = be->download(ctx, dy, dyd, yf * sizeof(float));
    if (dyd) be->free(ctx, dyd);
    if (yd) be->free(ctx, yd);
    be->destroy(ctx);
    return s;
}

/* Every case ending in a ReLU (graph_op_is_relu: a fused one, or a
 * standalone Relu) at n = 1 and 3: the masked gradient exactly the CPU's (a
 * selection), the channels outside the op's slice untouched. */
void check_guided_relu(void) {
    for (int i = 0; i < parity_n_op_cases + parity_n_variant_cases; i++) {
        const int plain = i < parity_n_op_cases;
        const op_case *t = plain ? &parity_op_cases[i] : &parity_variant_cases[i - parity_n_op_cases].c;
        const op_variant *v = plain ? NULL : &parity_variant_cases[i - parity_n_op_cases].v;
        for (int n = 1; n <= 3; n += 2) {
            graph g;
            double err = INFINITY;
            parity_seed(9000 + 10 * (unsigned)i + (unsigned)n);
            if (parity_build_graph(&g, t, v)) continue;
            if (!graph_op_is_relu(&g.ops[0])) {
                graph_free(&g);
                break;
            }
            const size_t yf = graph_tensor_floats(&g, 1) * (size_t)n;
            float *y = malloc(sizeof(float) * yf), *dc = malloc(sizeof(float) * yf), *dg = malloc(sizeof(float) * yf);
            if (y && dc && dg) {
                parity_fill(y, yf), parity_fill(dc, yf);
                for (size_t k = 0; k < yf; k++) y[k] = y[k] > 0.0f ? y[k] : 0.0f; /* a ReLU's output */
                memcpy(dg, dc, sizeof(float) * yf);
                if (run_guided_relu(&cpu_backend, -1, &g, n, y, dc, yf) ||
                    run_guided_relu(parity_gpu, parity_gpu_index, &g, n, y, dg, yf))
                    fprintf(stderr, "gpu_parity: guided relu %s: %s\n", t->name, pixab_last_error());
                else
                    err = parity_max_abs(dg, dc, yf);
            }
            parity_recordf(err, 0.0, "guided relu backward: %s, n=%d", t->name, n);
            free(y), free(dc), free(dg);
            graph_free(&g);
        }
    }
}

typedef enum { X_BOXES, X_BOX_LOGITS, X_CHANNELS, X_CHANNEL_LOGITS, X_MASK_RANGES, X_MASKED_INPUTS, X_SCORES_SOFTMAX,
               X_SCORES_LOGIT, X_REDUCE, X_WSUM, X_NORMALIZE, X_NORMALIZE_CONST, X_COUNT } xop_kind;
static const char *const xop_names[X_COUNT] = {"gen boxes", "gen box logits", "gen channels", "gen channel logits",
                                               "mask ranges", "gen masked inputs", "class_scores softmax",
                                               "class_scores logit", "pixab_reduce", "weighted_sum", "normalize",
                                               "normalize constant"};

/* Score-CAM's input side for a case: S x S, masks of every channel. */
static int xop_size(const xop_case *t) { return 2 * t->H + 3; }

/* Run explanation op `x` of case t on backend be (its ctx made for the FC graph g); out (n_out floats). */
static pixab_status run_xop(const backend_ops *be, int device, const graph *g, const xop_case *t, xop_kind x,
                            const float *a, const float *v, size_t n_v, float *out, size_t n_out) {
    void *ctx = NULL;
    float *da = NULL, *dv = NULL, *dout = NULL, *dranges = NULL;
    int *dchannels = NULL, *channels = malloc(sizeof(int) * (size_t)t->K);
    const int HW = t->H * t->W, K = t->K;
    pixab_status s = channels ? be->create(g, 1, device, &ctx) : PIXAB_ERR_NOMEM;
    if (s) {
        free(channels);
        return s;
    }
    for (int k = 0; k < K; k++) channels[k] = K - 1 - k;
    if (!(da = dev_put(be, ctx, a, (size_t)HW * K)) || !(dv = dev_put(be, ctx, v, n_v ? n_v : 1)) ||
        !(dout = dev_put(be, ctx, NULL, n_out)) ||
        !(dranges = dev_put(be, ctx, NULL, 2 * (size_t)K)) ||
        !(dchannels = (int *)dev_put(be, ctx, (const float *)channels, (size_t)K))) { /* ints: copied as bytes */
        s = PIXAB_ERR_NOMEM;
        goto done;
    }
    backend_op op = {.dst = dout, .src = dv, .a = da, .first = t->first, .count = t->count, .H = t->H, .W = t->W,
                     .K = K, .n_boxes = t->n_boxes, .box_h = t->box_h, .box_w = t->box_w, .classes = t->classes,
                     .cls = t->cls, .size = xop_size(t)};
    const backend_op ranges = {.kind = BOP_MASK_RANGES, .dst = dranges, .a = da, .H = t->H, .W = t->W, .K = K,
                               .size = xop_size(t)};
    switch (x) {
    case X_BOXES: op.kind = BOP_GEN_BOXES; break;
    case X_BOX_LOGITS: op.kind = BOP_GEN_BOX_LOGITS, op.index = 0, op.pixel_logits = dv + t->classes; break;
    case X_CHANNELS: op.kind = BOP_GEN_CHANNELS, op.first %= K + 1, op.count %= K + 1; break;
    case X_CHANNEL_LOGITS: op.kind = BOP_GEN_CHANNEL_LOGITS, op.index = 0, op.first = 0, op.count = K + 1; break;
    case X_MASK_RANGES: op = ranges; op.dst = dout; break;
    case X_MASKED_INPUTS:
        op.kind = BOP_GEN_MASKED_INPUTS, op.first = 0, op.count = K + 1, op.ranges = dranges, op.channels = dchannels;
        s = be->run(ctx, g, &ranges);
        break;
    case X_SCORES_SOFTMAX:
    case X_SCORES_LOGIT:
        op.kind = BOP_CLASS_SCORES, op.count = (int)(n_v / (size_t)t->classes), op.softmax = x == X_SCORES_SOFTMAX;
        break;
    case X_REDUCE: op.kind = BOP_PIXAB_REDUCE; break;
    case X_WSUM: op.kind = BOP_WEIGHTED_SUM; break;
    case X_NORMALIZE:
    case X_NORMALIZE_CONST:
        op.kind = BOP_NORMALIZE, op.count = (int)n_out;
        s = be->copy(ctx, dout, dv, n_out * sizeof(float));
        break;
    default: s = PIXAB_ERR_ARG;
    }
    if (!s && !be->supports_op(ctx, op.kind)) s = pixab_fail(PIXAB_ERR_UNSUPPORTED, "%s: not supported", xop_names[x]);
    if (!s) s = be->run(ctx, g, &op);
    if (!s) s = be->download(ctx, out, dout, n_out * sizeof(float));
done:
    float *bufs[] = {da, dv, dout, dranges, (float *)dchannels};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) be->free(ctx, bufs[i]);
    be->destroy(ctx);
    free(channels);
    return s;
}

/* Each explanation op on each case: CUDA vs CPU, max|d| relative to max|CPU|. */
void check_xops(void) {
    for (size_t ci = 0; ci < sizeof xop_cases / sizeof xop_cases[0]; ci++) {
        xop_case t = xop_cases[ci];
        const int HW = t.H * t.W, K = t.K, batch = 2 + 2 * t.n_boxes * HW;
        t.count = batch - t.first < 37 ? batch - t.first : 37;
        /* An FC graph K -> classes: its weights serve the logits generators. */
        op_case fc = {"fc", OP_FC, K, t.classes, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0};
        graph g;
        parity_seed(7000 + ci);
        if (parity_build_graph(&g, &fc, NULL)) continue;
        const size_t image = (size_t)xop_size(&t) * xop_size(&t) * 3;
        size_t n_a = (size_t)HW * K, n_v = (size_t)(batch > K + 1 ? batch : K + 1) * t.classes + 1 + image;
        float *a = malloc(sizeof(float) * n_a), *v = malloc(sizeof(float) * n_v);
        size_t n_out_max = (size_t)t.count * HW * K + (size_t)(K + 1) * (t.classes + image) + (size_t)batch + 16;
        float *oc = malloc(sizeof(float) * n_out_max), *og = malloc(sizeof(float) * n_out_max);
        if (!a || !v || !oc || !og) goto next;
        parity_fill(a, n_a);
        for (size_t i = 0; i < n_a; i++) a[i] = a[i] > 0.0f ? a[i] : 0.0f; /* post-ReLU activations */
        for (int x = 0; x < X_COUNT; x++) {
            size_t n_out = 0, nv = 0;
            parity_fill(v, n_v);
            switch ((xop_kind)x) {
            case X_BOXES: n_out = (size_t)t.count * HW * K; break;
            case X_BOX_LOGITS: /* v: the logits of a (classes), then its pixel logits (HW, classes) */
                nv = (size_t)(1 + HW) * t.classes, n_out = (size_t)t.count * t.classes;
                break;
            case X_CHANNELS: n_out = (size_t)(t.count % (K + 1)) * HW * K; break;
            case X_CHANNEL_LOGITS: n_out = (size_t)(K + 1) * t.classes, nv = (size_t)t.classes; break;
            case X_MASK_RANGES: n_out = 2 * (size_t)K; break;
            case X_MASKED_INPUTS: /* v: the input image (S, S, 3) */
                nv = (size_t)xop_size(&t) * xop_size(&t) * 3, n_out = (size_t)(K + 1) * nv;
                break;
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
                run_xop(parity_gpu, parity_gpu_index, &g, &t, (xop_kind)x, a, v, nv, og, n_out))
                fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
            else
                err = parity_rel_err(og, oc, oc, n_out);
            /* Element selection, copies and the masks (no FMA: score_mask.cuh) are exact; sums and
             * softmax differ in rounding only. */
            parity_record(what, err,
                          x == X_BOXES || x == X_CHANNELS || x == X_NORMALIZE_CONST || x == X_MASK_RANGES ||
                                  x == X_MASKED_INPUTS
                              ? 0.0
                              : TOL_OP);
        }
    next:
        free(a), free(v), free(oc), free(og);
        graph_free(&g);
    }
}

/* out (oh, ow) on the host = map_upsample_cuda of map (h, w) from the host. */
static pixab_status map_upsample_cuda_roundtrip(float *out, const float *map, int h, int w, int oh, int ow) {
    float *dmap = NULL, *dout = NULL;
    const size_t in = sizeof(float) * (size_t)h * w, bytes = sizeof(float) * (size_t)oh * ow;
    pixab_status s = PIXAB_ERR_DEVICE;
    if (cudaMalloc((void **)&dmap, in) == cudaSuccess && cudaMalloc((void **)&dout, bytes) == cudaSuccess &&
        cudaMemcpy(dmap, map, in, cudaMemcpyHostToDevice) == cudaSuccess &&
        !(s = map_upsample_cuda(dout, dmap, h, w, oh, ow, NULL)) &&
        cudaMemcpy(out, dout, bytes, cudaMemcpyDeviceToHost) != cudaSuccess)
        s = PIXAB_ERR_DEVICE;
    (void)cudaFree(dmap), (void)cudaFree(dout);
    return s;
}

/* The map upsampling kernel against pixab_map_upsample (the same taps: exact). */
void check_upsample(void) {
    static const int cases[][4] = {{8, 8, 299, 299}, {17, 17, 299, 299}, {1, 1, 5, 7}, {5, 3, 5, 3}, {8, 8, 480, 640}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int h = cases[i][0], w = cases[i][1], oh = cases[i][2], ow = cases[i][3];
        size_t n = (size_t)oh * ow;
        float *map = malloc(sizeof(float) * (size_t)h * w), *cpu = malloc(sizeof(float) * n);
        float *gpu = malloc(sizeof(float) * n);
        char what[96];
        double err = INFINITY;
        snprintf(what, sizeof what, "map upsample %dx%d -> %dx%d", h, w, oh, ow);
        parity_seed(9000 + i);
        if (!map || !cpu || !gpu) goto next;
        parity_fill(map, (size_t)h * w);
        if (pixab_map_upsample(map, h, w, oh, ow, cpu) || map_upsample_cuda_roundtrip(gpu, map, h, w, oh, ow)) {
            fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
        } else {
            err = 0.0;
            for (size_t k = 0; k < n; k++) {
                double d = fabs((double)cpu[k] - gpu[k]);
                if (!(d <= err)) err = d;
            }
        }
    next:
        parity_record(what, err, 0.0);
        free(map), free(cpu), free(gpu);
    }
}


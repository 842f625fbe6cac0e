/* cpu_eltwise.c — the CPU backend's elementwise ops of ONNX models: residual
 * Add (+ ReLU), Mul (same shape, or squeeze-excitation's per-channel scale),
 * the activations (Clip, Sigmoid, HardSigmoid, HardSwish) and zero padding,
 * forward and backward, each element through kernels/element/eltwise.cuh
 * (the CUDA kernels' very code). OpenMP over pixels. */
#include "cpu_eltwise.h"

#include <string.h>

#include "eltwise.cuh"
#include "nn.cuh"

/* Whether OP_MUL's second input is one pixel per image (a per-channel scale). */
static int per_channel(const graph *g, const graph_op *o) {
    const tshape *b = &g->tensors[o->src2], *a = &g->tensors[o->src];
    return o->kind == OP_MUL && b->h * b->w == 1 && a->h * a->w != 1;
}

void cpu_eltwise_forward(const graph *g, const graph_op *o, int n, const float *x, const float *x2, float *y) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const size_t rows = (size_t)n * ys->h * ys->w, hw = (size_t)xs->h * xs->w;
    const int C = o->c_out, ldx = xs->c, ldy = ys->c;
    if (o->kind == OP_PAD) {
        const size_t ohw = (size_t)ys->h * ys->w;
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < rows; r++) {
            const size_t img = r / ohw, p = r % ohw;
            const long q = nn_pad_source((int)(p / (size_t)ys->w), (int)(p % (size_t)ys->w), xs->h, xs->w, o->p_h,
                                         o->p_w);
            float *dst = y + r * ldy + o->dst_c0;
            if (q < 0) memset(dst, 0, sizeof(float) * (size_t)C);
            else memcpy(dst, x + (img * hw + (size_t)q) * ldx, sizeof(float) * (size_t)C);
        }
        return;
    }
    const int pc = per_channel(g, o), ldb = o->kind == OP_ACT ? 0 : g->tensors[o->src2].c, relu = o->relu;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float *a = x + r * ldx;
        float *dst = y + r * ldy + o->dst_c0;
        if (o->kind == OP_ACT && o->act == NN_ACT_CLIP) { /* ReLU6: the constant act lets it vectorise */
#pragma omp simd
            for (int k = 0; k < C; k++) dst[k] = nn_act(a[k], NN_ACT_CLIP, o->act_a, o->act_b);
            continue;
        }
        if (o->kind == OP_ACT) {
            for (int k = 0; k < C; k++) dst[k] = nn_act(a[k], o->act, o->act_a, o->act_b);
            continue;
        }
        /* the row of x2 (its element k is nn_b_index(r, k, ...)), vectorised across channels */
        const float *b = x2 + nn_b_index(r, 0, ldb, hw, o->kind == OP_ADD ? 0 : pc);
        if (o->kind == OP_ADD) {
#pragma omp simd
            for (int k = 0; k < C; k++) dst[k] = nn_bias_act(a[k], b[k], relu);
        } else {
#pragma omp simd
            for (int k = 0; k < C; k++) dst[k] = a[k] * b[k];
        }
    }
}

void cpu_eltwise_backward(const graph *g, const graph_op *o, int n, const float *x, const float *x2, const float *y,
                          float *dx, float *dx2, float *dy) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const size_t rows = (size_t)n * ys->h * ys->w, hw = (size_t)xs->h * xs->w;
    const int C = o->c_out, ldx = xs->c, ldy = ys->c;
    if (o->kind == OP_PAD) { /* dx = dy's crop: a gather per input pixel */
        const size_t in_rows = (size_t)n * hw;
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < in_rows; r++) {
            const size_t img = r / hw, p = r % hw;
            const size_t oy = p / (size_t)xs->w + (size_t)o->p_h, ox = p % (size_t)xs->w + (size_t)o->p_w;
            const float *d = dy + ((img * ys->h + oy) * ys->w + ox) * ldy + o->dst_c0;
            for (int k = 0; k < C; k++) dx[r * ldx + k] += d[k];
        }
        return;
    }
    float *d = dy + o->dst_c0;
    if (o->kind == OP_ACT) {
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < rows; r++)
            for (int k = 0; k < C; k++)
                dx[r * ldx + k] += nn_act_backward(d[r * ldy + k], x[r * ldx + k], o->act, o->act_a, o->act_b);
        return;
    }
    const int ldb = g->tensors[o->src2].c;
    if (o->kind == OP_ADD) { /* dz = dy masked by the ReLU; both inputs get it (one after the other: x may be x2) */
        if (o->relu)
#pragma omp parallel for schedule(static)
            for (size_t r = 0; r < rows; r++)
                for (int k = 0; k < C; k++) d[r * ldy + k] = nn_relu_mask(d[r * ldy + k], y[r * ldy + o->dst_c0 + k]);
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < rows; r++)
            for (int k = 0; k < C; k++) dx[r * ldx + k] += d[r * ldy + k];
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < rows; r++)
            for (int k = 0; k < C; k++) dx2[r * ldb + k] += d[r * ldy + k];
        return;
    }
    /* OP_MUL: da = dy b; db = dy a, summed over the image's pixels when b is per channel */
    const int pc = per_channel(g, o);
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < C; k++) dx[r * ldx + k] += d[r * ldy + k] * x2[nn_b_index(r, k, ldb, hw, pc)];
    if (!pc) {
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < rows; r++)
            for (int k = 0; k < C; k++) dx2[r * ldb + k] += d[r * ldy + k] * x[r * ldx + k];
        return;
    }
#pragma omp parallel for schedule(static)
    for (int img = 0; img < n; img++)
        for (int k = 0; k < C; k++) dx2[(size_t)img * ldb + k] += nn_mul_scale_grad(d + (size_t)img * hw * ldy, ldy,
                                                                                      x + (size_t)img * hw * ldx, ldx,
                                                                                      hw, k);
}

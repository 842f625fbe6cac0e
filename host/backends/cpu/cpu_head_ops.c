/* cpu_head_ops.c — the CPU backend's generator and reduction ops (backend.h):
 * the box and channel ablation batches written straight into the head's
 * input, their logits through a linear (GAP + FC) head (the fast paths),
 * Score-CAM's masked inputs and mask ranges, preprocessing of 8-bit images,
 * class scores, Pixab-CAM's reduction, the weighted channel sum, ReLU +
 * min-max and guided backpropagation's ReLU backward. The per-element
 * logic is kernels/element/ablate.cuh, score_mask.cuh, map.cuh and nn.cuh, which the
 * CUDA kernels run too; here whole pixel rows are copied or cleared at once
 * where the element rule allows. */
#include "cpu_head_ops.h"

#include <math.h>
#include <string.h>

#include "ablate.cuh"
#include "error.h"
#include "map.cuh"
#include "nn.cuh"
#include "score_mask.cuh"

static ablate_box_set box_set(const backend_op *op) {
    ablate_box_set b;
    memset(&b, 0, sizeof b);
    b.n = op->n_boxes;
    for (int i = 0; i < op->n_boxes && i < PIXAB_MAX_BOXES; i++) b.h[i] = op->box_h[i], b.w[i] = op->box_w[i];
    return b;
}

static pixab_status check_boxes(int n_boxes) {
    if (n_boxes < 1 || n_boxes > PIXAB_MAX_BOXES)
        return pixab_fail(PIXAB_ERR_ARG, "%d boxes (1 to %d)", n_boxes, PIXAB_MAX_BOXES);
    return PIXAB_OK;
}

static void gen_boxes(const backend_op *op) {
    const int H = op->H, W = op->W, K = op->K;
    const size_t plane = (size_t)H * W * K;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < op->count; n++) {
        int box = 0, i = 0, j = 0, r0 = 0, r1 = 0, c0 = 0, c1 = 0;
        int kind = ablate_decode(op->first + n, H, W, &box, &i, &j);
        if (kind >= ABLATE_DELETE) ablate_region(op->box_h[box], op->box_w[box], i, j, H, W, &r0, &r1, &c0, &c1);
        float *t = op->dst + (size_t)n * plane;
        /* ablate_box_element for a whole pixel: the rule does not depend on k. */
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                size_t at = ((size_t)y * W + x) * K;
                if (kind != ABLATE_ZERO && ablate_keeps(kind, y, x, r0, r1, c0, c1))
                    memcpy(t + at, op->a + at, sizeof(float) * (size_t)K);
                else
                    memset(t + at, 0, sizeof(float) * (size_t)K);
            }
    }
}

/* The FC op `index` of g over K channels, or an error. */
static pixab_status fc_op(const graph *g, const backend_op *op, const graph_op **o) {
    *o = &g->ops[op->index];
    if ((*o)->kind != OP_FC || (*o)->c_in != op->K)
        return pixab_fail(PIXAB_ERR_ARG, "op %d is not an FC layer over %d channels", op->index, op->K);
    return PIXAB_OK;
}

static pixab_status gen_box_logits(const graph *g, const backend_op *op) {
    const graph_op *o;
    pixab_status s = fc_op(g, op, &o);
    if (s || (s = check_boxes(op->n_boxes))) return s;
    const ablate_box_set b = box_set(op);
    const float *bias = g->params + o->b_off;
    const int classes = o->c_out;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < op->count; n++)
        for (int j = 0; j < classes; j++)
            op->dst[(size_t)n * classes + j] = ablate_box_logit(op->pixel_logits, &b, op->first + n, op->H, op->W,
                                                                classes, j, op->src[j], bias[j]);
    return PIXAB_OK;
}

static void gen_channels(const backend_op *op) {
    const int HW = op->H * op->W, K = op->K;
    const size_t plane = (size_t)HW * K;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < op->count; n++) {
        float *t = op->dst + (size_t)n * plane;
        memcpy(t, op->a, sizeof(float) * plane);
        int k = op->first + n - 1; /* ablate_channel_element: only channel k differs from a */
        if (k >= 0)
            for (int p = 0; p < HW; p++) t[(size_t)p * K + k] = 0.0f;
    }
}

static pixab_status gen_channel_logits(const graph *g, const backend_op *op) {
    const graph_op *o;
    const int HW = op->H * op->W, K = op->K;
    pixab_status s = fc_op(g, op, &o);
    if (s) return s;
    const float *Wt = g->params + o->w_off; /* (classes, K) */
    const int classes = o->c_out;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < op->count; n++) {
        float *row = op->dst + (size_t)n * classes;
        const int k = op->first + n - 1;
        if (k < 0) {
            memcpy(row, op->src, sizeof(float) * (size_t)classes);
            continue;
        }
        double pooled = ablate_channel_mean(op->a, HW, K, k);
        for (int j = 0; j < classes; j++) row[j] = ablate_channel_logit(op->src[j], Wt[(size_t)j * K + k], pooled);
    }
    return PIXAB_OK;
}

static void gen_masked_inputs(const backend_op *op) {
    const int S = op->size;
    const size_t plane = (size_t)S * S * 3;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < op->count; n++) {
        float *t = op->dst + (size_t)n * plane;
        const int item = op->first + n;
        if (item == 0) { /* the baseline: the zero input */
            memset(t, 0, sizeof(float) * plane);
            continue;
        }
        const int k = op->channels[item - 1];
        const float lo = op->ranges[2 * k], hi = op->ranges[2 * k + 1];
        for (int oy = 0; oy < S; oy++) {
            bilinear_tap ty = bilinear_axis(oy, op->H, S);
            for (int ox = 0; ox < S; ox++) {
                size_t p = (size_t)oy * S + ox;
                float m = score_mask_scale(score_mask_sample(op->a, op->W, op->K, k, ty, bilinear_axis(ox, op->W, S)),
                                           lo, hi);
                for (int ch = 0; ch < 3; ch++) t[p * 3 + ch] = op->src[p * 3 + ch] * m;
            }
        }
    }
}

static void mask_ranges(const backend_op *op) {
    const int S = op->size;
#pragma omp parallel for schedule(static)
    for (int k = 0; k < op->K; k++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int oy = 0; oy < S; oy++) {
            bilinear_tap ty = bilinear_axis(oy, op->H, S);
            for (int ox = 0; ox < S; ox++) {
                float v = score_mask_sample(op->a, op->W, op->K, k, ty, bilinear_axis(ox, op->W, S));
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
        op->dst[2 * k] = lo;
        op->dst[2 * k + 1] = hi;
    }
}

static pixab_status class_scores(const backend_op *op) {
    if (op->cls < 0 || op->cls >= op->classes) return pixab_fail(PIXAB_ERR_ARG, "class %d of %d", op->cls, op->classes);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < op->count; i++)
        op->dst[i] = map_class_score(op->src + (size_t)i * op->classes, op->classes, op->cls, op->softmax);
    return PIXAB_OK;
}

/* BOP_GUIDED_RELU: the op's channel slice of dy (count, h, w, c) masked in place. */
static pixab_status guided_relu(const graph *g, const backend_op *op) {
    if (op->index < 0 || op->index >= g->n_ops || !graph_op_is_relu(&g->ops[op->index]))
        return pixab_fail(PIXAB_ERR_ARG, "op %d has no ReLU to guide", op->index);
    const graph_op *o = &g->ops[op->index];
    const tshape *ys = &g->tensors[o->dst];
    const size_t rows = (size_t)op->count * ys->h * ys->w;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < o->c_out; k++) {
            const size_t i = r * ys->c + o->dst_c0 + k;
            op->dst[i] = nn_guided_relu_mask(op->dst[i], op->src[i]);
        }
    return PIXAB_OK;
}

pixab_status cpu_run_head_op(const graph *g, const backend_op *op) {
    const int HW = op->H * op->W;
    pixab_status s = PIXAB_OK;
    switch (op->kind) {
    case BOP_GEN_BOXES:
        if (!(s = check_boxes(op->n_boxes))) gen_boxes(op);
        return s;
    case BOP_GEN_BOX_LOGITS: return gen_box_logits(g, op);
    case BOP_GEN_CHANNELS: gen_channels(op); return PIXAB_OK;
    case BOP_GEN_CHANNEL_LOGITS: return gen_channel_logits(g, op);
    case BOP_GEN_MASKED_INPUTS: gen_masked_inputs(op); return PIXAB_OK;
    case BOP_PREPROCESS: { /* host memory: the host path itself */
        const pixab_image img = {op->W, op->H, (unsigned char *)op->rgb};
        return pixab_image_preprocess(&img, op->pre, op->dst);
    }
    case BOP_MASK_RANGES: mask_ranges(op); return PIXAB_OK;
    case BOP_CLASS_SCORES: return class_scores(op);
    case BOP_PIXAB_REDUCE:
        if ((s = check_boxes(op->n_boxes))) return s;
        for (int p = 0; p < HW; p++) op->dst[p] = ablate_pixab_reduce(op->src, op->n_boxes, HW, p);
        return PIXAB_OK;
    case BOP_WEIGHTED_SUM:
        for (int p = 0; p < HW; p++) op->dst[p] = map_pixel_sum(op->a + (size_t)p * op->K, op->src, op->K);
        return PIXAB_OK;
    case BOP_NORMALIZE: map_normalize(op->dst, op->count); return PIXAB_OK;
    case BOP_GUIDED_RELU: return guided_relu(g, op);
    default: return pixab_fail(PIXAB_ERR_ARG, "op kind %d is not a head op", (int)op->kind);
    }
}

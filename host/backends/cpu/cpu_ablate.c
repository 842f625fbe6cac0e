/* cpu_ablate.c — the CPU backend's explanation-batch ops (backend.h): the box
 * and channel ablation batches written straight into the head's input, the
 * pooled fast path, channel-ablated logits of a linear head, class scores,
 * Pixab-CAM's reduction, the weighted channel sum and ReLU + min-max. The
 * per-element logic is kernels/element/ablate.cuh and cam.cuh, which the
 * CUDA kernels (kernels/ablate.cu, kernels/cam_kernels.cu) run too; here whole
 * pixel rows are copied or cleared at once where the element rule allows. */
#include "cpu_ablate.h"

#include <string.h>

#include "ablate.cuh"
#include "cam.cuh"
#include "error.h"

static ablate_box_set box_set(int n_boxes, const int *box_h, const int *box_w) {
    ablate_box_set b;
    memset(&b, 0, sizeof b);
    b.n = n_boxes;
    for (int i = 0; i < n_boxes && i < PIXAB_MAX_BOXES; i++) b.h[i] = box_h[i], b.w[i] = box_w[i];
    return b;
}

static pixab_status check_boxes(int n_boxes) {
    if (n_boxes < 1 || n_boxes > PIXAB_MAX_BOXES)
        return pixab_fail(PIXAB_ERR_ARG, "%d boxes (1 to %d)", n_boxes, PIXAB_MAX_BOXES);
    return PIXAB_OK;
}

pixab_status cpu_ablate_boxes(void *ctx, float *dst, const float *a, int H, int W, int K, int n_boxes,
                              const int *box_h, const int *box_w, int first, int count) {
    pixab_status s = check_boxes(n_boxes);
    if (s) return s;
    const size_t plane = (size_t)H * W * K;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < count; n++) {
        int box = 0, i = 0, j = 0, r0 = 0, r1 = 0, c0 = 0, c1 = 0;
        int kind = ablate_decode(first + n, H, W, &box, &i, &j);
        if (kind >= ABLATE_DELETE) ablate_region(box_h[box], box_w[box], i, j, H, W, &r0, &r1, &c0, &c1);
        float *t = dst + (size_t)n * plane;
        /* ablate_box_element for a whole pixel: the rule does not depend on k. */
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                size_t at = ((size_t)y * W + x) * K;
                if (kind != ABLATE_ZERO && ablate_keeps(kind, y, x, r0, r1, c0, c1))
                    memcpy(t + at, a + at, sizeof(float) * (size_t)K);
                else
                    memset(t + at, 0, sizeof(float) * (size_t)K);
            }
    }
    return PIXAB_OK;
}

pixab_status cpu_ablate_boxes_pooled(void *ctx, float *dst, const float *a, const float *pooled, int H, int W, int K,
                                     int n_boxes, const int *box_h, const int *box_w, int first, int count) {
    pixab_status s = check_boxes(n_boxes);
    if (s) return s;
    const ablate_box_set b = box_set(n_boxes, box_h, box_w);
#pragma omp parallel for schedule(static)
    for (int n = 0; n < count; n++)
        for (int k = 0; k < K; k++) dst[(size_t)n * K + k] = ablate_box_pooled(a, &b, first + n, H, W, K, k, pooled[k]);
    return PIXAB_OK;
}

pixab_status cpu_ablate_channels(void *ctx, float *dst, const float *a, int HW, int K, int first, int count) {
    const size_t plane = (size_t)HW * K;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < count; n++) {
        float *t = dst + (size_t)n * plane;
        memcpy(t, a, sizeof(float) * plane);
        int k = first + n - 1; /* ablate_channel_element: only channel k differs from a */
        if (k >= 0)
            for (int p = 0; p < HW; p++) t[(size_t)p * K + k] = 0.0f;
    }
    return PIXAB_OK;
}

pixab_status cpu_ablate_channel_logits(void *ctx, const graph *g, int fc, float *logits, const float *logits0,
                                       const float *a, int HW, int K, int first, int count) {
    const graph_op *o = &g->ops[fc];
    if (o->kind != OP_FC || o->c_in != K)
        return pixab_fail(PIXAB_ERR_ARG, "op %d is not an FC layer over %d channels", fc, K);
    const float *Wt = g->params + o->w_off; /* (classes, K) */
    const int classes = o->c_out;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < count; n++) {
        float *row = logits + (size_t)n * classes;
        const int k = first + n - 1;
        if (k < 0) {
            memcpy(row, logits0, sizeof(float) * (size_t)classes);
            continue;
        }
        double pooled = ablate_channel_mean(a, HW, K, k);
        for (int j = 0; j < classes; j++) row[j] = ablate_channel_logit(logits0[j], Wt[(size_t)j * K + k], pooled);
    }
    return PIXAB_OK;
}

pixab_status cpu_class_scores(void *ctx, float *s, const float *logits, int n, int classes, int cls, int softmax) {
    if (cls < 0 || cls >= classes) return pixab_fail(PIXAB_ERR_ARG, "class %d of %d", cls, classes);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) s[i] = cam_class_score(logits + (size_t)i * classes, classes, cls, softmax);
    return PIXAB_OK;
}

pixab_status cpu_pixab_reduce(void *ctx, float *map, const float *scores, int n_boxes, int HW) {
    pixab_status s = check_boxes(n_boxes);
    if (s) return s;
    for (int p = 0; p < HW; p++) map[p] = ablate_pixab_reduce(scores, n_boxes, HW, p);
    return PIXAB_OK;
}

pixab_status cpu_weighted_sum(void *ctx, float *map, const float *a, const float *w, int HW, int K) {
    for (int p = 0; p < HW; p++) map[p] = cam_pixel_sum(a + (size_t)p * K, w, K);
    return PIXAB_OK;
}

pixab_status cpu_normalize(void *ctx, float *map, int n) {
    cam_normalize_map(map, n);
    return PIXAB_OK;
}

/* pixab_cam.c — Pixab-CAM (DESIGN.md §4): every box position, deletion and
 * preservation perspectives, the zero-tensor baseline; all 2 + 8 H W head
 * evaluations of an image as one generated batch. Fast path for GAP heads:
 * the pooled features of each ablated tensor come from box sums of A, and the
 * head is one GEMM. The per-element logic is kernels/ablate.cuh. */
#include <stdlib.h>
#include <string.h>

#include "ablate.cuh"
#include "cam.h"
#include "error.h"

/* General path: materialise items [first, first + count) as (H, W, K) tensors. */
static void fill_tensors(void *ctx, int first, int count, float *dst) {
    const cam_batch *b = ctx;
    const cam_ctx *c = b->c;
    const size_t plane = (size_t)c->H * c->W * c->K;
    for (int n = 0; n < count; n++) {
        int box = 0, i = 0, j = 0, r0 = 0, r1 = 0, c0 = 0, c1 = 0;
        int kind = ablate_decode(first + n, c->H, c->W, &box, &i, &j);
        if (kind >= ABLATE_DELETE) ablate_region(c->box_h[box], c->box_w[box], i, j, c->H, c->W, &r0, &r1, &c0, &c1);
        float *t = dst + (size_t)n * plane;
        for (int y = 0; y < c->H; y++)
            for (int x = 0; x < c->W; x++) {
                size_t at = ((size_t)y * c->W + x) * c->K;
                if (kind != ABLATE_ZERO && ablate_keeps(kind, y, x, r0, r1, c0, c1))
                    memcpy(t + at, c->act + at, sizeof(float) * (size_t)c->K);
                else
                    memset(t + at, 0, sizeof(float) * (size_t)c->K);
            }
    }
}

/* Fast path: the pooled features (K) of items [first, first + count). */
static void fill_pooled(void *ctx, int first, int count, float *dst) {
    const cam_batch *b = ctx;
    const cam_ctx *c = b->c;
    for (int n = 0; n < count; n++) {
        int box = 0, i = 0, j = 0, r0 = 0, r1 = 0, c0 = 0, c1 = 0;
        int kind = ablate_decode(first + n, c->H, c->W, &box, &i, &j);
        if (kind >= ABLATE_DELETE) ablate_region(c->box_h[box], c->box_w[box], i, j, c->H, c->W, &r0, &r1, &c0, &c1);
        float *t = dst + (size_t)n * c->K;
        for (int k = 0; k < c->K; k++) {
            float sum = kind >= ABLATE_DELETE ? ablate_box_sum(c->act, c->W, c->K, k, r0, r1, c0, c1) : 0.0f;
            t[k] = ablate_pooled(kind, b->pooled[k], sum, c->H * c->W);
        }
    }
}

pixab_status cam_pixab(const cam_ctx *c, int fast, float *map) {
    const int HW = c->H * c->W, n = ablate_batch_size(c->n_boxes, c->H, c->W);
    float *logits = malloc(sizeof(float) * (size_t)n * c->classes);
    if (!logits) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %d Pixab-CAM head evaluations", n);
    pixab_status s = cam_run_batch(c, fast, n, fill_tensors, fill_pooled, logits);
    if (s) goto done;
    const float y = cam_score(logits, c->classes, c->cls, c->score);
    const float y_zero = cam_score(logits + c->classes, c->classes, c->cls, c->score);
    for (int p = 0; p < HW; p++) {
        float sum_d = 0.0f, sum_p = 0.0f;
        for (int box = 0; box < c->n_boxes; box++) {
            size_t item = 2 + 2 * ((size_t)box * HW + p);
            sum_d += cam_score(logits + item * c->classes, c->classes, c->cls, c->score);
            sum_p += cam_score(logits + (item + 1) * c->classes, c->classes, c->cls, c->score);
        }
        map[p] = ablate_pixab_point(y, y_zero, sum_d, sum_p, c->n_boxes);
    }
done:
    free(logits);
    return s;
}

/* ablation_cam.c — Ablation-CAM (DESIGN.md §4): w_k = (Y - Y_k) / Y with Y_k
 * the score when channel k of A is zeroed; map = sum_k w_k A_k. Item 0 of the
 * batch is A itself, item 1 + k is A without channel k. Fast path for GAP
 * heads: zero one pooled channel, the head is one GEMM. */
#include <stdlib.h>
#include <string.h>

#include "cam.h"
#include "error.h"

typedef struct {
    const cam_ctx *c;
    const float *pooled; /* (K) */
} batch_src;

static void fill_tensors(void *ctx, int first, int count, float *dst) {
    const cam_ctx *c = ((const batch_src *)ctx)->c;
    const size_t plane = (size_t)c->H * c->W * c->K;
    for (int n = 0; n < count; n++) {
        float *t = dst + (size_t)n * plane;
        memcpy(t, c->act, sizeof(float) * plane);
        int k = first + n - 1;
        if (k >= 0)
            for (int p = 0; p < c->H * c->W; p++) t[(size_t)p * c->K + k] = 0.0f;
    }
}

static void fill_pooled(void *ctx, int first, int count, float *dst) {
    const batch_src *b = ctx;
    const int K = b->c->K;
    for (int n = 0; n < count; n++) {
        float *t = dst + (size_t)n * K;
        memcpy(t, b->pooled, sizeof(float) * (size_t)K);
        if (first + n >= 1) t[first + n - 1] = 0.0f;
    }
}

pixab_status cam_ablation(const cam_ctx *c, int fast, float *map) {
    const int n = 1 + c->K, HW = c->H * c->W;
    float *logits = malloc(sizeof(float) * (size_t)n * c->classes), *pooled = calloc((size_t)c->K, sizeof(float));
    float *w = malloc(sizeof(float) * (size_t)c->K);
    pixab_status s = PIXAB_OK;
    if (!logits || !pooled || !w) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %d Ablation-CAM head evaluations", n);
        goto done;
    }
    batch_src b = {c, pooled};
    if (fast) {
        for (int p = 0; p < HW; p++)
            for (int k = 0; k < c->K; k++) pooled[k] += c->act[(size_t)p * c->K + k];
        for (int k = 0; k < c->K; k++) pooled[k] /= (float)HW;
        s = cam_head_pooled(c, n, fill_pooled, &b, logits);
    } else {
        s = engine_head_generated(c->e, c->layer, n, fill_tensors, &b, logits);
    }
    if (s) goto done;
    const float y = cam_score(logits, c->classes, c->cls, c->score);
    for (int k = 0; k < c->K; k++) {
        float yk = cam_score(logits + (size_t)(1 + k) * c->classes, c->classes, c->cls, c->score);
        w[k] = y != 0.0f ? (y - yk) / y : 0.0f;
    }
    cam_weighted_sum(c, w, map);
done:
    free(logits);
    free(pooled);
    free(w);
    return s;
}

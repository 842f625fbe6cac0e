/* ablation_cam.c — Ablation-CAM (DESIGN.md §4): w_k = (Y - Y_k) / Y with Y_k
 * the score when channel k of A is zeroed; map = sum_k w_k A_k. Item 0 of the
 * batch is A itself, item 1 + k is A without channel k. Fast path for GAP
 * heads: zeroing pooled channel k changes the logits by exactly
 * -W[:, k] pooled[k] (the FC layer is linear), so the K ablated logit rows
 * cost K x classes multiply-adds instead of a K x C x classes GEMM. */
#include <stdlib.h>
#include <string.h>

#include "cam.h"
#include "error.h"
#include "graph.h"

static void fill_tensors(void *ctx, int first, int count, float *dst) {
    const cam_ctx *c = ((const cam_batch *)ctx)->c;
    const size_t plane = (size_t)c->H * c->W * c->K;
    for (int n = 0; n < count; n++) {
        float *t = dst + (size_t)n * plane;
        memcpy(t, c->act, sizeof(float) * plane);
        int k = first + n - 1;
        if (k >= 0)
            for (int p = 0; p < c->H * c->W; p++) t[(size_t)p * c->K + k] = 0.0f;
    }
}

/* Fast path: logits (1 + K, classes) from the unmodified logits and the FC
 * weights W (classes, K): row 1 + k = logits - W[:, k] * pooled[k]. */
static void ablate_pooled_logits(const cam_ctx *c, float *logits) {
    const graph *g = engine_graph(c->e);
    const graph_op *fc = &g->ops[g->n_ops - 1];
    const float *W = g->params + fc->w_off;
    const int K = c->K, HW = c->H * c->W;
    memcpy(logits, c->logits, sizeof(float) * (size_t)c->classes);
#pragma omp parallel for schedule(static)
    for (int k = 0; k < K; k++) {
        double pooled = 0.0;
        for (int p = 0; p < HW; p++) pooled += c->act[(size_t)p * K + k];
        pooled /= HW;
        float *row = logits + (size_t)(1 + k) * c->classes;
        for (int j = 0; j < c->classes; j++) row[j] = (float)(c->logits[j] - W[(size_t)j * K + k] * pooled);
    }
}

pixab_status cam_ablation(const cam_ctx *c, int fast, float *w) {
    const int n = 1 + c->K;
    float *logits = malloc(sizeof(float) * (size_t)n * c->classes);
    pixab_status s = PIXAB_OK;
    if (!logits) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %d Ablation-CAM head evaluations", n);
        goto done;
    }
    if (fast)
        ablate_pooled_logits(c, logits);
    else if ((s = engine_head_generated(c->e, c->layer, n, fill_tensors, &(cam_batch){c, NULL}, logits)))
        goto done;
    const float y = cam_score(logits, c->classes, c->cls, c->score);
    for (int k = 0; k < c->K; k++) {
        float yk = cam_score(logits + (size_t)(1 + k) * c->classes, c->classes, c->cls, c->score);
        w[k] = y != 0.0f ? (y - yk) / y : 0.0f;
    }
done:
    free(logits);
    return s;
}

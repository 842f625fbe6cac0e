/* ablation_cam.c — Ablation-CAM (DESIGN.md §4): w_k = (Y - Y_k) / Y with Y_k
 * the score when channel k of A is zeroed; map = sum_k w_k A_k. Item 0 of the
 * generated batch is A itself, item 1 + k is A without channel k (the batches
 * of several images sharing the engine's chunks). Shortcut for GAP heads:
 * zeroing pooled channel k changes the logits by exactly -W[:, k] pooled[k]
 * (the FC layer is linear), so the K ablated logit rows cost K x classes
 * multiply-adds instead of a K x C x classes GEMM. */
#include <stdlib.h>

#include "cam.h"
#include "error.h"

pixab_status cam_ablation(const cam_ctx *c, int n, int pooled, float *const *w) {
    const int items = 1 + c->K;
    head_desc *h = calloc((size_t)n, sizeof(head_desc));
    float *scores = malloc(sizeof(float) * (size_t)items * n), **out = calloc((size_t)n, sizeof(float *));
    pixab_status s = PIXAB_OK;
    if (!h || !scores || !out) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %d Ablation-CAM scores", items * n);
    for (int i = 0; i < n && !s; i++) {
        h[i] = (head_desc){.image = c[i].image, .items = HEAD_ITEMS_CHANNELS, .pooled = pooled, .cls = c[i].cls,
                           .score = c[i].score, .output = HEAD_OUT_SCORES};
        out[i] = scores + (size_t)items * i;
    }
    if (!s) s = engine_run_heads(c->e, h, n, out);
    for (int i = 0; i < n && !s; i++) {
        const float y = out[i][0];
        for (int k = 0; k < c->K; k++) w[i][k] = y != 0.0f ? (y - out[i][1 + k]) / y : 0.0f;
    }
    free(h);
    free(scores);
    free(out);
    return s;
}

static pixab_status run_images(const cam_ctx *c, int n, float *const *w) {
    return cam_ablation(c, n, cam_head_is_gap(c), w);
}

static pixab_status run(const cam_ctx *c, float *w) { return run_images(c, 1, &w); }

const cam_method cam_method_ablation = {PIXAB_METHOD_ABLATION, PIXAB_SCORE_SOFTMAX, 1, run, 0, run_images};

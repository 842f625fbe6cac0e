/* ablation_cam.c — Ablation-CAM (DESIGN.md §4): w_k = (Y - Y_k) / Y with Y_k
 * the score when channel k of A is zeroed; map = sum_k w_k A_k. Item 0 of the
 * generated batch is A itself, item 1 + k is A without channel k. Shortcut
 * for GAP heads: zeroing pooled channel k changes the logits by exactly
 * -W[:, k] pooled[k] (the FC layer is linear), so the K ablated logit rows
 * cost K x classes multiply-adds instead of a K x C x classes GEMM. */
#include <stdlib.h>

#include "cam.h"
#include "error.h"

pixab_status cam_ablation(const cam_ctx *c, int pooled, float *w) {
    const head_desc h = {.image = c->image, .items = HEAD_ITEMS_CHANNELS, .pooled = pooled, .cls = c->cls, .score = c->score,
                         .output = HEAD_OUT_SCORES};
    const int n = 1 + c->K;
    float *scores = malloc(sizeof(float) * (size_t)n);
    if (!scores) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %d Ablation-CAM scores", n);
    pixab_status s = engine_run_head(c->e, &h, scores);
    if (!s) {
        const float y = scores[0];
        for (int k = 0; k < c->K; k++) w[k] = y != 0.0f ? (y - scores[1 + k]) / y : 0.0f;
    }
    free(scores);
    return s;
}

static pixab_status run(const cam_ctx *c, float *w) { return cam_ablation(c, cam_head_is_gap(c), w); }

const cam_method cam_method_ablation = {PIXAB_METHOD_ABLATION, PIXAB_SCORE_SOFTMAX, 1, run, 0};

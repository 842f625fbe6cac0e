/* pixab_cam.c — Pixab-CAM (DESIGN.md §4): every box position, deletion and
 * preservation perspectives, the zero-tensor baseline; all 2 + 8 H W head
 * evaluations of an image as one generated batch on the engine's backend,
 * reduced there to p(i, j) and normalised. Shortcut for GAP heads: the
 * head is linear after the pooling, so each ablated tensor's logits are box
 * sums of the FC of each pixel of A (one GEMM of H W rows). The per-element
 * logic is kernels/element/ablate.cuh. */
#include "cam.h"

pixab_status cam_pixab(const cam_ctx *c, int pooled, float *map) {
    const head_desc h = {.image = c->image, .items = HEAD_ITEMS_BOXES, .pooled = pooled, .n_boxes = c->n_boxes, .box_h = c->box_h,
                         .box_w = c->box_w, .cls = c->cls, .score = c->score, .output = HEAD_OUT_PIXAB_MAP};
    return engine_run_head(c->e, &h, map);
}

static pixab_status run(const cam_ctx *c, float *map) { return cam_pixab(c, cam_head_is_gap(c), map); }

const cam_method cam_method_pixab = {PIXAB_METHOD_PIXAB, PIXAB_SCORE_SOFTMAX, 0, run, 0};

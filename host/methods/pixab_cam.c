/* pixab_cam.c — Pixab-CAM (DESIGN.md §4): every box position, deletion and
 * preservation perspectives, the zero-tensor baseline; all 2 + 8 H W head
 * evaluations of an image as one generated batch on the engine's backend
 * (the batches of several images sharing the engine's chunks), reduced there
 * to p(i, j) and normalised. Shortcut for GAP heads: the head is linear after
 * the pooling, so each ablated tensor's logits are box sums of the FC of each
 * pixel of A (one GEMM of H W rows). The per-element logic is
 * kernels/element/ablate.cuh. */
#include <stdlib.h>

#include "cam.h"
#include "error.h"

pixab_status cam_pixab(const cam_ctx *c, int n, int pooled, float *const *maps) {
    head_desc *h = malloc(sizeof(head_desc) * (size_t)n);
    if (!h) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %d heads", n);
    for (int i = 0; i < n; i++)
        h[i] = (head_desc){.image = c[i].image, .items = HEAD_ITEMS_BOXES, .pooled = pooled, .n_boxes = c[i].n_boxes,
                           .box_h = c[i].box_h, .box_w = c[i].box_w, .cls = c[i].cls, .score = c[i].score,
                           .output = HEAD_OUT_PIXAB_MAP};
    pixab_status s = engine_run_heads(c->e, h, n, maps);
    free(h);
    return s;
}

static pixab_status run_images(const cam_ctx *c, int n, float *const *maps) {
    return cam_pixab(c, n, cam_head_is_gap(c), maps);
}

static pixab_status run(const cam_ctx *c, float *map) { return run_images(c, 1, &map); }

const cam_method cam_method_pixab = {PIXAB_METHOD_PIXAB, PIXAB_SCORE_SOFTMAX, 0, run, 0, run_images};

/* pixab_cam.c — Pixab-CAM (DESIGN.md §4): every box position, deletion and
 * preservation perspectives, the zero-tensor baseline; all 2 + 8 H W head
 * evaluations of an image as one generated batch on the engine's backend,
 * reduced there to p(i, j) and normalised. Fast path for GAP heads: the
 * pooled features of each ablated tensor come from box sums of A, and the
 * head is one GEMM. The per-element logic is kernels/element/ablate.cuh. */
#include "cam.h"

pixab_status cam_pixab(const cam_ctx *c, int fast, float *map) {
    const engine_gen gen = {ENGINE_GEN_BOXES, c->n_boxes, c->box_h, c->box_w};
    const int n = 2 + 2 * c->n_boxes * c->H * c->W;
    pixab_status s = engine_generated_scores(c->e, &gen, n, fast, c->cls, c->score);
    return s ? s : engine_pixab_map(c->e, c->n_boxes, map);
}

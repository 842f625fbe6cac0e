/* cam.c — the steps the CAM methods share (see cam.h). */
#include "cam.h"

#include "map.cuh"

float cam_score(const float *logits, int classes, int cls, pixab_score kind) {
    return map_class_score(logits, classes, cls, kind != PIXAB_SCORE_LOGIT);
}

int cam_head_is_gap(const cam_ctx *c) { return engine_head_is_gap(c->e, c->layer); }

pixab_status cam_weighted_map(const cam_ctx *c, const float *w, float *map) {
    const head_desc h = {.image = c->image, .items = HEAD_ITEMS_NONE, .output = HEAD_OUT_WEIGHTED_MAP, .weights = w};
    return engine_run_head(c->e, &h, map);
}

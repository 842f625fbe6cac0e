/* cam.c — the steps the CAM methods share (see cam.h). */
#include "cam.h"

#include "cam.cuh"
#include "graph.h"

float cam_score(const float *logits, int classes, int cls, pixab_score kind) {
    return cam_class_score(logits, classes, cls, kind != PIXAB_SCORE_LOGIT);
}

int cam_head_is_gap(const cam_ctx *c) {
    const graph *g = engine_graph(c->e);
    int first = g->layers[c->layer].end_op;
    /* ops: ... layer | GAP (layer + 1 = "avgpool") | FC */
    return first + 2 == g->n_ops && g->ops[first].kind == OP_GAP && g->ops[first].src == g->layers[c->layer].out &&
           g->ops[first + 1].kind == OP_FC && g->layers[c->layer + 1].end_op == first + 1;
}

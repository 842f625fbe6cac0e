/* cam.c — the steps the CAM methods share (see cam.h). */
#include "cam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cam.cuh"
#include "error.h"
#include "graph.h"

float cam_score(const float *logits, int classes, int cls, pixab_score kind) {
    if (kind == PIXAB_SCORE_LOGIT) return logits[cls];
    float mx = logits[0];
    for (int k = 1; k < classes; k++) mx = logits[k] > mx ? logits[k] : mx;
    double sum = 0.0;
    for (int k = 0; k < classes; k++) sum += exp((double)logits[k] - mx);
    return (float)(exp((double)logits[cls] - mx) / sum);
}

void cam_weighted_sum(const cam_ctx *c, const float *w, float *map) {
    for (int p = 0; p < c->H * c->W; p++) {
        const float *a = c->act + (size_t)p * c->K;
        double s = 0.0;
        for (int k = 0; k < c->K; k++) s += (double)(w ? w[k] : 1.0f) * a[k];
        map[p] = (float)s;
    }
}

void cam_normalize(float *map, int n) {
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        float v = cam_relu(map[i]);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    for (int i = 0; i < n; i++) map[i] = cam_minmax(map[i], lo, hi);
}

int cam_head_is_gap(const cam_ctx *c) {
    const graph *g = engine_graph(c->e);
    int first = g->layers[c->layer].end_op;
    /* ops: ... layer | GAP (layer + 1 = "avgpool") | FC */
    return first + 2 == g->n_ops && g->ops[first].kind == OP_GAP && g->ops[first].src == g->layers[c->layer].out &&
           g->ops[first + 1].kind == OP_FC && g->layers[c->layer + 1].end_op == first + 1;
}

pixab_status cam_run_batch(const cam_ctx *c, int fast, int n, engine_fill_fn fill_tensors, engine_fill_fn fill_pooled,
                           float *logits) {
    cam_batch b = {c, NULL};
    if (!fast) return engine_head_generated(c->e, c->layer, n, fill_tensors, &b, logits);
    const int HW = c->H * c->W;
    if (!(b.pooled = calloc((size_t)c->K, sizeof(float))))
        return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for pooled features");
    for (int p = 0; p < HW; p++)
        for (int k = 0; k < c->K; k++) b.pooled[k] += c->act[(size_t)p * c->K + k];
    for (int k = 0; k < c->K; k++) b.pooled[k] /= (float)HW;
    /* The head from "avgpool" (layer + 1) is the FC layer alone. */
    pixab_status s = engine_head_generated(c->e, c->layer + 1, n, fill_pooled, &b, logits);
    free(b.pooled);
    return s;
}

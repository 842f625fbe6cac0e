/* engine.h — what the methods need from the engine beyond the public API:
 * its graph and the head on generated batches of activations (the backward
 * pass is public: pixab_engine_gradient). */
#ifndef PIXAB_ENGINE_H
#define PIXAB_ENGINE_H

#include "graph.h"
#include "pixab.h"

const graph *engine_graph(const pixab_engine *e);

/* ---- generated batches of one image, on the engine's backend ---------------
 * engine_forward_keep runs one image and keeps the activation A of `layer` in
 * backend memory; the calls after it generate batches of ablated versions of
 * A straight into the head's input (ablate.cuh layouts), run the head on them
 * and reduce the logits to class scores and maps without leaving the backend.
 * Only the final maps (and scores asked for) are downloaded. */

/* input (S, S, 3) of one image: act (H, W, K) of `layer` and logits (classes)
 * on the host; A and the logits also kept on the backend. */
pixab_status engine_forward_keep(pixab_engine *e, const float *input, int layer, float *act, float *logits);

typedef enum {
    ENGINE_GEN_BOXES,    /* 2 + 2 n_boxes H W items: original, zero, deletion / preservation per box and anchor */
    ENGINE_GEN_CHANNELS  /* 1 + K items: original, then A without channel k */
} engine_gen_kind;

typedef struct {
    engine_gen_kind kind;
    int n_boxes;                 /* ENGINE_GEN_BOXES: the boxes (host arrays) */
    const int *box_h, *box_w;
} engine_gen;

/* The class-cls scores (softmax or logit) of the n items of a generated batch
 * of the kept A, left on the backend. fast (the head after the layer is GAP +
 * FC): boxes go through their pooled features and the FC layer alone, channels
 * through the FC weights directly; else the tensors are materialised and the
 * real head runs, in chunks as large as the head memory budget allows. */
pixab_status engine_generated_scores(pixab_engine *e, const engine_gen *gen, int n, int fast, int cls,
                                     pixab_score kind);
/* The first n of those scores, to the host. */
pixab_status engine_scores_get(pixab_engine *e, float *scores, int n);
/* After a box batch of n_boxes boxes: Pixab-CAM's map (H, W), ReLU'd and
 * min-max normalised on the backend, to the host. */
pixab_status engine_pixab_map(pixab_engine *e, int n_boxes, float *map);
/* minmax(ReLU(sum_k w_k A_k)) of the kept A (w (K) host; NULL: all ones), to the host. */
pixab_status engine_weighted_map(pixab_engine *e, const float *w, float *map);

#endif

/* cam.h — what the CAM methods share: the context of one explanation (the
 * target layer's activation, the class, the score) and the common steps
 * (score of a logit row, weighted channel sum, ReLU + min-max). Each method
 * lives in its own file and is reached through pixab_explain (explain.c). */
#ifndef PIXAB_CAM_H
#define PIXAB_CAM_H

#include "engine.h"
#include "pixab.h"

typedef struct {
    pixab_engine *e;
    int layer, H, W, K, classes;
    int cls;                      /* the class explained */
    pixab_score score;            /* softmax or logit (never DEFAULT here) */
    const float *input;           /* (S, S, 3) the preprocessed image */
    int size;                     /* S */
    const float *act;             /* (H, W, K) activation of the layer */
    const float *logits;          /* (classes) of the unmodified input */
    int n_boxes;
    const int *box_h, *box_w;     /* (n_boxes) */
} cam_ctx;

/* S(.) of class c for one logit row: softmax probability or the logit. */
float cam_score(const float *logits, int classes, int cls, pixab_score kind);
/* 1 when the head after the layer is global average pooling + FC, so the
 * pooled fast path applies. */
int cam_head_is_gap(const cam_ctx *c);

/* The methods need the engine to keep c->act on its backend
 * (engine_forward_keep of c->layer) before they run. */
/* Pixab-CAM: its map (H, W), ReLU'd and min-max normalised. */
pixab_status cam_pixab(const cam_ctx *c, int fast, float *map);
/* The channel-weight methods: w (K); their map is minmax(ReLU(sum_k w_k A_k))
 * (engine_weighted_map). */
pixab_status cam_ablation(const cam_ctx *c, int fast, float *w);
pixab_status cam_gradient(const cam_ctx *c, pixab_method m, float *w);
pixab_status cam_scorecam(const cam_ctx *c, float *w);

#endif

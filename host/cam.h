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
/* map (H, W) = sum_k w[k] A_k (w NULL: all ones). */
void cam_weighted_sum(const cam_ctx *c, const float *w, float *map);
/* In place: ReLU, then min-max to [0,1] (all zeros when max == min). */
void cam_normalize(float *map, int n);
/* 1 when the head after the layer is global average pooling + FC, so the
 * pooled fast path applies. */
int cam_head_is_gap(const cam_ctx *c);
/* What the fill functions of an ablation batch get as their ctx. */
typedef struct {
    const cam_ctx *c;
    float *pooled;                /* (K) global average of A (fast path) */
} cam_batch;
/* Logits (n, classes) of the head for a generated batch of n ablated
 * activations: with `fast` (cam_head_is_gap), fill_pooled writes each item's
 * pooled features (K) and the head is one GEMM; otherwise fill_tensors
 * materialises each (H, W, K) tensor and the real head runs. */
pixab_status cam_run_batch(const cam_ctx *c, int fast, int n, engine_fill_fn fill_tensors, engine_fill_fn fill_pooled,
                           float *logits);

/* Pixab-CAM: the raw map (H, W) before ReLU + min-max. */
pixab_status cam_pixab(const cam_ctx *c, int fast, float *map);
/* The channel-weight methods: w (K); their map is cam_weighted_sum(c, w). */
pixab_status cam_ablation(const cam_ctx *c, int fast, float *w);
pixab_status cam_gradient(const cam_ctx *c, pixab_method m, float *w);
pixab_status cam_scorecam(const cam_ctx *c, float *w);

#endif

/* cam.h — the methods layer: what every CAM method is (a cam_method: its
 * default score and how it runs, as a description of its head for the
 * engine, engine.h) and what the methods share: the context of one
 * explanation (the target layer's activation, the class, the score), the
 * score of a logit row and the weighted channel map. Each method lives in its
 * own file; explain_image.c holds the table of them and pixab_explain. */
#ifndef PIXAB_CAM_H
#define PIXAB_CAM_H

#include "engine.h"
#include "pixab.h"

typedef struct {
    pixab_engine *e;
    int image;                    /* which of the engine's kept images (engine_forward_keep) */
    int layer, H, W, K, classes;
    int cls;                      /* the class explained */
    pixab_score score;            /* softmax or logit (never DEFAULT here) */
    const float *input;           /* (S, S, 3) the preprocessed image */
    int size;                     /* S */
    const float *act;             /* (H, W, K) activation of the layer */
    const float *logits;          /* (classes) of the unmodified input */
    const float *grad;            /* (H, W, K) dS/dA for cls and score (cam_gradients), shared by the gradient
                                     methods of the image; NULL: each computes its own */
    int n_boxes;
    const int *box_h, *box_w;     /* (n_boxes) */
} cam_ctx;

/* A method. The engine keeps c->act on its backend (engine_forward_keep of
 * c->layer, image c->image) before it runs. */
typedef struct {
    pixab_method id;
    pixab_score default_score;    /* its score when none is asked for (DESIGN.md §4) */
    /* 0: run writes the map (H, W), ReLU'd and min-max normalised. 1: run
     * writes channel weights w (K) and the map is cam_weighted_map of them. */
    int channel_weights;
    pixab_status (*run)(const cam_ctx *c, float *out);
    /* 1: run reads dS/dA (c->grad when set); all such methods of an image
     * share it when they share the score. */
    int gradient;
    /* run on the n images of c[0..n) at once, out[i] for image i (their
     * heads share the engine's chunks, engine_run_heads); NULL: run each. */
    pixab_status (*run_images)(const cam_ctx *c, int n, float *const *out);
} cam_method;

extern const cam_method cam_method_pixab, cam_method_ablation, cam_method_activation, cam_method_gradcam,
    cam_method_gradcampp, cam_method_xgradcam, cam_method_scorecam;

/* S(.) of class c for one logit row: softmax probability or the logit. */
float cam_score(const float *logits, int classes, int cls, pixab_score kind);
/* 1 when the head after the layer is global average pooling + FC, so the
 * pooled shortcut applies. */
int cam_head_is_gap(const cam_ctx *c);
/* map (H, W) = minmax(ReLU(sum_k w_k A_k)) of the kept A (w NULL: all ones). */
pixab_status cam_weighted_map(const cam_ctx *c, const float *w, float *map);

/* The runs behind the descriptions, on the n images of c[0..n), with the
 * shortcut chosen (pooled = 1 needs cam_head_is_gap): tests compare both paths. */
pixab_status cam_pixab(const cam_ctx *c, int n, int pooled, float *const *maps);
pixab_status cam_ablation(const cam_ctx *c, int n, int pooled, float *const *w);
pixab_status cam_gradient(const cam_ctx *c, pixab_method m, float *w);
/* dS/dA of n images at once (one batched backward pass): act (n, H, W, K) of
 * `layer` (-1: the input), cls (n) their classes, score softmax or logit ->
 * g (n, H, W, K). guided: guided backpropagation (engine_gradient_batch). */
pixab_status cam_gradients(pixab_engine *e, int layer, const float *act, int n, const int *cls, pixab_score score,
                           int guided, float *g);
pixab_status cam_scorecam(const cam_ctx *c, float *w);

#endif

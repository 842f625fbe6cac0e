/* engine.h — what the methods need from the engine beyond the public API:
 * its graph, heads run on generated batches of one image's activation and
 * the guided backward pass (the plain one is public: pixab_engine_gradient). */
#ifndef PIXAB_ENGINE_H
#define PIXAB_ENGINE_H

#include "graph.h"
#include "pixab.h"

const graph *engine_graph(const pixab_engine *e);

/* ---- heads on kept activations -----------------------------------------------
 * engine_forward_keep runs a batch of images and keeps their inputs and
 * activations A of `layer` in backend memory; engine_run_head then runs a
 * head on one of them: a generated batch of items made from its A (or from
 * its input and A), the network from where the items enter it, the class
 * scores of every item and an output step, all without leaving the backend
 * (backend.h's ops). Only the output is downloaded. A method is a
 * description of its head (host/methods/). */

/* input (n, S, S, 3) of n images (1 <= n <= the engine's batch): act
 * (n, H, W, K) of `layer` and logits (n, classes) on the host; the inputs, A
 * and the logits also kept on the backend (until the next call). */
pixab_status engine_forward_keep(pixab_engine *e, const float *input, int n, int layer, float *act, float *logits);
/* The same from n 8-bit images, each preprocessed with p (p->size: the
 * engine's input size) on the backend: on a GPU only their 8-bit pixels are
 * uploaded, staged (backend.h's stage) so that an image's copy overlaps the
 * preprocessing of the one before and the host's staging of the next. The
 * same inputs as pixab_image_preprocess makes (the same per-pixel code). */
pixab_status engine_forward_keep_images(pixab_engine *e, const pixab_image *images, int n, const pixab_preproc *p,
                                        int layer, float *act, float *logits);

typedef enum {
    HEAD_ITEMS_NONE,      /* no items: the output step reads A alone */
    HEAD_ITEMS_BOXES,     /* 2 + 2 n_boxes H W: original, zero, deletion / preservation per box and anchor (ablate.cuh) */
    HEAD_ITEMS_CHANNELS,  /* 1 + K: A, then A without channel k */
    HEAD_ITEMS_MASKED,    /* 1 + n_channels: the zero input, then the input times the mask of A's channel channels[i]
                           * (Score-CAM, score_mask.cuh); they run through the whole network, the
                           * engine's batch at a time */
} head_items;

typedef enum {
    HEAD_OUT_SCORES,       /* out (items): the class scores */
    HEAD_OUT_PIXAB_MAP,    /* out (H, W): Pixab-CAM's p of a box batch, ReLU'd and min-max normalised */
    HEAD_OUT_WEIGHTED_MAP, /* out (H, W): minmax(ReLU(sum_k w_k A_k)) */
    HEAD_OUT_MASK_RANGES,  /* out (K, 2): min and max of each channel of A upsampled to the input size */
} head_output;

typedef struct {
    int image;                    /* which of the kept images (0 to n - 1) */
    head_items items;
    /* The head after the layer is GAP + FC (engine_head_is_gap) and the items
     * take the shortcut, the FC layer being linear: a box item's logits are
     * box sums of the FC of each pixel of A (one GEMM of H W rows for all the
     * kept images), a channel item's follow from A's logits. */
    int pooled;
    int n_boxes;                  /* HEAD_ITEMS_BOXES: the boxes (host arrays) */
    const int *box_h, *box_w;
    int n_channels;               /* HEAD_ITEMS_MASKED: the channels masked (host array) */
    const int *channels;
    int cls;                      /* the class scored */
    pixab_score score;            /* softmax or logit */
    head_output output;
    const float *weights;         /* HEAD_OUT_WEIGHTED_MAP: (K) on the host; NULL: all ones */
} head_desc;

/* The number of items of h's batch on the kept activation (0: none kept). */
int engine_head_items(const pixab_engine *e, const head_desc *h);
/* Run head h on the kept activation; out as h->output says (host memory). */
pixab_status engine_run_head(pixab_engine *e, const head_desc *h, float *out);
/* Heads h[0..n) of one kind (all fields alike but image and cls) on n kept
 * images at once, out[j] for h[j]: their items share the head's chunks, so a
 * chunk is full whatever each image's number of items. Every image gets what
 * engine_run_head gives it alone. Heads without items or of masked inputs:
 * n = 1. */
pixab_status engine_run_heads(pixab_engine *e, const head_desc *h, int n, float *const *out);
/* 1 when the head after `layer` is global average pooling + FC. */
int engine_head_is_gap(const pixab_engine *e, int layer);

/* pixab_engine_gradient_batch, and with guided = 1 guided backpropagation
 * (Springenberg et al.): every ReLU's backward passes the gradient only where
 * both its output and the gradient are positive (backend.h's BOP_GUIDED_RELU);
 * max pools, average pools, GAP and FC as in the plain gradient. */
pixab_status engine_gradient_batch(pixab_engine *e, int layer, int guided, const float *x, int n,
                                   pixab_seed_batch_fn seed, void *user, float *logits, float *dx);

#endif

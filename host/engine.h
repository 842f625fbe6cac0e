/* engine.h — what the methods need from the engine beyond the public API:
 * the head on generated batches of activations, and the backward pass. */
#ifndef PIXAB_ENGINE_H
#define PIXAB_ENGINE_H

#include "graph.h"
#include "pixab.h"

const graph *engine_graph(const pixab_engine *e);
/* Images per body forward (pixab_engine_forward's limit). */
int engine_max_batch(const pixab_engine *e);

/* Write activations first .. first+count-1 of a generated batch into dst
 * (count, H, W, C) of the head's input layer. */
typedef void (*engine_fill_fn)(void *ctx, int first, int count, float *dst);
/* logits (n, classes) of the head after `layer` for n generated activations,
 * run in chunks as large as the engine's head memory budget allows. */
pixab_status engine_head_generated(pixab_engine *e, int layer, int n, engine_fill_fn fill, void *ctx,
                                   float *logits);

/* d(score)/d(logits) for the logits of the unmodified input. */
typedef void (*engine_seed_fn)(void *ctx, const float *logits, int classes, float *dlogits);
/* For one image: x is the activation of `layer` (-1: the input image); runs
 * the head, writes its logits (classes) and dx = d(score)/dx (x's shape). */
pixab_status engine_gradient(pixab_engine *e, int layer, const float *x, engine_seed_fn seed, void *ctx,
                             float *logits, float *dx);

#endif

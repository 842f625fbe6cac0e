/* metrics.h — the metrics of the evaluation suite (DESIGN.md §7, issue #7), for
 * one image and one explanation at a time; the eval tasks aggregate them.
 * metrics.c holds the pure map metrics, metrics_model.c those that run the
 * network (Average Drop / Increase in Confidence, Deletion / Insertion).
 *
 * Conventions:
 *  - a saliency map given here is the explanation upsampled to the network
 *    input, (S, S) row-major, with pixab_map_upsample (bilinear, half-pixel
 *    centres); an input is the preprocessed (normalised) image (S, S, 3);
 *  - boxes are in pixels of the S x S input, half-open: [x0, x1) x [y0, y1);
 *  - scores are softmax probabilities of the class, computed in float32;
 *  - functions that can fail return a pixab_status (reason in
 *    pixab_last_error()); pure helpers return their value. Nothing prints.
 *
 * Decisions (documented for users):
 *  - AD/IIC: O = prob of x * M, M the upsampled map, the product taken on the
 *    normalised input, the same M for the 3 channels; an image with Y == 0
 *    adds 0 to the Average Drop.
 *  - Deletion/Insertion (Petsiuk et al., RISE's evaluation.py): pixels sorted by
 *    the map descending, ties by pixel index ascending (stable), NaN last;
 *    step = ceil(S*S / n_steps) pixels; state i (0..n_steps) has the first
 *    min(i*step, S*S) pixels changed; curve[i] = prob of the class at state i.
 *    Deletion: x -> zeros of the normalised input (RISE's torch.zeros_like).
 *    Insertion: RISE's blur of x -> x. The blur is RISE's
 *    conv2d(x, gkern(11, 5), padding=5): the kernel is scipy's
 *    gaussian_filter(sigma 5, truncate 4, mode 'reflect') of an 11 x 11 delta,
 *    per channel, zero padding, on the normalised input.
 *    AUC = (sum(curve) - curve[0]/2 - curve[n]/2) / n (trapezoid over [0, 1]).
 *  - Pointing game: the point is the first maximum in raster order; a hit when
 *    the point lies within `tolerance` pixels (Euclidean, pixel centres) of a
 *    box pixel, i.e. a disc of that radius around it meets a box (TorchRay's
 *    protocol for Zhang et al.). No boxes, or a map that is all NaN: a miss.
 *  - Object localisation: sum of the map over the union of the boxes / sum over
 *    the whole map (maps are >= 0); 0 when the total is <= 0.
 *  - DOA distance: 1 - a.b / (|a| |b|); 0 when both maps are all zero
 *    (identical), 1 when exactly one is.
 *  - Spearman: Pearson correlation of the ranks, ties get their average rank;
 *    0 when either map is constant (the correlation is undefined).
 *  - #COP coverage: channel k of the activation is min-max normalised to [0,1]
 *    at layer resolution (a constant channel is all 0), then upsampled to
 *    S x S; a pixel is covered when its value >= 0.5, and the channel covers a
 *    box when >= 80 % of the box's pixels (clipped to the input) are covered; a
 *    box with no pixel inside the input is not covered. */
#ifndef PIXAB_METRICS_H
#define PIXAB_METRICS_H

#include "pixab.h"

/* A box in pixels of the S x S input: [x0, x1) x [y0, y1). */
typedef struct {
    int x0, y0, x1, y1;
} metrics_box;

#define METRICS_STEPS_DEFAULT 100       /* deletion / insertion steps */
#define METRICS_PG_TOLERANCE 15         /* pointing game tolerance, pixels */
#define METRICS_BLUR_KLEN 11            /* RISE's insertion blur: kernel side */
#define METRICS_BLUR_SIGMA 5.0          /* ... and sigma */
#define METRICS_COP_PIXEL 0.5f          /* #COP: a pixel is covered at >= this */
#define METRICS_COP_PERCENT 80          /* #COP: a box is covered at >= this % of its pixels */
#define METRICS_TOP_N_DEFAULT 100       /* #COP: channels with the largest weights */

/* ---- boxes ------------------------------------------------------------------- */

/* A box given in pixels of an image of w x h (annotations.jsonl's
 * [x0, y0, x1, y1], x1/y1 exclusive) -> pixels of the S x S input, with the
 * resize's geometry (half-pixel centres: input pixel j covers the image span
 * [j, j+1) * w/S): the input pixels whose centres fall inside the scaled box,
 * at least one pixel per axis, clipped to [0, S]. Identity when w == h == S. */
metrics_box metrics_box_scale(metrics_box b, int w, int h, int size);

/* ---- map metrics (pure) ---------------------------------------------------------- */

/* Mean of the map (n values); NAN when n < 1 (as the averages below). */
double metrics_compactness(const float *sal, int n);
/* 1 (hit) or 0 (miss). sal (S, S); boxes (n_boxes); tolerance >= 0 pixels. */
int metrics_pointing_game(const float *sal, int size, const metrics_box *boxes, int n_boxes, int tolerance);
/* Energy share inside the union of the boxes, in [0, 1]. sal (S, S). */
double metrics_object_localisation(const float *sal, int size, const metrics_box *boxes, int n_boxes);
/* 1 - cosine similarity of a (n) and b (n), in [0, 2] (see above for zero maps). */
double metrics_cosine_distance(const float *a, const float *b, int n);
/* Spearman rank correlation of a (n) and b (n), in [-1, 1]; 0 when either is
 * constant. Allocates (n ranks); returns NAN only when out of memory. */
double metrics_spearman(const float *a, const float *b, int n);

/* Average Drop over n images, in percent: mean ReLU(y - o) / y * 100. */
double metrics_average_drop(const float *y, const float *o, int n);
/* Increase in Confidence over n images, in percent: mean [y < o] * 100. */
double metrics_increase_in_confidence(const float *y, const float *o, int n);
/* Normalised area under a curve of n + 1 points over [0, 1] (RISE's auc). */
double metrics_auc(const float *curve, int n);

/* ---- #COP helpers --------------------------------------------------------------- */

/* 1 when channel k of act (h, w, channels) — one image's activation at the
 * layer, NHWC — covers box (in S x S pixels), else 0 (rule above). */
int metrics_channel_covers(const float *act, int h, int w, int channels, int k, int size, metrics_box box);
/* Indices of the n largest of w (k) into idx (min(n, k) entries), largest
 * first, ties by lower index, NaN last. Returns the count written. */
int metrics_top_n(const float *w, int k, int n, int *idx);

/* ---- metrics that run the model (metrics_model.c) ------------------------------- */

/* For n images: y[i] = prob of cls[i] for input i, o[i] = prob of cls[i] for
 * input i * sal i. input (n, S, S, 3), sal (n, S, S), cls (n); y, o (n).
 * Forwards run batched, up to the engine's max batch. */
pixab_status metrics_confidence(pixab_engine *e, const float *input, const float *sal, const int *cls, int n,
                                float *y, float *o);

/* RISE's insertion substrate: blur of input (S, S, 3) into out (S, S, 3). */
void metrics_blur(const float *input, int size, float *out);

/* Deletion / insertion game for one image. input (S, S, 3), sal (S, S),
 * n_steps >= 1; curve (n_steps + 1) caller-allocated; auc may be NULL. */
pixab_status metrics_deletion(pixab_engine *e, const float *input, const float *sal, int cls, int n_steps,
                              float *curve, double *auc);
pixab_status metrics_insertion(pixab_engine *e, const float *input, const float *sal, int cls, int n_steps,
                               float *curve, double *auc);

#endif /* PIXAB_METRICS_H */

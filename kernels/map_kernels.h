/* map_kernels.h — launchers of the map kernels (map_kernels.cu), callable from
 * C; only built with PIXAB_WITH_CUDA: logit rows to class scores, Pixab-CAM's
 * reduction of scores to p(i, j), the weighted channel sum, ReLU + min-max,
 * Score-CAM's mask ranges and bilinear upsampling, all on the device so that
 * a map leaves it only when it is written out. Per-element logic: map.cuh,
 * ablate.cuh, score_mask.cuh, preprocess.cuh (the
 * CPU path runs the same functions). Pointers are device memory; each
 * launcher checks its arguments, queues on `stream` and returns once queued. */
#ifndef PIXAB_MAP_KERNELS_H
#define PIXAB_MAP_KERNELS_H

#include "pixab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* s (n) = class cls's softmax probability (softmax) or logit of each row of logits (n, classes). */
pixab_status map_class_scores_cuda(float *s, const float *logits, int n, int classes, int cls, int softmax,
                                   void *stream);
/* map (HW) = p from the scores (2 + 2 n_boxes HW) of a box batch (ablate.cuh layout). */
pixab_status map_pixab_reduce_cuda(float *map, const float *scores, int n_boxes, int HW, void *stream);
/* map (HW) = sum_k w[k] a[p, k]; a (HW, K), w (K) or NULL (all ones). */
pixab_status map_weighted_sum_cuda(float *map, const float *a, const float *w, int HW, int K, void *stream);
/* In place: ReLU, then min-max to [0, 1] (zeros when max == min); one block. */
pixab_status map_normalize_cuda(float *map, int n, void *stream);
/* ranges (K, 2) = min and max of each channel of a (H, W, K) upsampled to S x S (Score-CAM's masks). */
pixab_status map_mask_ranges_cuda(float *ranges, const float *a, int H, int W, int K, int S, void *stream);
/* out (out_h, out_w) = bilinear (half-pixel centres) resize of map (h, w), as pixab_map_upsample. */
pixab_status map_upsample_cuda(float *out, const float *map, int h, int w, int out_h, int out_w, void *stream);

#ifdef __cplusplus
}
#endif
#endif /* PIXAB_MAP_KERNELS_H */

/* cpu_ablate.h — the CPU backend's explanation-batch ops (backend.h, second
 * half), implemented in cpu_ablate.c; cpu_backend.c puts them in cpu_backend. */
#ifndef PIXAB_CPU_ABLATE_H
#define PIXAB_CPU_ABLATE_H

#include "backend.h"

pixab_status cpu_ablate_boxes(void *ctx, float *dst, const float *a, int H, int W, int K, int n_boxes,
                              const int *box_h, const int *box_w, int first, int count);
pixab_status cpu_ablate_boxes_pooled(void *ctx, float *dst, const float *a, const float *pooled, int H, int W, int K,
                                     int n_boxes, const int *box_h, const int *box_w, int first, int count);
pixab_status cpu_ablate_channels(void *ctx, float *dst, const float *a, int HW, int K, int first, int count);
pixab_status cpu_ablate_channel_logits(void *ctx, const graph *g, int fc, float *logits, const float *logits0,
                                       const float *a, int HW, int K, int first, int count);
pixab_status cpu_class_scores(void *ctx, float *s, const float *logits, int n, int classes, int cls, int softmax);
pixab_status cpu_pixab_reduce(void *ctx, float *map, const float *scores, int n_boxes, int HW);
pixab_status cpu_weighted_sum(void *ctx, float *map, const float *a, const float *w, int HW, int K);
pixab_status cpu_normalize(void *ctx, float *map, int n);

#endif

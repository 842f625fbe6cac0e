/* map.cuh — per-element logic of turning head outputs and raw class-activation
 * maps into the output map (DESIGN.md §4): the class score of a logit row
 * (softmax probability or the logit), ReLU, then min-max to [0,1] (all zeros
 * when max == min), and the weighted channel sum; shared by the CPU path and
 * the CUDA kernels (kernels/map_kernels.cu). */
#ifndef PIXAB_MAP_CUH
#define PIXAB_MAP_CUH

#include <math.h>

#include "pixab_hd.h"

/* S of class cls for one logit row (classes): the softmax probability
 * (max-shifted, summed in double) when softmax, else the logit. */
PIXAB_HD float map_class_score(const float *logits, int classes, int cls, int softmax) {
    if (!softmax) return logits[cls];
    float mx = logits[0];
    for (int k = 1; k < classes; k++) mx = logits[k] > mx ? logits[k] : mx;
    double sum = 0.0;
    for (int k = 0; k < classes; k++) sum += exp((double)logits[k] - mx);
    return (float)(exp((double)logits[cls] - mx) / sum);
}

/* sum_k w[k] a[k] over one pixel's K channels (w NULL: all ones), in double. */
PIXAB_HD float map_pixel_sum(const float *a, const float *w, int K) {
    double s = 0.0;
    for (int k = 0; k < K; k++) s += (double)(w ? w[k] : 1.0f) * a[k];
    return (float)s;
}

PIXAB_HD float map_relu(float v) { return v > 0.0f ? v : 0.0f; }

/* lo, hi: min and max of the ReLU'd map. */
PIXAB_HD float map_minmax(float v, float lo, float hi) {
    return hi > lo ? (map_relu(v) - lo) / (hi - lo) : 0.0f;
}

/* In place, serially: ReLU + min-max of map (n) (the CPU's loop; the CUDA
 * kernel reduces lo and hi in parallel, then applies map_minmax per element). */
PIXAB_HD void map_normalize(float *map, int n) {
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        float v = map_relu(map[i]);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    for (int i = 0; i < n; i++) map[i] = map_minmax(map[i], lo, hi);
}

#endif /* PIXAB_MAP_CUH */

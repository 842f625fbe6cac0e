/* backend.h — the interface every compute backend implements (CPU in
 * host/backends/cpu/: cpu_backend.c + cpu_ablate.c, CUDA in kernels/). The
 * engine owns the activation arena and calls run_op in graph order; a backend
 * never knows which method runs. Besides the network ops, a backend generates
 * the explanation batches in its own memory (ablated activations, pooled
 * features, channel-ablated logits), turns logit rows into class scores and
 * scores into maps: the per-element logic of those is kernels/element/
 * ablate.cuh and cam.cuh, the same code on every backend. */
#ifndef PIXAB_BACKEND_H
#define PIXAB_BACKEND_H

#include <stddef.h>

#include "graph.h"

typedef struct {
    const char *name;
    int host_memory;  /* 1: the backend's memory is host memory (the CPU): callers may write it directly */
    /* Get ready to run `g` on up to max_batch images: weights, workspaces. */
    pixab_status (*create)(const graph *g, int max_batch, int device, void **ctx);
    void (*destroy)(void *ctx);
    /* Memory the backend's ops can read and write. */
    pixab_status (*alloc)(void *ctx, size_t bytes, void **out);
    void (*free)(void *ctx, void *p);
    pixab_status (*upload)(void *ctx, void *dst, const void *src, size_t bytes);
    pixab_status (*download)(void *ctx, void *dst, const void *src, size_t bytes);
    /* Op `i` of g on n images: x is its whole src tensor (n, h, w, c), y its
     * whole dst tensor, of which the op writes channels [dst_c0, dst_c0 + c_out). */
    pixab_status (*run_op)(void *ctx, const graph *g, int i, int n, const float *x, float *y);
    /* Backward of op `i`: dx += (d op / d x)^T dy, given its forward input x and
     * output y. The op's slice of dy may be overwritten (ReLU masking): each
     * slice belongs to exactly one op. dx must be zeroed by the caller first. */
    pixab_status (*run_op_backward)(void *ctx, const graph *g, int i, int n, const float *x, const float *y,
                                    float *dx, float *dy);
    pixab_status (*zero)(void *ctx, void *p, size_t bytes);
    /* Copy within the backend's memory. */
    pixab_status (*copy)(void *ctx, void *dst, const void *src, size_t bytes);
    /* Free and total bytes of the backend's memory now; PIXAB_ERR_UNSUPPORTED
     * when it has no memory of its own to report (host memory: the CPU). */
    pixab_status (*memory_info)(void *ctx, size_t *free_bytes, size_t *total_bytes);
    /* Ops [first_op, n_ops) of g will run on up to `batch` images (a head
     * plan): size what they need now, so that a shortage is PIXAB_ERR_NOMEM
     * here, where the engine can retry with fewer, and not in the middle of
     * a run. The backend is unchanged when it fails. */
    pixab_status (*prepare)(void *ctx, const graph *g, int first_op, int batch);
    /* Math of the heavy ops (convolutions, GEMMs) from now on: a
     * pixab_precision; PIXAB_ERR_UNSUPPORTED when the backend lacks it. */
    pixab_status (*set_precision)(void *ctx, const graph *g, int precision);

    /* ---- explanation batches (all pointers: backend memory, except the
     * host arrays box_h, box_w (n_boxes)). a: one image's activation (H, W, K). */
    /* dst (count, H, W, K) = items [first, first + count) of the box ablation
     * batch of a (ablate.cuh: original, zero, then deletion / preservation per
     * box and anchor). */
    pixab_status (*ablate_boxes)(void *ctx, float *dst, const float *a, int H, int W, int K, int n_boxes,
                                 const int *box_h, const int *box_w, int first, int count);
    /* dst (count, K) = the global-average-pooled features of the same items,
     * from a's box sums; pooled (K) = GAP(a). */
    pixab_status (*ablate_boxes_pooled)(void *ctx, float *dst, const float *a, const float *pooled, int H, int W,
                                        int K, int n_boxes, const int *box_h, const int *box_w, int first, int count);
    /* dst (count, HW, K) = items [first, first + count) of the channel
     * ablation batch: item 0 = a, item 1 + k = a with channel k zeroed. */
    pixab_status (*ablate_channels)(void *ctx, float *dst, const float *a, int HW, int K, int first, int count);
    /* logits (count, classes) of the same items through a head that is GAP
     * then the FC op `fc` of g: item 0 = logits0 (classes), item 1 + k =
     * logits0 - W[:, k] mean_p a[p, k] (exact: the head is linear). */
    pixab_status (*ablate_channel_logits)(void *ctx, const graph *g, int fc, float *logits, const float *logits0,
                                          const float *a, int HW, int K, int first, int count);
    /* s (n) = score of class cls of each logit row (n, classes): the softmax
     * probability when softmax, else the logit. */
    pixab_status (*class_scores)(void *ctx, float *s, const float *logits, int n, int classes, int cls, int softmax);
    /* map (HW) = Pixab-CAM's p from the scores (2 + 2 n_boxes HW) of a box batch. */
    pixab_status (*pixab_reduce)(void *ctx, float *map, const float *scores, int n_boxes, int HW);
    /* map (HW) = sum_k w[k] a[p, k] (w (K); NULL: all ones). */
    pixab_status (*weighted_sum)(void *ctx, float *map, const float *a, const float *w, int HW, int K);
    /* In place: ReLU, then min-max to [0, 1] (all zeros when max == min). */
    pixab_status (*normalize)(void *ctx, float *map, int n);
} backend_ops;

extern const backend_ops cpu_backend;

#endif

/* backend.h — the interface every compute backend implements (CPU in
 * host/backends/cpu/, CUDA in kernels/). A backend owns memory and runs ops;
 * it never knows which method runs. The engine owns the activation arena and
 * runs a head — the ops after a target layer — as a list of backend_ops
 * through one dispatch (run): generator ops first (the explanation batch of
 * one kept activation, written straight into the head's input), the
 * network's own ops, then reduction ops (class scores, Pixab-CAM's reduction,
 * weighted channel sums, normalisation). The per-element logic of the
 * generators and reductions is kernels/element/ (ablate.cuh, score_mask.cuh,
 * map.cuh), the same code on every backend. supports_op says which ops a
 * backend can run, so that a head it cannot finish fails before it starts. */
#ifndef PIXAB_BACKEND_H
#define PIXAB_BACKEND_H

#include <stddef.h>

#include "graph.h"

/* The ops, and the fields of backend_op each one reads. Pointers are backend
 * memory except box_h and box_w (host arrays, n_boxes). a is one image's
 * activation (H, W, K); items [first, first + count) of a generated batch are
 * written to dst, item `first` at dst's start. */
typedef enum {
    /* op `index` of g on `count` images: src is its whole src tensor
     * (count, h, w, c) (src2 its src2 tensor, for the two-input ops), dst
     * its whole dst tensor, of which the op writes channels [dst_c0, dst_c0 + c_out). */
    BOP_NETWORK,
    /* ---- generators */
    /* dst (count, H, W, K): Pixab-CAM's box batch of a (ablate.cuh: original,
     * zero, then deletion / preservation per box and anchor; 2 + 2 n_boxes H W). */
    BOP_GEN_BOXES,
    /* dst (count, classes): the logits of the same items through a head that
     * is GAP then the FC op `index` of g (the fast path, ablate_box_logit):
     * src (classes) = the logits of a, pixel_logits (H W, classes) = that FC
     * op on each pixel of a alone. */
    BOP_GEN_BOX_LOGITS,
    /* dst (count, H W, K): item 0 = a, item 1 + k = a with channel k zeroed. */
    BOP_GEN_CHANNELS,
    /* dst (count, classes): the logits of the same items through a head that
     * is GAP then the FC op `index` of g: item 0 = src (the logits of a),
     * item 1 + k = src - W[:, k] mean_p a[p, k] (exact: the head is linear). */
    BOP_GEN_CHANNEL_LOGITS,
    /* dst (count, S, S, 3) with S = size: item 0 = zeros (the baseline input),
     * item 1 + i = src (the input image, (S, S, 3)) times channel channels[i]
     * of a, upsampled to S x S and min-max scaled with ranges[2 k], ranges[2 k + 1]
     * (a constant channel: zeros)
     * (Score-CAM, score_mask.cuh). channels: backend memory, ints. */
    BOP_GEN_MASKED_INPUTS,
    /* dst (S, S, 3) with S = pre->size: the network input of an 8-bit image
     * rgb (H, W, 3) (backend memory), resized and normalised as
     * pixab_image_preprocess does (preprocess.cuh). */
    BOP_PREPROCESS,
    /* ---- reductions */
    /* dst (K, 2) = min and max of each channel of a upsampled to S x S. */
    BOP_MASK_RANGES,
    /* dst (count) = the score of class cls of each logit row of src
     * (count, classes): the softmax probability when softmax, else the logit. */
    BOP_CLASS_SCORES,
    /* dst (H W) = Pixab-CAM's p from the scores src (2 + 2 n_boxes H W) of a box batch. */
    BOP_PIXAB_REDUCE,
    /* dst (H W) = sum_k w[k] a[p, k], w = src (K; NULL: all ones). */
    BOP_WEIGHTED_SUM,
    /* dst (count), in place: ReLU, then min-max to [0, 1] (all zeros when max == min). */
    BOP_NORMALIZE,
    /* ---- backward */
    /* Guided backpropagation's ReLU backward of op `index` of g (one with a
     * ReLU, graph_op_is_relu) on `count` images, in place: dst is its whole output gradient
     * tensor, src its whole forward output; in the op's channel slice an
     * element of dst stays only where it and src are both positive
     * (nn_guided_relu_mask), else it becomes 0. Run before the op's
     * run_op_backward, whose own mask (src > 0) then changes nothing. */
    BOP_GUIDED_RELU,
    BOP_COUNT
} bop_kind;

typedef struct {
    bop_kind kind;
    float *dst;
    const float *src;
    const float *src2;            /* NETWORK: the second input of OP_ADD, OP_MUL */
    const float *a;
    const float *pixel_logits;
    const float *ranges;
    const int *channels;
    int index;                    /* NETWORK: the op of g; GEN_BOX_LOGITS, GEN_CHANNEL_LOGITS: the FC op */
    int first, count;
    int H, W, K;
    int n_boxes;
    const int *box_h, *box_w;
    int classes, cls, softmax;
    int size;
    const unsigned char *rgb;
    const pixab_preproc *pre;     /* host memory */
} backend_op;

/* Staging slots of a backend's stage: the images of a batch in flight at once. */
#define BACKEND_STAGE_SLOTS 4

typedef struct {
    const char *name;
    int host_memory;  /* 1: the backend's memory is host memory (the CPU): callers may write it directly */
    /* Get ready to run `g` on up to max_batch images: weights, workspaces. */
    pixab_status (*create)(const graph *g, int max_batch, int device, void **ctx);
    void (*destroy)(void *ctx);
    /* Memory the backend's ops can read and write. */
    pixab_status (*alloc)(void *ctx, size_t bytes, void **out);
    void (*free)(void *ctx, void *p);
    /* Returns once the copy is done (src free to reuse); waits for the ops queued before it. */
    pixab_status (*upload)(void *ctx, void *dst, const void *src, size_t bytes);
    /* Host memory that upload reads fastest (page-locked on a GPU: copied by
     * DMA, without staging through the driver's buffers). */
    pixab_status (*host_alloc)(void *ctx, size_t bytes, void **out);
    void (*host_free)(void *ctx, void *p);
    pixab_status (*download)(void *ctx, void *dst, const void *src, size_t bytes);
    /* Staged uploads, for the host data that ops turn into inputs on the
     * backend (the 8-bit images of BOP_PREPROCESS); NULL on a backend whose
     * memory is host memory (ops read the host data where it is). stage
     * copies `bytes` (>= 1) of host src into staging slot `slot` (0 to
     * BACKEND_STAGE_SLOTS - 1): its host memory (page-locked on a GPU), then,
     * queued beside the ops (a GPU's copy stream), its backend memory, *dev.
     * It returns without waiting for that copy (src is free to reuse at
     * once); the ops run after it wait for it (on the device). The ops that
     * read *dev are those run before stage_release(slot) (a stage into a slot
     * not released releases it first); the next stage into the slot waits
     * for them (on the device) and for the slot's last copy (on the host)
     * before it overwrites either memory, so consecutive images fill
     * consecutive slots while earlier ones are still being copied and read. */
    pixab_status (*stage)(void *ctx, int slot, const void *src, size_t bytes, const void **dev);
    pixab_status (*stage_release)(void *ctx, int slot);
    /* Whether run can do ops of this kind (1) or not (0). */
    int (*supports_op)(void *ctx, bop_kind kind);
    /* Run one op (queued: the backend's download waits for it). */
    pixab_status (*run)(void *ctx, const graph *g, const backend_op *op);
    /* Backward of op `i`: dx += (d op / d x)^T dy, given its forward input x and
     * output y (two-input ops: x2 and dx2 likewise for src2; else unused,
     * may be NULL). The op's slice of dy may be overwritten (ReLU masking):
     * each slice belongs to exactly one op. dx must be zeroed by the caller
     * first; gradients of a tensor read by several ops add up. */
    pixab_status (*run_op_backward)(void *ctx, const graph *g, int i, int n, const float *x, const float *x2,
                                    const float *y, float *dx, float *dx2, float *dy);
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
} backend_ops;

extern const backend_ops cpu_backend;

#endif

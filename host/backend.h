/* backend.h — the interface every compute backend implements (CPU in
 * host/cpu_backend.c, CUDA in kernels/). The engine owns the activation arena
 * and calls run_op in graph order; a backend never knows which method runs. */
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
} backend_ops;

extern const backend_ops cpu_backend;

#endif

/* eltwise_kernels.h — launchers of the CUDA backend's elementwise kernels
 * (eltwise_kernels.cu): residual add (+ ReLU), multiply (same shape or a
 * per-channel scale), the activations of nn_act_kind and zero padding,
 * forward and backward; per-element logic in element/eltwise.cuh (the CPU
 * backend, host/backends/cpu/cpu_eltwise.c, runs the same functions). Only
 * built with PIXAB_WITH_CUDA. Device pointers; tensors are rows of channels
 * (NHWC pixels), a row of a slice `c` floats at a stride of `ld` (>= c). Each
 * launcher checks its arguments (PIXAB_ERR_ARG), queues on `stream` (a
 * cudaStream_t) and returns once queued. */
#ifndef PIXAB_ELTWISE_KERNELS_H
#define PIXAB_ELTWISE_KERNELS_H

#include <stddef.h>

#include "pixab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y = act(x) over rows x c (y (rows, ldy), x (rows, ldx)). */
pixab_status nn_act_cuda(float *y, int ldy, const float *x, int ldx, size_t rows, int c, int act, float a, float b,
                         void *stream);
/* dx += nn_act_backward(dy, x) over rows x c. */
pixab_status nn_act_backward_cuda(float *dx, int ldx, const float *dy, int ldy, const float *x, size_t rows, int c,
                                  int act, float a, float b, void *stream);
/* y = a + b, then ReLU when relu; all (rows, ld*). */
pixab_status nn_add_cuda(float *y, int ldy, const float *a, int lda, const float *b, int ldb, size_t rows, int c,
                         int relu, void *stream);
/* dx += dy over rows x c (the gradient of an add, for each input). */
pixab_status nn_accumulate_cuda(float *dx, int ldx, const float *dy, int ldy, size_t rows, int c, void *stream);
/* y = a * b: b (rows, ldb), or with per_channel one row per image of hw
 * rows (n = rows / hw images). */
pixab_status nn_mul_cuda(float *y, int ldy, const float *a, int lda, const float *b, int ldb, size_t rows, int c,
                         size_t hw, int per_channel, void *stream);
/* The backward of nn_mul_cuda: da += dy b; db += dy a (per_channel: summed
 * over each image's hw rows). da may be db (x * x): the two run in turn. */
pixab_status nn_mul_backward_cuda(float *da, int lda_, float *db, int ldb_, const float *dy, int ldy, const float *a,
                                  int lda, const float *b, int ldb, size_t rows, int c, size_t hw, int per_channel,
                                  void *stream);
/* y (n, oh, ow, ldy) = x (n, h, w, ldx) zero-padded by top, left (oh, ow give the rest). */
pixab_status nn_pad_cuda(float *y, int ldy, const float *x, int ldx, int n, int h, int w, int oh, int ow, int c,
                         int top, int left, void *stream);
/* dx (n, h, w, ldx) += dy's crop (dy (n, oh, ow, ldy)). */
pixab_status nn_pad_backward_cuda(float *dx, int ldx, const float *dy, int ldy, int n, int h, int w, int oh, int ow,
                                  int c, int top, int left, void *stream);

#ifdef __cplusplus
}
#endif
#endif /* PIXAB_ELTWISE_KERNELS_H */

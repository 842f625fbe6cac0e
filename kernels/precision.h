/* precision.h — launchers of the precision-conversion kernels (precision.cu)
 * for --precision fp16 / bf16, callable from C; only built with
 * PIXAB_WITH_CUDA. The heavy ops (convolutions, GEMMs) then read half-precision
 * copies of their inputs and weights and accumulate in fp32; the activations
 * stored between ops stay fp32, so only the ops' inputs are rounded (one cast
 * kernel per op into scratch) and the bias + ReLU pass reads the half result.
 * `bf16`: 1 = bfloat16, 0 = IEEE half. Pointers are device memory; each
 * launcher checks its arguments, queues on `stream` and returns once queued. */
#ifndef PIXAB_PRECISION_H
#define PIXAB_PRECISION_H

#include <stddef.h>

#include "pixab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* dst (rows, c) packed, 16-bit = round-to-nearest of src (rows, lds) (a channel slice when lds > c). */
pixab_status precision_cast_cuda(void *dst, int bf16, const float *src, int lds, size_t rows, int c, void *stream);
/* dst[r, k] = nn_bias_act(float(src[r, k]), bias ? bias[k] : 0, relu); src (rows, c) packed 16-bit,
 * dst (rows, ldd) fp32, bias (c) or NULL. */
pixab_status precision_bias_act_cuda(float *dst, int ldd, const void *src, int bf16, const float *bias, size_t rows,
                                     int c, int relu, void *stream);

#ifdef __cplusplus
}
#endif
#endif /* PIXAB_PRECISION_H */

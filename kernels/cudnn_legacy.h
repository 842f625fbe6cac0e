/* cudnn_legacy.h — every cuDNN call of the CUDA backend behind one small C
 * interface (implemented in cudnn_legacy.cu, the only file that includes
 * <cudnn.h>). cuDNN 9 marks the legacy convolution and pooling API deprecated
 * (REFERENCE.md, cuDNN 9); moving to the graph API means rewriting this file
 * and nothing else. Only built with PIXAB_WITH_CUDA.
 *
 * Tensors are NHWC float32 views: n images of (h, w, c) with a pixel stride
 * of ld floats (ld >= c: a channel slice of a wider tensor when ld > c).
 * Errors (legacy_dnn_status): PIXAB_ERR_UNSUPPORTED when cuDNN has no kernel
 * for this configuration (the caller may fall back), PIXAB_ERR_ARG when it
 * refuses the arguments (2xxx) or a view exceeds its int strides,
 * PIXAB_ERR_NOMEM for its allocation failures, PIXAB_ERR_DEVICE for the
 * environment (driver, CUDA runtime, architecture, missing sub-library) and
 * everything else; the last error names the status and carries
 * cudnnGetLastErrorString. */
#ifndef PIXAB_CUDNN_LEGACY_H
#define PIXAB_CUDNN_LEGACY_H

#include <stddef.h>

#include "pixab.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n, h, w, c; /* images, rows, columns, channels of the view */
    int ld;         /* floats between neighbouring pixels (>= c) */
} nhwc_view;

/* ---- statuses ---------------------------------------------------------------- */

/* The pixab_status of a cudnnStatus_t code: UNSUPPORTED only for "this
 * configuration has no kernel" (3000-3004, 3010-3012, 3014), not for the
 * environment failures filed under 3xxx too (3005 driver, 3006 CUDA runtime,
 * 3007 architecture, 3008 prerequisite, 3009 sub-library: DEVICE). */
pixab_status legacy_dnn_status(int code);
/* Record cuDNN status `code` from `what` as the last error (its name and
 * cuDNN's last message) and return legacy_dnn_status(code). Needs no device. */
pixab_status legacy_dnn_fail(int code, const char *what);

/* ---- the cuDNN handle ----------------------------------------------------- */

typedef struct legacy_dnn legacy_dnn;

/* A cuDNN handle bound to `stream` (a cudaStream_t) on the current device.
 * Refuses a runtime of another major version than the headers' (the legacy
 * API may be gone from cuDNN 10); logs (pixab_set_log) an older 9.x. */
pixab_status legacy_dnn_create(legacy_dnn **out, void *stream);
void legacy_dnn_destroy(legacy_dnn *d);
/* cudnnGetVersion() of the loaded library and CUDNN_VERSION of the headers
 * (9.19.0 = 91900). Needs no device. */
int legacy_dnn_runtime_version(void);
int legacy_dnn_header_version(void);

/* ---- convolution (weights (c_out, k_h, k_w, c_in), cross-correlation) ------- */

typedef struct legacy_conv legacy_conv;

/* Filter and convolution descriptors, math pinned to CUDNN_FMA_MATH (plain
 * fp32 FMA kernels: no TF32 tensor cores) until legacy_conv_set_precision.
 * `name` (the op's) goes into messages and the -v log. */
pixab_status legacy_conv_create(legacy_conv **out, const char *name, int c_out, int c_in, int k_h, int k_w, int s_h,
                                int s_w, int p_h, int p_w);
void legacy_conv_destroy(legacy_conv *c);
/* Math and forward data type for a pixab_precision: fp32 = CUDNN_FMA_MATH;
 * tf32 = fp32 data, CUDNN_TENSOR_OP_MATH; fp16 / bf16 = half-precision x, w
 * and y of the forward with fp32 accumulation (the backward keeps fp32 data,
 * on TF32 tensor cores). Call legacy_conv_plan again afterwards. */
pixab_status legacy_conv_set_precision(legacy_conv *c, int precision);
/* Choose the forward and backward-data algorithms for input x and a packed
 * output y (y.ld == y.c) by cuDNN's heuristics (..._v7): GEMM-family
 * algorithms only (no FFT, no Winograd: fp32 means fp32), deterministic ones
 * first, workspace <= ws_cap bytes. *ws_bytes: what the two need. A missing
 * backward algorithm is not an error here (legacy_conv_backward_data reports
 * it as UNSUPPORTED); a failed query is, with its real cause. Logs the
 * choice (pixab_set_log) when it is new. */
pixab_status legacy_conv_plan(legacy_dnn *d, legacy_conv *c, nhwc_view x, nhwc_view y, size_t ws_cap,
                              size_t *ws_bytes);
/* y = conv(x, w) (no bias, no activation); y packed; x.n == y.n <= the planned n.
 * x, w, y in the forward data type (float, or half / bfloat16 after
 * legacy_conv_set_precision to fp16 / bf16). */
pixab_status legacy_conv_forward(legacy_dnn *d, const legacy_conv *c, nhwc_view x, const void *xp, const void *w,
                                 nhwc_view y, void *yp, void *ws, size_t ws_bytes);
/* dx += conv_transpose(dy, w); dy packed (the shape of y), dx the view of x.
 * PIXAB_ERR_UNSUPPORTED when there is no algorithm: the caller falls back. */
pixab_status legacy_conv_backward_data(legacy_dnn *d, const legacy_conv *c, nhwc_view dy, const float *dyp,
                                       const float *w, nhwc_view dx, float *dxp, void *ws, size_t ws_bytes);

/* ---- pooling, forward only (floor output size; average counts the padding,
 * as torchvision; the backward is the backend's own kernel) ---------------- */

typedef struct legacy_pool legacy_pool;

pixab_status legacy_pool_create(legacy_pool **out, int is_max, int k_h, int k_w, int s_h, int s_w, int p_h, int p_w);
void legacy_pool_destroy(legacy_pool *p);
/* y = pool(x); y may be a channel slice (y.ld > y.c): should cuDNN refuse
 * that (UNSUPPORTED or ARG), the caller pools into a packed buffer instead. */
pixab_status legacy_pool_forward(legacy_dnn *d, const legacy_pool *p, nhwc_view x, const float *xp, nhwc_view y,
                                 float *yp);
#ifdef __cplusplus
}
#endif
#endif /* PIXAB_CUDNN_LEGACY_H */

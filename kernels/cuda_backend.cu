/* cuda_backend.cu — the CUDA backend (backend.h): cuDNN convolutions and
 * pools (through cudnn_legacy.h), cuBLAS for the FC layer, own kernels for
 * bias + ReLU, ReLU masks and global average pooling (nn_kernels.h). Same
 * layout and semantics as the CPU backend (host/cpu_backend.c), which is the
 * reference it is tested against (tests/gpu/gpu_parity.c).
 *
 * Layout: activations NHWC; an op writes the channel slice [dst_c0,
 * dst_c0 + c_out) of its dst tensor (n, h, w, C).
 * - Convolutions run into a packed (n, h, w, c_out) tensor: the dst tensor
 *   itself when the op fills all of it, else the scratch buffer; one kernel
 *   then adds the bias, applies the ReLU and writes the slice. This costs one
 *   extra pass over a branch's output but needs only cuDNN's most common
 *   configuration (packed NHWC fp32), not a strided output some algorithms
 *   refuse; the fused bias+ReLU pass is needed anyway, as
 *   cudnnConvolutionBiasActivationForward with an identity activation is
 *   limited to one algorithm.
 * - Pools write the slice directly through a strided descriptor; should cuDNN
 *   refuse that (NOT_SUPPORTED), the op falls back for good to a packed
 *   result in the scratch buffer plus a copy kernel.
 * - Backward: the ReLU mask (and, for a slice, the packing of dy into the
 *   scratch buffer) in one kernel, then cudnnConvolutionBackwardData with
 *   beta = 1 (dx += ...).
 * Algorithms: chosen per conv op once, when the backend is created, for
 * max_batch images; smaller batches reuse them. A larger batch (the engine's
 * head plans run more images than max_batch) re-plans every op once for the
 * new size. The cuDNN workspace is the largest any chosen algorithm needs.
 * Math: CUDNN_FMA_MATH on every convolution and CUBLAS_DEFAULT_MATH (no TF32
 * for SGEMM): fp32 means fp32. Everything is queued on the backend's stream;
 * upload and download wait for it. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda_backend.h"
#include "cuda_check.cuh"
#include "cudnn_legacy.h"
#include "device.h"
#include "nn_kernels.h"

/* Largest cuDNN workspace one convolution may ask for. */
#define CONV_WS_CAP ((size_t)256 << 20)

typedef struct {
    int device;
    cudaStream_t stream;
    legacy_dnn *dnn;
    cublasHandle_t blas;
    float *params;             /* (n_params) the graph's weights and biases */
    int n_ops;
    legacy_conv **conv;        /* (n_ops) descriptors and algorithms of conv ops, else NULL */
    legacy_pool **pool;        /* (n_ops) pooling descriptors of pool ops, else NULL */
    unsigned char *pool_packed; /* (n_ops) 1: cuDNN refused the strided slice, pool via scratch */
    int planned;               /* images the algorithms and buffers are sized for */
    void *ws;                  /* cuDNN workspace */
    size_t ws_bytes;
    float *scratch;            /* packed outputs of slice ops, packed dy (and y) of their backward */
    size_t scratch_floats;
} cuda_ctx;

static size_t image_floats(const tshape *s) { return (size_t)s->c * s->h * s->w; }

/* Whether op o writes only part of its dst tensor's channels. */
static int is_slice(const graph *g, const graph_op *o) {
    return o->dst_c0 != 0 || o->c_out != g->tensors[o->dst].c;
}

/* Images per cuDNN call for op o: its src and dst tensors within int strides. */
static int op_chunk(const graph *g, const graph_op *o, int n) {
    size_t a = image_floats(&g->tensors[o->src]), b = image_floats(&g->tensors[o->dst]);
    size_t per = a > b ? a : b, lim = (size_t)INT_MAX / (per ? per : 1);
    if (lim < 1) lim = 1;
    return (size_t)n < lim ? n : (int)lim;
}

/* The first c channels of tensor s for n images, and a packed tensor. */
static nhwc_view view_of(int n, const tshape *s, int c) { return nhwc_view{n, s->h, s->w, c, s->c}; }
static nhwc_view packed(int n, const tshape *s, int c) { return nhwc_view{n, s->h, s->w, c, c}; }

/* Make the stream idle, then free (cudaFree of memory in use is undefined). */
static void device_free(cuda_ctx *c, void *p) {
    if (!p) return;
    (void)cudaStreamSynchronize(c->stream);
    (void)cudaFree(p);
}

/* Choose algorithms for `batch` images and size the workspace and scratch
 * buffers for them (buffers only grow). */
static pixab_status plan(cuda_ctx *c, const graph *g, int batch) {
    size_t ws = 0, scratch = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const graph_op *o = &g->ops[i];
        const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
        const int nb = op_chunk(g, o, batch);
        const size_t out = (size_t)nb * ys->h * ys->w * o->c_out;
        if (o->kind == OP_CONV) {
            size_t need = 0;
            pixab_status s = legacy_conv_plan(c->dnn, c->conv[i], view_of(nb, xs, o->c_in), packed(nb, ys, o->c_out),
                                              CONV_WS_CAP, &need);
            if (s) return pixab_fail_context(s, "%s", o->name);
            if (need > ws) ws = need;
            if (is_slice(g, o) && out > scratch) scratch = out; /* packed output; packed dy backward */
        } else if ((o->kind == OP_MAXPOOL || o->kind == OP_AVGPOOL) && is_slice(g, o) && 2 * out > scratch) {
            scratch = 2 * out; /* the fallback: packed y, and dy next to it backward */
        }
    }
    if (ws > c->ws_bytes) {
        device_free(c, c->ws);
        c->ws = NULL, c->ws_bytes = 0;
        CUDA_CHECK(cudaMalloc(&c->ws, ws));
        c->ws_bytes = ws;
    }
    if (scratch > c->scratch_floats) {
        device_free(c, c->scratch);
        c->scratch = NULL, c->scratch_floats = 0;
        CUDA_CHECK(cudaMalloc((void **)&c->scratch, scratch * sizeof(float)));
        c->scratch_floats = scratch;
    }
    c->planned = batch;
    return PIXAB_OK;
}

/* Every entry point: this ctx's device current, and plans for n images. */
static pixab_status enter(cuda_ctx *c, const graph *g, int n) {
    CUDA_CHECK(cudaSetDevice(c->device));
    if (n < 1) return pixab_fail(PIXAB_ERR_ARG, "CUDA backend: batch of %d images", n);
    return n > c->planned ? plan(c, g, n) : PIXAB_OK;
}

// ----------------------------------------------------------------------------
// lifetime and memory

static void cuda_destroy(void *ctx) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    if (!c) return;
    (void)cudaSetDevice(c->device);
    if (c->stream) (void)cudaStreamSynchronize(c->stream);
    for (int i = 0; i < c->n_ops; i++) {
        if (c->conv) legacy_conv_destroy(c->conv[i]);
        if (c->pool) legacy_pool_destroy(c->pool[i]);
    }
    free(c->conv);
    free(c->pool);
    free(c->pool_packed);
    (void)cudaFree(c->ws);
    (void)cudaFree(c->scratch);
    (void)cudaFree(c->params);
    if (c->blas) (void)cublasDestroy(c->blas);
    legacy_dnn_destroy(c->dnn);
    if (c->stream) (void)cudaStreamDestroy(c->stream);
    free(c);
}

static pixab_status cuda_create(const graph *g, int max_batch, int device, void **out) {
    *out = NULL;
    if (max_batch < 1) return pixab_fail(PIXAB_ERR_ARG, "CUDA backend: batch size %d", max_batch);
    pixab_status s = cuda_select_device(device);
    if (s) return s;
    cuda_ctx *c = (cuda_ctx *)calloc(1, sizeof *c);
    if (!c) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    c->device = device;
    c->n_ops = g->n_ops;
    CUDA_CHECK_GOTO(cudaStreamCreate(&c->stream), s, fail);
    if ((s = legacy_dnn_create(&c->dnn, c->stream))) goto fail;
    CUBLAS_CHECK_GOTO(cublasCreate(&c->blas), s, fail);
    CUBLAS_CHECK_GOTO(cublasSetStream(c->blas, c->stream), s, fail);
    CUBLAS_CHECK_GOTO(cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH), s, fail); /* no TF32 for SGEMM */
    /* All weights in one allocation, uploaded once; op offsets index it as on the host. */
    CUDA_CHECK_GOTO(cudaMalloc((void **)&c->params, (g->n_params ? g->n_params : 1) * sizeof(float)), s, fail);
    if (g->n_params) {
        CUDA_CHECK_GOTO(cudaMemcpyAsync(c->params, g->params, g->n_params * sizeof(float), cudaMemcpyHostToDevice,
                                        c->stream),
                        s, fail);
        CUDA_CHECK_GOTO(cudaStreamSynchronize(c->stream), s, fail);
    }
    c->conv = (legacy_conv **)calloc((size_t)g->n_ops + 1, sizeof *c->conv);
    c->pool = (legacy_pool **)calloc((size_t)g->n_ops + 1, sizeof *c->pool);
    c->pool_packed = (unsigned char *)calloc((size_t)g->n_ops + 1, 1);
    if (!c->conv || !c->pool || !c->pool_packed) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < g->n_ops && !s; i++) {
        const graph_op *o = &g->ops[i];
        if (o->kind == OP_CONV)
            s = legacy_conv_create(&c->conv[i], o->c_out, o->c_in, o->k_h, o->k_w, o->s_h, o->s_w, o->p_h, o->p_w);
        else if (o->kind == OP_MAXPOOL || o->kind == OP_AVGPOOL)
            s = legacy_pool_create(&c->pool[i], o->kind == OP_MAXPOOL, o->k_h, o->k_w, o->s_h, o->s_w, o->p_h,
                                   o->p_w);
        if (s) s = pixab_fail_context(s, "%s", o->name);
    }
    if (s || (s = plan(c, g, max_batch))) goto fail;
    *out = c;
    return PIXAB_OK;
fail:
    cuda_destroy(c);
    return s;
}

static pixab_status cuda_alloc(void *ctx, size_t bytes, void **out) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    *out = NULL;
    CUDA_CHECK(cudaSetDevice(c->device));
    cudaError_t e = cudaMalloc(out, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        return pixab_fail(PIXAB_ERR_NOMEM, "out of GPU memory for %zu MiB of activations", bytes >> 20);
    }
    if (e != cudaSuccess) return CUDA_RECORD_(e, "cudaMalloc(out, bytes)");
    return PIXAB_OK;
}

static void cuda_free(void *ctx, void *p) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    (void)cudaSetDevice(c->device);
    device_free(c, p);
}

/* Both copies return once done: the host buffer is free to reuse. */
static pixab_status cuda_upload(void *ctx, void *dst, const void *src, size_t bytes) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    CUDA_CHECK(cudaSetDevice(c->device));
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
    return PIXAB_OK;
}

static pixab_status cuda_download(void *ctx, void *dst, const void *src, size_t bytes) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    CUDA_CHECK(cudaSetDevice(c->device));
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream));
    CUDA_CHECK(cudaStreamSynchronize(c->stream)); /* also reports errors of the ops before */
    return PIXAB_OK;
}

static pixab_status cuda_zero(void *ctx, void *p, size_t bytes) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    CUDA_CHECK(cudaSetDevice(c->device));
    CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, c->stream));
    return PIXAB_OK;
}

// ----------------------------------------------------------------------------
// forward

static pixab_status conv_forward(cuda_ctx *c, const graph *g, int i, int n, const float *x, float *y) {
    const graph_op *o = &g->ops[i];
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const float *w = c->params + o->w_off, *b = c->params + o->b_off;
    const int nb = op_chunk(g, o, n), slice = is_slice(g, o);
    pixab_status s = PIXAB_OK;
    for (int i0 = 0; i0 < n && !s; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        const float *xp = x + (size_t)i0 * image_floats(xs);
        float *yp = y + (size_t)i0 * image_floats(ys), *out = slice ? c->scratch : yp;
        if ((s = legacy_conv_forward(c->dnn, c->conv[i], view_of(m, xs, o->c_in), xp, w, packed(m, ys, o->c_out), out,
                                     c->ws, c->ws_bytes)))
            break;
        s = nn_bias_act_cuda(yp + o->dst_c0, ys->c, out, o->c_out, b, (size_t)m * ys->h * ys->w, o->c_out, o->relu,
                             c->stream);
    }
    return s;
}

static pixab_status pool_forward(cuda_ctx *c, const graph *g, int i, int n, const float *x, float *y) {
    const graph_op *o = &g->ops[i];
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const int nb = op_chunk(g, o, n);
    pixab_status s = PIXAB_OK;
    for (int i0 = 0; i0 < n && !s; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        const float *xp = x + (size_t)i0 * image_floats(xs);
        float *yp = y + (size_t)i0 * image_floats(ys);
        if (!c->pool_packed[i]) {
            s = legacy_pool_forward(c->dnn, c->pool[i], view_of(m, xs, o->c_in), xp, view_of(m, ys, o->c_out),
                                    yp + o->dst_c0);
            if (s != PIXAB_ERR_UNSUPPORTED || !is_slice(g, o)) continue;
            c->pool_packed[i] = 1; /* strided output refused: packed from now on */
            pixab_clear_error();
        }
        if ((s = legacy_pool_forward(c->dnn, c->pool[i], view_of(m, xs, o->c_in), xp, packed(m, ys, o->c_out),
                                     c->scratch)))
            break;
        s = nn_bias_act_cuda(yp + o->dst_c0, ys->c, c->scratch, o->c_out, NULL, (size_t)m * ys->h * ys->w, o->c_out,
                             0, c->stream);
    }
    return s;
}

/* FC on pooled pixels: y[i, c0 + k] = sum_j x[i, j] W[k, j] + b[k]. cuBLAS is
 * column-major: our row-major x (n, C_src) is X^T (c_in x n, ld C_src), W
 * (c_out, c_in) is W^T (c_in x c_out, ld c_in), and the slice of y is
 * Y^T (c_out x n, ld C_dst) = op_T(W^T) X^T. */
static pixab_status fc_forward(cuda_ctx *c, const graph *g, const graph_op *o, int n, const float *x, float *y) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    if (xs->h * xs->w != 1 || ys->h * ys->w != 1)
        return pixab_fail(PIXAB_ERR_SHAPE, "FC '%s' on a %dx%d input (expects pooled 1x1)", o->name, xs->h, xs->w);
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, o->c_out, n, o->c_in, &one, c->params + o->w_off,
                             o->c_in, x, xs->c, &zero, y + o->dst_c0, ys->c));
    return nn_bias_act_cuda(y + o->dst_c0, ys->c, y + o->dst_c0, ys->c, c->params + o->b_off, (size_t)n, o->c_out,
                            o->relu, c->stream);
}

static pixab_status cuda_run_op(void *ctx, const graph *g, int i, int n, const float *x, float *y) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    const graph_op *o = &g->ops[i];
    pixab_status s = enter(c, g, n);
    if (s) return s;
    switch (o->kind) {
    case OP_CONV: return conv_forward(c, g, i, n, x, y);
    case OP_MAXPOOL:
    case OP_AVGPOOL: return pool_forward(c, g, i, n, x, y);
    case OP_GAP: {
        const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
        return nn_gap_cuda(y + o->dst_c0, ys->c, x, xs->c, n, (size_t)xs->h * xs->w, o->c_in, c->stream);
    }
    case OP_FC: return fc_forward(c, g, o, n, x, y);
    }
    return pixab_fail(PIXAB_ERR_ARG, "op %d: unknown kind %d", i, (int)o->kind);
}

// ----------------------------------------------------------------------------
// backward (data gradients; weights stay fixed)

static pixab_status conv_backward(cuda_ctx *c, const graph *g, int i, int n, const float *y, float *dx, float *dy) {
    const graph_op *o = &g->ops[i];
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const int nb = op_chunk(g, o, n), slice = is_slice(g, o);
    pixab_status s = PIXAB_OK;
    for (int i0 = 0; i0 < n && !s; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        const size_t rows = (size_t)m * ys->h * ys->w;
        const float *yp = y + (size_t)i0 * image_floats(ys) + o->dst_c0;
        float *dyp = dy + (size_t)i0 * image_floats(ys) + o->dst_c0, *dz = slice ? c->scratch : dyp;
        /* dz = dy masked by y > 0, packed (in place when the op fills its tensor). */
        if (o->relu)
            s = nn_relu_mask_cuda(dz, o->c_out, dyp, ys->c, yp, ys->c, rows, o->c_out, c->stream);
        else if (slice)
            s = nn_bias_act_cuda(dz, o->c_out, dyp, ys->c, NULL, rows, o->c_out, 0, c->stream);
        if (s) break;
        s = legacy_conv_backward_data(c->dnn, c->conv[i], packed(m, ys, o->c_out), dz, c->params + o->w_off,
                                      view_of(m, xs, o->c_in), dx + (size_t)i0 * image_floats(xs), c->ws,
                                      c->ws_bytes);
    }
    return s;
}

static pixab_status pool_backward(cuda_ctx *c, const graph *g, int i, int n, const float *x, const float *y,
                                  float *dx, const float *dy) {
    const graph_op *o = &g->ops[i];
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const int nb = op_chunk(g, o, n);
    pixab_status s = PIXAB_OK;
    for (int i0 = 0; i0 < n && !s; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        const size_t rows = (size_t)m * ys->h * ys->w, out = rows * o->c_out;
        const float *xp = x + (size_t)i0 * image_floats(xs);
        const float *yp = y + (size_t)i0 * image_floats(ys) + o->dst_c0;
        const float *dyp = dy + (size_t)i0 * image_floats(ys) + o->dst_c0;
        float *dxp = dx + (size_t)i0 * image_floats(xs);
        if (!c->pool_packed[i]) {
            s = legacy_pool_backward(c->dnn, c->pool[i], view_of(m, ys, o->c_out), yp, dyp, view_of(m, xs, o->c_in),
                                     xp, dxp);
            if (s != PIXAB_ERR_UNSUPPORTED || !is_slice(g, o)) continue;
            c->pool_packed[i] = 1;
            pixab_clear_error();
        }
        /* Packed copies of the y and dy slices side by side in the scratch buffer. */
        float *py = c->scratch, *pdy = c->scratch + out;
        if ((s = nn_bias_act_cuda(py, o->c_out, yp, ys->c, NULL, rows, o->c_out, 0, c->stream)) ||
            (s = nn_bias_act_cuda(pdy, o->c_out, dyp, ys->c, NULL, rows, o->c_out, 0, c->stream)))
            break;
        s = legacy_pool_backward(c->dnn, c->pool[i], packed(m, ys, o->c_out), py, pdy, view_of(m, xs, o->c_in), xp,
                                 dxp);
    }
    return s;
}

/* dx[i, j] += sum_k dz[i, c0 + k] W[k, j]: column-major dX^T (c_in x n) += W_cm (c_in x c_out) dZ^T. */
static pixab_status fc_backward(cuda_ctx *c, const graph *g, const graph_op *o, int n, const float *y, float *dx,
                                float *dy) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    if (xs->h * xs->w != 1 || ys->h * ys->w != 1)
        return pixab_fail(PIXAB_ERR_SHAPE, "FC '%s' on a %dx%d input (expects pooled 1x1)", o->name, xs->h, xs->w);
    pixab_status s;
    if (o->relu && (s = nn_relu_mask_cuda(dy + o->dst_c0, ys->c, dy + o->dst_c0, ys->c, y + o->dst_c0, ys->c,
                                          (size_t)n, o->c_out, c->stream)))
        return s;
    const float one = 1.0f;
    CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, o->c_in, n, o->c_out, &one, c->params + o->w_off,
                             o->c_in, dy + o->dst_c0, ys->c, &one, dx, xs->c));
    return PIXAB_OK;
}

static pixab_status cuda_run_op_backward(void *ctx, const graph *g, int i, int n, const float *x, const float *y,
                                         float *dx, float *dy) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    const graph_op *o = &g->ops[i];
    pixab_status s = enter(c, g, n);
    if (s) return s;
    switch (o->kind) {
    case OP_CONV: return conv_backward(c, g, i, n, y, dx, dy);
    case OP_MAXPOOL:
    case OP_AVGPOOL: return pool_backward(c, g, i, n, x, y, dx, dy);
    case OP_GAP: {
        const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
        return nn_gap_backward_cuda(dx, xs->c, dy + o->dst_c0, ys->c, n, (size_t)xs->h * xs->w, o->c_in, c->stream);
    }
    case OP_FC: return fc_backward(c, g, o, n, y, dx, dy);
    }
    return pixab_fail(PIXAB_ERR_ARG, "op %d: unknown kind %d", i, (int)o->kind);
}

// ----------------------------------------------------------------------------

extern "C" void cuda_backend_versions(int *cudnn_runtime, int *cudnn_headers, int *cublas_runtime) {
    int major = 0, minor = 0, patch = 0;
    *cudnn_runtime = legacy_dnn_runtime_version();
    *cudnn_headers = legacy_dnn_header_version();
    if (cublasGetProperty(MAJOR_VERSION, &major) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(MINOR_VERSION, &minor) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(PATCH_LEVEL, &patch) != CUBLAS_STATUS_SUCCESS)
        major = minor = patch = 0;
    *cublas_runtime = major * 10000 + minor * 100 + patch;
}

/* Filled by name, not by position (C++17 has no designated initializers), so
 * fields added to backend.h start zeroed here. */
static backend_ops cuda_backend_make(void) {
    backend_ops o;
    memset(&o, 0, sizeof o);
    o.name = "cuda";
    o.host_memory = 0; /* device memory: callers go through upload / download */
    o.create = cuda_create;
    o.destroy = cuda_destroy;
    o.alloc = cuda_alloc;
    o.free = cuda_free;
    o.upload = cuda_upload;
    o.download = cuda_download;
    o.run_op = cuda_run_op;
    o.run_op_backward = cuda_run_op_backward;
    o.zero = cuda_zero;
    return o;
}

extern "C" const backend_ops cuda_backend = cuda_backend_make();

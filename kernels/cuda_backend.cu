/* cuda_backend.cu — the CUDA backend (backend.h): cuDNN convolutions and
 * pool forwards (through cudnn_legacy.h), cuBLAS for the FC layer, own
 * kernels for bias + ReLU, ReLU masks, global average pooling, the pools'
 * backward and a direct convolution backward-data (nn_kernels.h); grouped,
 * depthwise, dilated or asymmetrically padded convolutions and ceil-mode,
 * asymmetric or pad-excluding pools run entirely in the own direct kernels
 * (fp32 at every precision); the elementwise ops (add, mul, activations,
 * zero padding) in eltwise_kernels.h; kernels for the
 * generator and reduction ops of a head (generate_kernels.h, map_kernels.h)
 * and for the 16-bit precisions (precision.h). One dispatch (cuda_run) runs
 * every backend_op. Same layout and semantics as the CPU backend
 * (host/backends/cpu/cpu_backend.c), which is the reference it is tested
 * against (tests/gpu/gpu_parity.c).
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
 *   refuse that (no kernel, or bad parameter), the op falls back for good to
 *   a packed result in the scratch buffer plus a copy kernel.
 * - Backward: the ReLU mask (and, for a slice, the packing of dy into the
 *   scratch buffer) in one kernel, then cudnnConvolutionBackwardData with
 *   beta = 1 (dx += ...); where cuDNN has no backward-data algorithm or
 *   refuses the call (NHWC fp32 with 3 input channels is the likeliest case)
 *   the direct kernel, for that op from then on. Pools' backward: always the own gather kernel
 *   (first maximum of a window, as PyTorch and the CPU; no atomics).
 * Planning: each op's algorithms and buffers are sized for the largest batch
 * it has been asked to run (op_batch): at create for max_batch, then for the
 * ops of a head plan when the engine makes one (prepare), else when an op
 * first runs on more images. Buffers only grow, the new one allocated before
 * the old is freed; an allocation failure is PIXAB_ERR_NOMEM with the CUDA
 * error cleared and the backend as it was, so the engine can retry smaller.
 * Every device allocation goes through device_alloc, where
 * cuda_backend_fail_alloc injects failures for the parity suite.
 * Math (set_precision): fp32 (the default) = CUDNN_FMA_MATH on every
 * convolution and CUBLAS_DEFAULT_MATH (no TF32 for SGEMM): fp32 means fp32.
 * tf32 = TF32 tensor cores for both (CUDNN_TENSOR_OP_MATH,
 * CUBLAS_TF32_TENSOR_OP_MATH). fp16 / bf16 = the forward convolutions and the
 * FC GEMM read 16-bit copies of their inputs (one cast kernel into lp_x) and
 * of the weights (params_lp, converted once) and accumulate in fp32; their
 * 16-bit results (lp_y) go through the bias + ReLU pass into the fp32
 * activation tensors, so activations stored between ops stay fp32. A
 * convolution cuDNN has no 16-bit algorithm for (e.g. 3 input channels) runs
 * in tf32 instead (logged). The backward pass keeps fp32 data (TF32 math
 * below fp32). Diagnostics (algorithms, fallbacks) go to pixab_log (-v).
 * Everything is queued on the backend's stream; upload and download wait for
 * it. Staged uploads (cuda_stage: the 8-bit images that BOP_PREPROCESS reads)
 * run on a second stream, copy_stream, ordered against the first by events
 * only, so that an image's copy overlaps the ops queued before it and the
 * host's staging of the next image ("staged uploads" below). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "generate_kernels.h"
#include "map_kernels.h"
#include "cuda_backend.h"
#include "cuda_check.cuh"
#include "cudnn_legacy.h"
#include "cuda_device.h"
#include "eltwise_kernels.h"
#include "nn_kernels.h"
#include "precision.h"
#include "preprocess.h"

/* Largest cuDNN workspace one convolution may ask for. */
#define CONV_WS_CAP ((size_t)256 << 20)

/* A staging slot of cuda_stage: cap bytes of page-locked host memory and as
 * many of device memory. copied: recorded on copy_stream after the slot's
 * last copy (host memory free again once it completes); released: recorded
 * on the compute stream after the last op that reads the device memory
 * (copy_stream waits for it before the next copy). */
typedef struct {
    void *host, *dev;
    size_t cap;
    cudaEvent_t copied, released;
    int pending;               /* staged, not yet released */
} stage_slot;

typedef struct {
    int device;
    cudaStream_t stream;
    cudaStream_t copy_stream;  /* staged uploads, beside `stream` */
    stage_slot slots[BACKEND_STAGE_SLOTS];
    legacy_dnn *dnn;
    cublasHandle_t blas;
    float *params;             /* (n_params) the graph's weights and biases */
    int n_ops;
    legacy_conv **conv;        /* (n_ops) descriptors and algorithms of conv ops, else NULL */
    legacy_pool **pool;        /* (n_ops) pooling descriptors of pool ops, else NULL */
    unsigned char *pool_packed; /* (n_ops) 1: cuDNN refused the strided slice, pool via scratch */
    unsigned char *conv_direct; /* (n_ops) 1: no cuDNN backward-data algorithm, the direct kernel */
    int *op_batch;             /* (n_ops) images op i's algorithms and buffers are sized for */
    void *ws;                  /* cuDNN workspace */
    size_t ws_bytes;
    void *scratch;             /* packed outputs of slice ops, packed dy of their backward */
    size_t scratch_bytes;
    int precision;             /* pixab_precision of the forward's convolutions and GEMMs */
    void *params_lp;           /* (n_params) 16-bit copy of params at fp16 / bf16, else NULL */
    unsigned char *conv_lp;    /* (n_ops) 1: this conv's forward runs on 16-bit data */
    void *lp_x, *lp_y;         /* 16-bit scratch: a conv's or the FC's input, a conv's output */
    size_t lp_x_bytes, lp_y_bytes;
} cuda_ctx;

static int is_lp(const cuda_ctx *c) { return c->precision == PIXAB_PRECISION_FP16 || c->precision == PIXAB_PRECISION_BF16; }

/* Element `off` of the 16-bit weights. */
static const void *lp_param(const cuda_ctx *c, size_t off) { return (const char *)c->params_lp + 2 * off; }

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

static nn_window window_of(const graph_op *o) {
    return nn_window{o->k_h, o->k_w, o->s_h, o->s_w, o->p_h, o->p_w, o->e_h, o->e_w, o->d_h, o->d_w, o->exclude_pad};
}

/* A pool cuDNN can run: floor mode, symmetric pads, the padding counted. */
static int pool_is_plain(const graph_op *o) { return !o->ceil_mode && !o->e_h && !o->e_w && !o->exclude_pad; }

// ----------------------------------------------------------------------------
// device memory

/* cuda_backend_fail_alloc: allocations left until the injected failure (0:
 * none), and the failures injected since it was last called. */
static int alloc_countdown, alloc_injected;

extern "C" int cuda_backend_fail_alloc(int nth) {
    const int fired = alloc_injected;
    alloc_countdown = nth > 0 ? nth : 0;
    alloc_injected = 0;
    return fired;
}

/* Every device allocation of the backend. Out of memory (real or injected)
 * is PIXAB_ERR_NOMEM, with the CUDA error cleared so that it does not
 * resurface at the next launch check. */
static pixab_status device_alloc(void **p, size_t bytes, const char *what) {
    *p = NULL;
    const double mib = (double)bytes / (1 << 20);
    if (alloc_countdown > 0 && --alloc_countdown == 0 && ++alloc_injected)
        return pixab_fail(PIXAB_ERR_NOMEM, "out of GPU memory for %.1f MiB of %s (injected failure)", mib, what);
    cudaError_t e = cudaMalloc(p, bytes ? bytes : 1);
    if (e == cudaSuccess) return PIXAB_OK;
    *p = NULL;
    (void)cudaGetLastError();
    if (e == cudaErrorMemoryAllocation)
        return pixab_fail(PIXAB_ERR_NOMEM, "out of GPU memory for %.1f MiB of %s", mib, what);
    return CUDA_RECORD_(e, "cudaMalloc");
}

/* Make the stream idle, then free (cudaFree of memory in use is undefined).
 * copy_stream needs no wait here: it only touches the staging slots, which
 * stage_grow and cuda_destroy free after waiting for it. */
static void device_free(cuda_ctx *c, void *p) {
    if (!p) return;
    (void)cudaStreamSynchronize(c->stream);
    (void)cudaFree(p);
}

/* A device buffer of at least `bytes` (contents dropped): the new one first,
 * so a failure leaves the old one in place. */
static pixab_status grow(cuda_ctx *c, void **buf, size_t *have, size_t bytes, const char *what) {
    if (bytes <= *have) return PIXAB_OK;
    void *p;
    pixab_status s = device_alloc(&p, bytes, what);
    if (s) return s;
    device_free(c, *buf);
    *buf = p, *have = bytes;
    return PIXAB_OK;
}

// ----------------------------------------------------------------------------
// planning

typedef struct {
    size_t ws, scratch, lp_x, lp_y; /* bytes */
} buffer_needs;

static void need(size_t *have, size_t bytes) { *have = bytes > *have ? bytes : *have; }

/* Choose op i's algorithms for `batch` images and add what its buffers need. */
static pixab_status plan_op(cuda_ctx *c, const graph *g, int i, int batch, buffer_needs *nd) {
    const graph_op *o = &g->ops[i];
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const int nb = op_chunk(g, o, batch);
    const size_t out = (size_t)nb * ys->h * ys->w * o->c_out, in = (size_t)nb * xs->h * xs->w * o->c_in;
    if (o->kind == OP_CONV && !c->conv[i]) { /* direct kernels: a packed dz for a slice's backward */
        if (is_slice(g, o)) need(&nd->scratch, out * sizeof(float));
    } else if (o->kind == OP_CONV) {
        size_t ws = 0;
        nhwc_view x = c->conv_lp[i] ? packed(nb, xs, o->c_in) : view_of(nb, xs, o->c_in);
        pixab_status s = legacy_conv_plan(c->dnn, c->conv[i], x, packed(nb, ys, o->c_out), CONV_WS_CAP, &ws);
        if (s == PIXAB_ERR_UNSUPPORTED && c->conv_lp[i]) { /* no 16-bit kernel for this shape: tf32 */
            pixab_log("%s: %s; this convolution runs in tf32", o->name, pixab_last_error());
            pixab_clear_error();
            c->conv_lp[i] = 0;
            if (!(s = legacy_conv_set_precision(c->conv[i], PIXAB_PRECISION_TF32)))
                s = legacy_conv_plan(c->dnn, c->conv[i], view_of(nb, xs, o->c_in), packed(nb, ys, o->c_out),
                                     CONV_WS_CAP, &ws);
        }
        if (s) return pixab_fail_context(s, "%s", o->name);
        need(&nd->ws, ws);
        if (is_slice(g, o)) need(&nd->scratch, out * sizeof(float)); /* packed y; packed dy backward */
        if (c->conv_lp[i]) need(&nd->lp_x, in * 2), need(&nd->lp_y, out * 2);
    } else if (o->kind == OP_FC && is_lp(c)) {
        need(&nd->lp_x, in * 2);
    } else if ((o->kind == OP_MAXPOOL || o->kind == OP_AVGPOOL) && is_slice(g, o)) {
        need(&nd->scratch, out * sizeof(float)); /* the packed fallback's y */
    }
    return PIXAB_OK;
}

/* Plan ops [first, end) for `batch` images: those planned for fewer (all of
 * them with `again`, each for the larger of its batch and `batch`: after a
 * precision change). On failure no op counts as planned for more than its
 * buffers hold: the touched ones are planned again for their old batch. */
static pixab_status plan_ops(cuda_ctx *c, const graph *g, int first, int end, int batch, int again) {
    buffer_needs nd = {c->ws_bytes, c->scratch_bytes, c->lp_x_bytes, c->lp_y_bytes};
    pixab_status s = PIXAB_OK;
    int i = first;
    for (; i < end && !s; i++) {
        const int target = batch > c->op_batch[i] ? batch : c->op_batch[i];
        if (target > 0 && (again || c->op_batch[i] < batch)) s = plan_op(c, g, i, target, &nd);
    }
    if (!s && !(s = grow(c, &c->ws, &c->ws_bytes, nd.ws, "cuDNN workspace")) &&
        !(s = grow(c, &c->scratch, &c->scratch_bytes, nd.scratch, "packed branch outputs")) &&
        !(s = grow(c, &c->lp_x, &c->lp_x_bytes, nd.lp_x, "16-bit inputs")) &&
        !(s = grow(c, &c->lp_y, &c->lp_y_bytes, nd.lp_y, "16-bit outputs"))) {
        for (int k = first; k < end; k++)
            if (c->op_batch[k] < batch) c->op_batch[k] = batch;
        return PIXAB_OK;
    }
    buffer_needs ignored = {0, 0, 0, 0};
    for (int k = first; k < i; k++) /* restore: algorithms for what was planned before */
        if (c->op_batch[k] > 0) (void)plan_op(c, g, k, c->op_batch[k], &ignored);
    return s;
}

/* Every entry point: this ctx's device current. */
static pixab_status enter(cuda_ctx *c) {
    CUDA_CHECK(cudaSetDevice(c->device));
    return PIXAB_OK;
}

/* An op's entry point: also plans op i for n images when it has not been. */
static pixab_status enter_op(cuda_ctx *c, const graph *g, int i, int n) {
    pixab_status s = enter(c);
    if (s) return s;
    if (n < 1) return pixab_fail(PIXAB_ERR_ARG, "CUDA backend: batch of %d images", n);
    return n > c->op_batch[i] ? plan_ops(c, g, i, i + 1, n, 0) : PIXAB_OK;
}

static pixab_status cuda_memory_info(void *ctx, size_t *free_bytes, size_t *total_bytes) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    return cuda_device_memory(c->device, free_bytes, total_bytes);
}

static pixab_status cuda_prepare(void *ctx, const graph *g, int first_op, int batch) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    pixab_status s = enter(c);
    if (s) return s;
    if (batch < 1 || first_op < 0 || first_op > g->n_ops)
        return pixab_fail(PIXAB_ERR_ARG, "CUDA backend: prepare ops from %d for %d images", first_op, batch);
    return plan_ops(c, g, first_op, g->n_ops, batch, 0);
}

// ----------------------------------------------------------------------------
// lifetime and memory

static void cuda_destroy(void *ctx) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    if (!c) return;
    (void)cudaSetDevice(c->device);
    /* Copies in flight (an engine torn down after a failed batch) first. */
    if (c->copy_stream) (void)cudaStreamSynchronize(c->copy_stream);
    if (c->stream) (void)cudaStreamSynchronize(c->stream);
    for (int i = 0; i < BACKEND_STAGE_SLOTS; i++) {
        stage_slot *t = &c->slots[i];
        if (t->host) (void)cudaFreeHost(t->host);
        (void)cudaFree(t->dev);
        if (t->copied) (void)cudaEventDestroy(t->copied);
        if (t->released) (void)cudaEventDestroy(t->released);
    }
    for (int i = 0; i < c->n_ops; i++) {
        if (c->conv) legacy_conv_destroy(c->conv[i]);
        if (c->pool) legacy_pool_destroy(c->pool[i]);
    }
    free(c->conv);
    free(c->pool);
    free(c->pool_packed);
    free(c->conv_direct);
    free(c->conv_lp);
    free(c->op_batch);
    (void)cudaFree(c->params_lp);
    (void)cudaFree(c->lp_x);
    (void)cudaFree(c->lp_y);
    (void)cudaFree(c->ws);
    (void)cudaFree(c->scratch);
    (void)cudaFree(c->params);
    if (c->blas) (void)cublasDestroy(c->blas);
    legacy_dnn_destroy(c->dnn);
    if (c->copy_stream) (void)cudaStreamDestroy(c->copy_stream);
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
    CUDA_CHECK_GOTO(cudaStreamCreate(&c->copy_stream), s, fail);
    for (int i = 0; i < BACKEND_STAGE_SLOTS; i++) {
        CUDA_CHECK_GOTO(cudaEventCreateWithFlags(&c->slots[i].copied, cudaEventDisableTiming), s, fail);
        CUDA_CHECK_GOTO(cudaEventCreateWithFlags(&c->slots[i].released, cudaEventDisableTiming), s, fail);
    }
    if ((s = legacy_dnn_create(&c->dnn, c->stream))) goto fail;
    CUBLAS_CHECK_GOTO(cublasCreate(&c->blas), s, fail);
    CUBLAS_CHECK_GOTO(cublasSetStream(c->blas, c->stream), s, fail);
    CUBLAS_CHECK_GOTO(cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH), s, fail); /* no TF32 for SGEMM */
    /* All weights in one allocation, uploaded once; op offsets index it as on
     * the host (each GRAPH_PARAM_ALIGN-aligned: 512 bytes). */
    if ((s = device_alloc((void **)&c->params, (g->n_params ? g->n_params : 1) * sizeof(float), "weights"))) goto fail;
    if (g->n_params) {
        CUDA_CHECK_GOTO(cudaMemcpyAsync(c->params, g->params, g->n_params * sizeof(float), cudaMemcpyHostToDevice,
                                        c->stream),
                        s, fail);
        CUDA_CHECK_GOTO(cudaStreamSynchronize(c->stream), s, fail);
    }
    c->conv = (legacy_conv **)calloc((size_t)g->n_ops + 1, sizeof *c->conv);
    c->pool = (legacy_pool **)calloc((size_t)g->n_ops + 1, sizeof *c->pool);
    c->pool_packed = (unsigned char *)calloc((size_t)g->n_ops + 1, 1);
    c->conv_direct = (unsigned char *)calloc((size_t)g->n_ops + 1, 1);
    c->conv_lp = (unsigned char *)calloc((size_t)g->n_ops + 1, 1);
    c->op_batch = (int *)calloc((size_t)g->n_ops + 1, sizeof *c->op_batch);
    if (!c->conv || !c->pool || !c->pool_packed || !c->conv_direct || !c->conv_lp || !c->op_batch) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < g->n_ops && !s; i++) {
        const graph_op *o = &g->ops[i];
        if (o->kind == OP_CONV && !graph_conv_is_general(o))
            s = legacy_conv_create(&c->conv[i], o->name, o->c_out, o->c_in, o->k_h, o->k_w, o->s_h, o->s_w, o->p_h,
                                   o->p_w);
        else if ((o->kind == OP_MAXPOOL || o->kind == OP_AVGPOOL) && pool_is_plain(o))
            s = legacy_pool_create(&c->pool[i], o->kind == OP_MAXPOOL, o->k_h, o->k_w, o->s_h, o->s_w, o->p_h,
                                   o->p_w);
        if (s) s = pixab_fail_context(s, "%s", o->name);
    }
    if (s || (s = plan_ops(c, g, 0, g->n_ops, max_batch, 0))) goto fail;
    *out = c;
    return PIXAB_OK;
fail:
    cuda_destroy(c);
    return s;
}

static pixab_status cuda_alloc(void *ctx, size_t bytes, void **out) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    *out = NULL;
    pixab_status s = enter(c);
    return s ? s : device_alloc(out, bytes, "activations");
}

static void cuda_free(void *ctx, void *p) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    (void)cudaSetDevice(c->device);
    device_free(c, p);
}

/* Page-locked host memory (cudaHostAlloc): uploads from it are DMA at the
 * link's full speed, where pageable memory is staged by the driver. A
 * failure is PIXAB_ERR_NOMEM with the CUDA error cleared. */
static pixab_status pinned_alloc(void **out, size_t bytes, const char *what) {
    if (cudaHostAlloc(out, bytes ? bytes : 1, cudaHostAllocPortable) != cudaSuccess) {
        (void)cudaGetLastError();
        *out = NULL;
        return pixab_fail(PIXAB_ERR_NOMEM, "out of page-locked host memory for %.1f MiB of %s",
                          (double)bytes / (1 << 20), what);
    }
    return PIXAB_OK;
}

static pixab_status cuda_host_alloc(void *ctx, size_t bytes, void **out) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    *out = NULL;
    CUDA_CHECK(cudaSetDevice(c->device));
    return pinned_alloc(out, bytes, "inputs");
}

static void cuda_host_free(void *, void *p) { (void)cudaFreeHost(p); }

/* Both copies return once done: the host buffer is free to reuse. */
static pixab_status cuda_upload(void *ctx, void *dst, const void *src, size_t bytes) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    CUDA_CHECK(cudaSetDevice(c->device));
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
    CUDA_CHECK(cudaStreamSynchronize(c->stream));
    return PIXAB_OK;
}

// ----------------------------------------------------------------------------
// staged uploads
//
// Per image (cuda_stage, then the engine's preprocessing op, then
// cuda_stage_release), with t its slot:
//   host:        wait t.copied; memcpy src -> t.host
//   copy_stream: wait t.released; t.host -> t.dev; record t.copied
//   stream:      wait t.copied; (the op reads t.dev); record t.released
// Why nothing is overwritten while in use: t.host is written only by the
// host, after t.copied (the copy that read it) has completed; t.dev is
// written only by copy_stream, queued behind t.released, i.e. behind every op
// queued before the slot's release (and a stage into an unreleased slot
// releases it first); an op reads t.dev only after the compute stream's wait
// for t.copied (the copy that filled it, as events are examined at the time
// of the wait); memory is freed or regrown only after both events, and at
// teardown after both streams, have drained. Events not yet recorded count as
// complete, so a fresh slot waits for nothing. Nothing waits on the host per
// image unless a slot comes round again while its copy still runs.

static pixab_status check_slot(int slot) {
    return slot >= 0 && slot < BACKEND_STAGE_SLOTS
               ? PIXAB_OK
               : pixab_fail(PIXAB_ERR_ARG, "CUDA backend: staging slot %d of %d", slot, BACKEND_STAGE_SLOTS);
}

static pixab_status cuda_stage_release(void *ctx, int slot) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    pixab_status s = check_slot(slot);
    if (s || (s = enter(c))) return s;
    CUDA_CHECK(cudaEventRecord(c->slots[slot].released, c->stream));
    c->slots[slot].pending = 0;
    return PIXAB_OK;
}

/* Slot t with room for `bytes` (a quarter more, so that a run of growing
 * images regrows it rarely). Its old memory is freed once unused: its last
 * copy done (the caller waited for t->copied) and the ops that read it done
 * (t->released). On failure the slot holds nothing (cap 0). */
static pixab_status stage_grow(stage_slot *t, size_t bytes) {
    CUDA_CHECK(cudaEventSynchronize(t->released));
    const cudaError_t eh = t->host ? cudaFreeHost(t->host) : cudaSuccess, ed = cudaFree(t->dev);
    t->host = t->dev = NULL, t->cap = 0;
    if (eh != cudaSuccess) return CUDA_RECORD_(eh, "cudaFreeHost(t->host)");
    if (ed != cudaSuccess) return CUDA_RECORD_(ed, "cudaFree(t->dev)");
    const size_t cap = bytes > SIZE_MAX / 2 ? bytes : bytes + bytes / 4;
    pixab_status s = device_alloc(&t->dev, cap, "staged images");
    if (!s && (s = pinned_alloc(&t->host, cap, "staged images"))) {
        (void)cudaFree(t->dev);
        t->dev = NULL;
    }
    if (!s) t->cap = cap;
    return s;
}

static pixab_status cuda_stage(void *ctx, int slot, const void *src, size_t bytes, const void **dev) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    *dev = NULL;
    pixab_status s = check_slot(slot);
    if (!s && (!src || !bytes))
        s = pixab_fail(PIXAB_ERR_ARG, "CUDA backend: staging %zu bytes%s", bytes, src ? "" : " from NULL");
    if (s || (s = enter(c))) return s;
    stage_slot *t = &c->slots[slot];
    if (t->pending && (s = cuda_stage_release(ctx, slot))) return s;
    CUDA_CHECK(cudaEventSynchronize(t->copied)); /* t->host is read by its last copy until then */
    if (bytes > t->cap && (s = stage_grow(t, bytes))) return s;
    memcpy(t->host, src, bytes);
    CUDA_CHECK(cudaStreamWaitEvent(c->copy_stream, t->released, 0));
    CUDA_CHECK(cudaMemcpyAsync(t->dev, t->host, bytes, cudaMemcpyHostToDevice, c->copy_stream));
    /* From here the copy is queued: should recording or waiting fail, wait
     * for it on the host, so that no later stage rewrites t->host under it. */
    cudaError_t e = cudaEventRecord(t->copied, c->copy_stream);
    const char *call = "cudaEventRecord(t->copied, c->copy_stream)";
    if (e == cudaSuccess) {
        e = cudaStreamWaitEvent(c->stream, t->copied, 0);
        call = "cudaStreamWaitEvent(c->stream, t->copied, 0)";
    }
    if (e != cudaSuccess) {
        (void)cudaStreamSynchronize(c->copy_stream);
        return CUDA_RECORD_(e, call);
    }
    t->pending = 1;
    *dev = t->dev;
    return PIXAB_OK;
}

static pixab_status cuda_download(void *ctx, void *dst, const void *src, size_t bytes) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    CUDA_CHECK(cudaSetDevice(c->device));
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream));
    CUDA_CHECK(cudaStreamSynchronize(c->stream)); /* also reports errors of the ops before */
    return PIXAB_OK;
}

static pixab_status cuda_copy(void *ctx, void *dst, const void *src, size_t bytes) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    CUDA_CHECK(cudaSetDevice(c->device));
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, c->stream));
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
    if (!c->conv[i]) /* direct, into the slice */
        return nn_conv_direct_cuda(y + o->dst_c0, ys->c, x, xs->c, w, b, n, xs->h, xs->w, o->c_in, ys->h, ys->w,
                                   o->c_out, o->group, window_of(o), o->relu, c->stream);
    pixab_status s = PIXAB_OK;
    for (int i0 = 0; i0 < n && !s; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        const float *xp = x + (size_t)i0 * image_floats(xs);
        float *yp = y + (size_t)i0 * image_floats(ys), *out = slice ? (float *)c->scratch : yp;
        if (c->conv_lp[i]) { /* 16-bit input and result, fp32 bias + ReLU into the slice */
            const int bf16 = c->precision == PIXAB_PRECISION_BF16;
            if ((s = precision_cast_cuda(c->lp_x, bf16, xp, xs->c, (size_t)m * xs->h * xs->w, o->c_in, c->stream)) ||
                (s = legacy_conv_forward(c->dnn, c->conv[i], packed(m, xs, o->c_in), c->lp_x, lp_param(c, o->w_off),
                                         packed(m, ys, o->c_out), c->lp_y, c->ws, c->ws_bytes)))
                break;
            s = precision_bias_act_cuda(yp + o->dst_c0, ys->c, c->lp_y, bf16, b, (size_t)m * ys->h * ys->w, o->c_out,
                                        o->relu, c->stream);
            continue;
        }
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
    if (!c->pool[i]) /* no cuDNN equivalent: the own kernel, into the slice */
        return nn_pool_cuda(y + o->dst_c0, ys->c, x, xs->c, n, xs->h, xs->w, ys->h, ys->w, o->c_in, window_of(o),
                            o->kind == OP_MAXPOOL, c->stream);
    pixab_status s = PIXAB_OK;
    for (int i0 = 0; i0 < n && !s; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        const float *xp = x + (size_t)i0 * image_floats(xs);
        float *yp = y + (size_t)i0 * image_floats(ys);
        if (!c->pool_packed[i]) {
            s = legacy_pool_forward(c->dnn, c->pool[i], view_of(m, xs, o->c_in), xp, view_of(m, ys, o->c_out),
                                    yp + o->dst_c0);
            if ((s != PIXAB_ERR_UNSUPPORTED && s != PIXAB_ERR_ARG) || !is_slice(g, o)) continue;
            pixab_log("%s: %s; pooling into a packed buffer from now on", o->name, pixab_last_error());
            c->pool_packed[i] = 1; /* strided output refused: packed from now on */
            pixab_clear_error();
        }
        float *tmp = (float *)c->scratch;
        if ((s = legacy_pool_forward(c->dnn, c->pool[i], view_of(m, xs, o->c_in), xp, packed(m, ys, o->c_out), tmp)))
            break;
        s = nn_bias_act_cuda(yp + o->dst_c0, ys->c, tmp, o->c_out, NULL, (size_t)m * ys->h * ys->w, o->c_out, 0,
                             c->stream);
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
    if (is_lp(c)) { /* 16-bit W and x, fp32 accumulation and result */
        const cudaDataType_t dt = c->precision == PIXAB_PRECISION_BF16 ? CUDA_R_16BF : CUDA_R_16F;
        pixab_status s = precision_cast_cuda(c->lp_x, dt == CUDA_R_16BF, x, xs->c, (size_t)n, o->c_in, c->stream);
        if (s) return s;
        CUBLAS_CHECK(cublasGemmEx(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, o->c_out, n, o->c_in, &one,
                                  lp_param(c, o->w_off), dt, o->c_in, c->lp_x, dt, o->c_in, &zero, y + o->dst_c0,
                                  CUDA_R_32F, ys->c, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    } else {
        CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, o->c_out, n, o->c_in, &one, c->params + o->w_off,
                                 o->c_in, x, xs->c, &zero, y + o->dst_c0, ys->c));
    }
    return nn_bias_act_cuda(y + o->dst_c0, ys->c, y + o->dst_c0, ys->c, c->params + o->b_off, (size_t)n, o->c_out,
                            o->relu, c->stream);
}

/* OP_MUL's second input one pixel per image (a per-channel scale). */
static int mul_per_channel(const graph *g, const graph_op *o) {
    const tshape *a = &g->tensors[o->src], *b = &g->tensors[o->src2];
    return o->kind == OP_MUL && b->h * b->w == 1 && a->h * a->w != 1;
}

/* The elementwise ops and zero padding, into o's slice of y. */
static pixab_status eltwise_forward(cuda_ctx *c, const graph *g, const graph_op *o, int n, const float *x,
                                    const float *x2, float *y) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const size_t hw = (size_t)xs->h * xs->w, rows = (size_t)n * hw;
    float *out = y + o->dst_c0;
    switch (o->kind) {
    case OP_ADD:
        return nn_add_cuda(out, ys->c, x, xs->c, x2, g->tensors[o->src2].c, rows, o->c_out, o->relu, c->stream);
    case OP_MUL:
        return nn_mul_cuda(out, ys->c, x, xs->c, x2, g->tensors[o->src2].c, rows, o->c_out, hw, mul_per_channel(g, o),
                           c->stream);
    case OP_ACT: return nn_act_cuda(out, ys->c, x, xs->c, rows, o->c_out, o->act, o->act_a, o->act_b, c->stream);
    default: /* OP_PAD */
        return nn_pad_cuda(out, ys->c, x, xs->c, n, xs->h, xs->w, ys->h, ys->w, o->c_out, o->p_h, o->p_w, c->stream);
    }
}

static pixab_status network_op(cuda_ctx *c, const graph *g, int i, int n, const float *x, const float *x2, float *y) {
    const graph_op *o = &g->ops[i];
    pixab_status s = enter_op(c, g, i, n);
    if (s) return s;
    if (graph_op_inputs(o) > 1 && !x2) return pixab_fail(PIXAB_ERR_ARG, "op %d: no second input", i);
    switch (o->kind) {
    case OP_ADD:
    case OP_MUL:
    case OP_ACT:
    case OP_PAD: return eltwise_forward(c, g, o, n, x, x2, y);
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
    const float *w = c->params + o->w_off;
    const int nb = op_chunk(g, o, n), slice = is_slice(g, o);
    pixab_status s = PIXAB_OK;
    for (int i0 = 0; i0 < n && !s; i0 += nb) {
        const int m = n - i0 < nb ? n - i0 : nb;
        const size_t rows = (size_t)m * ys->h * ys->w;
        const float *yp = y + (size_t)i0 * image_floats(ys) + o->dst_c0;
        float *dyp = dy + (size_t)i0 * image_floats(ys) + o->dst_c0, *dz = slice ? (float *)c->scratch : dyp;
        float *dxp = dx + (size_t)i0 * image_floats(xs);
        /* dz = dy masked by y > 0, packed (in place when the op fills its tensor). */
        if (o->relu)
            s = nn_relu_mask_cuda(dz, o->c_out, dyp, ys->c, yp, ys->c, rows, o->c_out, c->stream);
        else if (slice)
            s = nn_bias_act_cuda(dz, o->c_out, dyp, ys->c, NULL, rows, o->c_out, 0, c->stream);
        if (s) break;
        if (c->conv[i] && !c->conv_direct[i]) {
            s = legacy_conv_backward_data(c->dnn, c->conv[i], packed(m, ys, o->c_out), dz, w,
                                          view_of(m, xs, o->c_in), dxp, c->ws, c->ws_bytes);
            if (s != PIXAB_ERR_UNSUPPORTED && s != PIXAB_ERR_ARG) continue; /* done, or a real error */
            pixab_log("%s; its backward-data runs in the direct kernel from now on", pixab_last_error());
            c->conv_direct[i] = 1;
            pixab_clear_error();
        }
        s = nn_conv_backward_data_cuda(dxp, xs->c, dz, w, m, xs->h, xs->w, o->c_in, ys->h, ys->w, o->c_out, o->group,
                                       window_of(o), c->stream);
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

/* The backward of the elementwise ops and zero padding: dx (and dx2) += ... */
static pixab_status eltwise_backward(cuda_ctx *c, const graph *g, const graph_op *o, int n, const float *x,
                                     const float *x2, const float *y, float *dx, float *dx2, float *dy) {
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    const size_t hw = (size_t)xs->h * xs->w, rows = (size_t)n * hw;
    const int ldb = o->kind == OP_ADD || o->kind == OP_MUL ? g->tensors[o->src2].c : 0;
    float *d = dy + o->dst_c0;
    pixab_status s;
    switch (o->kind) {
    case OP_ADD: /* dz = dy masked by the ReLU (in place: the slice is the op's), to both inputs in turn */
        if (o->relu && (s = nn_relu_mask_cuda(d, ys->c, d, ys->c, y + o->dst_c0, ys->c, rows, o->c_out, c->stream)))
            return s;
        if ((s = nn_accumulate_cuda(dx, xs->c, d, ys->c, rows, o->c_out, c->stream))) return s;
        return nn_accumulate_cuda(dx2, ldb, d, ys->c, rows, o->c_out, c->stream);
    case OP_MUL:
        return nn_mul_backward_cuda(dx, xs->c, dx2, ldb, d, ys->c, x, xs->c, x2, ldb, rows, o->c_out, hw,
                                    mul_per_channel(g, o), c->stream);
    case OP_ACT:
        return nn_act_backward_cuda(dx, xs->c, d, ys->c, x, rows, o->c_out, o->act, o->act_a, o->act_b, c->stream);
    default: /* OP_PAD */
        return nn_pad_backward_cuda(dx, xs->c, d, ys->c, n, xs->h, xs->w, ys->h, ys->w, o->c_out, o->p_h, o->p_w,
                                    c->stream);
    }
}

static pixab_status cuda_run_op_backward(void *ctx, const graph *g, int i, int n, const float *x, const float *x2,
                                         const float *y, float *dx, float *dx2, float *dy) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    const graph_op *o = &g->ops[i];
    const tshape *xs = &g->tensors[o->src], *ys = &g->tensors[o->dst];
    pixab_status s = enter_op(c, g, i, n);
    if (s) return s;
    if (graph_op_inputs(o) > 1 && (!x2 || !dx2)) return pixab_fail(PIXAB_ERR_ARG, "op %d: no second input", i);
    switch (o->kind) {
    case OP_ADD:
    case OP_MUL:
    case OP_ACT:
    case OP_PAD: return eltwise_backward(c, g, o, n, x, x2, y, dx, dx2, dy);
    case OP_CONV: return conv_backward(c, g, i, n, y, dx, dy);
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        return nn_pool_backward_cuda(dx, xs->c, x, y + o->dst_c0, dy + o->dst_c0, ys->c, n, xs->h, xs->w, ys->h,
                                     ys->w, o->c_in, window_of(o), o->kind == OP_MAXPOOL, c->stream);
    case OP_GAP:
        return nn_gap_backward_cuda(dx, xs->c, dy + o->dst_c0, ys->c, n, (size_t)xs->h * xs->w, o->c_in, c->stream);
    case OP_FC: return fc_backward(c, g, o, n, y, dx, dy);
    }
    return pixab_fail(PIXAB_ERR_ARG, "op %d: unknown kind %d", i, (int)o->kind);
}

// ----------------------------------------------------------------------------
// precision

/* Math modes and data types of every convolution, the 16-bit weights
 * (converted once per switch), then the algorithms chosen again. */
static pixab_status switch_precision(cuda_ctx *c, const graph *g, int precision) {
    const int lp = precision == PIXAB_PRECISION_FP16 || precision == PIXAB_PRECISION_BF16;
    pixab_status s;
    CUBLAS_CHECK(cublasSetMathMode(c->blas, precision == PIXAB_PRECISION_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                              : CUBLAS_DEFAULT_MATH));
    if (lp) {
        if (!c->params_lp &&
            (s = device_alloc(&c->params_lp, 2 * (g->n_params ? g->n_params : 1), "16-bit weights")))
            return s;
        if ((s = precision_cast_cuda(c->params_lp, precision == PIXAB_PRECISION_BF16, c->params, 1, g->n_params, 1,
                                     c->stream)))
            return s;
    }
    for (int i = 0; i < g->n_ops; i++)
        if (c->conv[i]) {
            if ((s = legacy_conv_set_precision(c->conv[i], precision))) return s;
            c->conv_lp[i] = (unsigned char)lp;
        }
    c->precision = precision;
    return plan_ops(c, g, 0, g->n_ops, 0, 1);
}

/* A failed switch goes back to the precision before it (best effort), so
 * the backend stays usable. */
static pixab_status cuda_set_precision(void *ctx, const graph *g, int precision) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    if (precision < 0 || precision >= PIXAB_PRECISION_COUNT)
        return pixab_fail(PIXAB_ERR_ARG, "precision %d out of range", precision);
    pixab_status s = enter(c);
    if (s) return s;
    const int before = c->precision;
    if (!(s = switch_precision(c, g, precision)) || precision == before) return s;
    char why[512];
    snprintf(why, sizeof why, "%s", pixab_last_error());
    (void)switch_precision(c, g, before);
    return pixab_fail(s, "%s", why);
}

// ----------------------------------------------------------------------------
// the dispatch: network ops above, the generator and reduction ops in
// generate_kernels.h and map_kernels.h, the guided ReLU in nn_kernels.h; all
// queued on the stream

static int cuda_supports_op(void *, bop_kind kind) { return kind >= 0 && kind < BOP_COUNT; }

/* The FC op `index` of g over K channels (the fast paths' head); NULL and an error when it is not one. */
static const graph_op *fc_of(const graph *g, const backend_op *op) {
    const graph_op *o = &g->ops[op->index];
    if (o->kind == OP_FC && o->c_in == op->K) return o;
    pixab_fail(PIXAB_ERR_ARG, "op %d is not an FC layer over %d channels", op->index, op->K);
    return NULL;
}

static pixab_status head_op(cuda_ctx *c, const graph *g, const backend_op *op) {
    const int HW = op->H * op->W;
    const graph_op *o;
    cudaStream_t st = c->stream;
    switch (op->kind) {
    case BOP_GEN_BOXES:
        return ablate_boxes_cuda(op->dst, op->a, op->H, op->W, op->K, op->n_boxes, op->box_h, op->box_w, op->first,
                                 op->count, st);
    case BOP_GEN_BOX_LOGITS:
        if (!(o = fc_of(g, op))) return PIXAB_ERR_ARG;
        return ablate_box_logits_cuda(op->dst, op->pixel_logits, op->src, c->params + o->b_off, op->H, op->W,
                                      o->c_out, op->n_boxes, op->box_h, op->box_w, op->first, op->count, st);
    case BOP_GEN_CHANNELS: return ablate_channels_cuda(op->dst, op->a, HW, op->K, op->first, op->count, st);
    case BOP_GEN_CHANNEL_LOGITS:
        if (!(o = fc_of(g, op))) return PIXAB_ERR_ARG;
        return ablate_channel_logits_cuda(op->dst, op->src, c->params + o->w_off, op->a, HW, op->K, o->c_out,
                                          op->first, op->count, st);
    case BOP_GEN_MASKED_INPUTS:
        return masked_inputs_cuda(op->dst, op->src, op->a, op->ranges, op->channels, op->H, op->W, op->K, op->size,
                                  op->first, op->count, st);
    case BOP_PREPROCESS: return preprocess_cuda(op->dst, op->rgb, op->W, op->H, op->pre, st);
    case BOP_MASK_RANGES: return map_mask_ranges_cuda(op->dst, op->a, op->H, op->W, op->K, op->size, st);
    case BOP_CLASS_SCORES:
        return map_class_scores_cuda(op->dst, op->src, op->count, op->classes, op->cls, op->softmax, st);
    case BOP_PIXAB_REDUCE: return map_pixab_reduce_cuda(op->dst, op->src, op->n_boxes, HW, st);
    case BOP_WEIGHTED_SUM: return map_weighted_sum_cuda(op->dst, op->a, op->src, HW, op->K, st);
    case BOP_NORMALIZE: return map_normalize_cuda(op->dst, op->count, st);
    case BOP_GUIDED_RELU: {
        if (op->index < 0 || op->index >= g->n_ops || !graph_op_is_relu(&g->ops[op->index]))
            return pixab_fail(PIXAB_ERR_ARG, "op %d has no ReLU to guide", op->index);
        o = &g->ops[op->index];
        const tshape *ys = &g->tensors[o->dst];
        return nn_guided_relu_mask_cuda(op->dst + o->dst_c0, ys->c, op->src + o->dst_c0, ys->c,
                                        (size_t)op->count * ys->h * ys->w, o->c_out, st);
    }
    default: return pixab_fail(PIXAB_ERR_ARG, "op kind %d is not a head op", (int)op->kind);
    }
}

static pixab_status cuda_run(void *ctx, const graph *g, const backend_op *op) {
    cuda_ctx *c = (cuda_ctx *)ctx;
    if (op->kind == BOP_NETWORK) return network_op(c, g, op->index, op->count, op->src, op->src2, op->dst);
    CUDA_CHECK(cudaSetDevice(c->device));
    return head_op(c, g, op);
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
    o.host_alloc = cuda_host_alloc;
    o.host_free = cuda_host_free;
    o.download = cuda_download;
    o.stage = cuda_stage;
    o.stage_release = cuda_stage_release;
    o.supports_op = cuda_supports_op;
    o.run = cuda_run;
    o.run_op_backward = cuda_run_op_backward;
    o.zero = cuda_zero;
    o.copy = cuda_copy;
    o.set_precision = cuda_set_precision;
    o.prepare = cuda_prepare;
    o.memory_info = cuda_memory_info;
    return o;
}

extern "C" const backend_ops cuda_backend = cuda_backend_make();

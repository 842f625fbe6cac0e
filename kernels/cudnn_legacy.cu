/* cudnn_legacy.cu — the one file that calls cuDNN (see cudnn_legacy.h): the
 * legacy convolution and pooling API, deprecated in cuDNN 9 but complete.
 * Compiled without CUDNN_WARN_DEPRECATED, so the deprecation stays a fact
 * written here rather than a warning in every build. */
#undef CUDNN_WARN_DEPRECATED

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime.h>
#include <cudnn.h>

#include "cuda_check.cuh"
#include "cudnn_legacy.h"

/* A failed cuDNN call: record it (status name and cudnnGetLastErrorString)
 * and return its class (legacy_dnn_status). */
#define DNN_CHECK(call)                                                                                    \
    do {                                                                                                   \
        cudnnStatus_t dnn_err_ = (call);                                                                   \
        if (dnn_err_ != CUDNN_STATUS_SUCCESS) return dnn_fail(dnn_err_, #call, __func__, __LINE__);        \
    } while (0)

#define DNN_CHECK_GOTO(call, st, label)                                                                    \
    do {                                                                                                   \
        cudnnStatus_t dnn_err_ = (call);                                                                   \
        if (dnn_err_ != CUDNN_STATUS_SUCCESS) {                                                            \
            (st) = dnn_fail(dnn_err_, #call, __func__, __LINE__);                                          \
            goto label;                                                                                    \
        }                                                                                                  \
    } while (0)

static pixab_status dnn_fail(cudnnStatus_t e, const char *expr, const char *func, int line);

extern "C" pixab_status legacy_dnn_status(int code) {
    switch (code) {
    case CUDNN_STATUS_SUCCESS: return PIXAB_OK;
    /* This configuration (shape, layout, data type, padding, launch
     * parameters) has no kernel: the caller may try another one. */
    case CUDNN_STATUS_NOT_SUPPORTED:
    case CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN:
    case CUDNN_STATUS_NOT_SUPPORTED_SHAPE:
    case CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE:
    case CUDNN_STATUS_NOT_SUPPORTED_LAYOUT:
    case CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT:
    case CUDNN_STATUS_NOT_SUPPORTED_PADDING:
    case CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM:
    case CUDNN_STATUS_NOT_SUPPORTED_INVALID_DYNAMIC_SHAPE: return PIXAB_ERR_UNSUPPORTED;
    case CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED:
    case CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED: return PIXAB_ERR_NOMEM;
    }
    /* 2xxx: cuDNN refused the arguments (e.g. a strided view it cannot take). */
    if (code / 1000 == 2) return PIXAB_ERR_ARG;
    /* Everything else is the environment or cuDNN itself: driver or CUDA
     * runtime too old (3005, 3006), no kernels for this GPU (3007), a missing
     * prerequisite or sub-library (3008, 3009, 1008), internal or execution
     * failures (4xxx, 5xxx). No fallback can help: report it. */
    return PIXAB_ERR_DEVICE;
}

/* Record a failed cuDNN call as the last error: "cuDNN error 3007
 * (CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH: <cuDNN's last message>) in
 * <call> [<function>, cudnn_legacy.cu:<line>]"; returns its class. */
static pixab_status dnn_fail(cudnnStatus_t e, const char *expr, const char *func, int line) {
    char msg[256] = "";
    cudnnGetLastErrorString(msg, sizeof msg);
    (void)cuda_check_fail("cuDNN", (int)e, cudnnGetErrorString(e), msg[0] ? msg : "no detail", expr, func,
                          __FILE__, line);
    return legacy_dnn_status((int)e);
}

extern "C" pixab_status legacy_dnn_fail(int code, const char *what) {
    return dnn_fail((cudnnStatus_t)code, what, "legacy_dnn_fail", __LINE__);
}

struct legacy_dnn {
    cudnnHandle_t h;
    cudnnTensorDescriptor_t t[2]; /* reused by every call: x (or dx), y (or dy) */
};

struct legacy_conv {
    cudnnFilterDescriptor_t wd;      /* (c_out, k_h, k_w, c_in), CUDNN_TENSOR_NHWC, fp32 */
    cudnnFilterDescriptor_t wd_lp;   /* the same in half / bfloat16 (forward at PIXAB_PRECISION_FP16 / BF16) */
    cudnnConvolutionDescriptor_t cd; /* cross-correlation, fp32 compute; math by precision */
    cudnnDataType_t dt;              /* forward data type of x, w and y */
    int has_fwd, has_bwd;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd;
    cudnnMathType_t math;            /* FMA (fp32) or tensor-op (tf32, fp16, bf16) */
    int c_out, c_in, k_h, k_w;       /* for messages */
    char name[64];                   /* the op's name, for messages */
};

struct legacy_pool {
    cudnnPoolingDescriptor_t pd;
};

static const float one = 1.0f, zero = 0.0f;

/* Describe a view. A packed view (ld == c) gets the explicit NHWC format:
 * with c == 1 its strides alone would read as NCHW too. A channel slice
 * (ld > c) gets explicit strides n = h*w*ld, c = 1, h = w*ld, w = ld. */
static pixab_status set_view_as(cudnnTensorDescriptor_t t, nhwc_view v, cudnnDataType_t dt) {
    if (v.n < 1 || v.h < 1 || v.w < 1 || v.c < 1 || v.ld < v.c)
        return pixab_fail(PIXAB_ERR_ARG, "cuDNN view %dx%dx%dx%d (ld %d) is empty or inconsistent", v.n, v.h, v.w,
                          v.c, v.ld);
    if ((size_t)v.n * v.h * v.w * v.ld > INT_MAX)
        return pixab_fail(PIXAB_ERR_ARG, "cuDNN view of %d images of %dx%dx%d exceeds int strides", v.n, v.h, v.w,
                          v.ld);
    if (v.ld == v.c) {
        DNN_CHECK(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NHWC, dt, v.n, v.c, v.h, v.w));
    } else {
        DNN_CHECK(cudnnSetTensor4dDescriptorEx(t, dt, v.n, v.c, v.h, v.w, v.h * v.w * v.ld, 1, v.w * v.ld, v.ld));
    }
    return PIXAB_OK;
}

static pixab_status set_view(cudnnTensorDescriptor_t t, nhwc_view v) { return set_view_as(t, v, CUDNN_DATA_FLOAT); }

/* The filter descriptor of the forward pass. */
static cudnnFilterDescriptor_t fwd_filter(const legacy_conv *c) { return c->dt == CUDNN_DATA_FLOAT ? c->wd : c->wd_lp; }

// ----------------------------------------------------------------------------
// handle

extern "C" int legacy_dnn_runtime_version(void) { return (int)cudnnGetVersion(); }
extern "C" int legacy_dnn_header_version(void) { return CUDNN_VERSION; }

extern "C" pixab_status legacy_dnn_create(legacy_dnn **out, void *stream) {
    *out = NULL;
    const int rt = legacy_dnn_runtime_version();
    if (rt / 10000 != CUDNN_MAJOR)
        return pixab_fail(PIXAB_ERR_UNSUPPORTED, "cuDNN runtime %d.%d.%d, but pixab was built against %d.%d.%d: "
                          "a cuDNN %d.x library is needed", rt / 10000, rt / 100 % 100, rt % 100, CUDNN_MAJOR,
                          CUDNN_MINOR, CUDNN_PATCHLEVEL, CUDNN_MAJOR);
    if (rt < CUDNN_VERSION) /* the legacy calls used here exist since 9.0: say so, go on */
        pixab_log("cuDNN runtime %d.%d.%d is older than the %d.%d.%d headers pixab was built with", rt / 10000,
                  rt / 100 % 100, rt % 100, CUDNN_MAJOR, CUDNN_MINOR, CUDNN_PATCHLEVEL);
    legacy_dnn *d = (legacy_dnn *)calloc(1, sizeof *d);
    if (!d) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    pixab_status st = PIXAB_OK;
    DNN_CHECK_GOTO(cudnnCreate(&d->h), st, fail);
    DNN_CHECK_GOTO(cudnnSetStream(d->h, (cudaStream_t)stream), st, fail);
    for (int i = 0; i < 2; i++) DNN_CHECK_GOTO(cudnnCreateTensorDescriptor(&d->t[i]), st, fail);
    *out = d;
    return PIXAB_OK;
fail:
    legacy_dnn_destroy(d);
    return st;
}

extern "C" void legacy_dnn_destroy(legacy_dnn *d) {
    if (!d) return;
    for (int i = 0; i < 2; i++)
        if (d->t[i]) (void)cudnnDestroyTensorDescriptor(d->t[i]);
    if (d->h) (void)cudnnDestroy(d->h);
    free(d);
}

// ----------------------------------------------------------------------------
// convolution

extern "C" pixab_status legacy_conv_create(legacy_conv **out, const char *name, int c_out, int c_in, int k_h,
                                           int k_w, int s_h, int s_w, int p_h, int p_w) {
    *out = NULL;
    legacy_conv *c = (legacy_conv *)calloc(1, sizeof *c);
    if (!c) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    c->c_out = c_out, c->c_in = c_in, c->k_h = k_h, c->k_w = k_w;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->math = CUDNN_FMA_MATH;
    pixab_status st = PIXAB_OK;
    c->dt = CUDNN_DATA_FLOAT;
    DNN_CHECK_GOTO(cudnnCreateFilterDescriptor(&c->wd), st, fail);
    DNN_CHECK_GOTO(cudnnCreateFilterDescriptor(&c->wd_lp), st, fail);
    DNN_CHECK_GOTO(cudnnCreateConvolutionDescriptor(&c->cd), st, fail);
    /* NHWC filter: memory (k, h, w, c) = our (c_out, k_h, k_w, c_in). */
    DNN_CHECK_GOTO(cudnnSetFilter4dDescriptor(c->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, c_out, c_in, k_h, k_w), st,
                     fail);
    DNN_CHECK_GOTO(cudnnSetConvolution2dDescriptor(c->cd, p_h, p_w, s_h, s_w, 1, 1, CUDNN_CROSS_CORRELATION,
                                                     CUDNN_DATA_FLOAT),
                     st, fail);
    /* fp32 means fp32: without this, Ampere and newer may run TF32 tensor cores. */
    DNN_CHECK_GOTO(cudnnSetConvolutionMathType(c->cd, CUDNN_FMA_MATH), st, fail);
    *out = c;
    return PIXAB_OK;
fail:
    legacy_conv_destroy(c);
    return st;
}

extern "C" void legacy_conv_destroy(legacy_conv *c) {
    if (!c) return;
    if (c->cd) (void)cudnnDestroyConvolutionDescriptor(c->cd);
    if (c->wd) (void)cudnnDestroyFilterDescriptor(c->wd);
    if (c->wd_lp) (void)cudnnDestroyFilterDescriptor(c->wd_lp);
    free(c);
}

/* fp32: CUDNN_FMA_MATH (no tensor cores). tf32: fp32 data on TF32 tensor
 * cores (CUDNN_TENSOR_OP_MATH). fp16 / bf16: half-precision forward data and
 * filter, fp32 accumulation (the convolution's compute type stays FLOAT),
 * tensor cores. The backward pass keeps fp32 data and shares the math type, so
 * below fp32 it runs on TF32 tensor cores. */
extern "C" pixab_status legacy_conv_set_precision(legacy_conv *c, int precision) {
    cudnnMathType_t math = precision == PIXAB_PRECISION_FP32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
    c->dt = precision == PIXAB_PRECISION_FP16   ? CUDNN_DATA_HALF
            : precision == PIXAB_PRECISION_BF16 ? CUDNN_DATA_BFLOAT16
                                                : CUDNN_DATA_FLOAT;
    c->has_fwd = c->has_bwd = 0; /* plan again */
    if (c->dt != CUDNN_DATA_FLOAT)
        DNN_CHECK(cudnnSetFilter4dDescriptor(c->wd_lp, c->dt, CUDNN_TENSOR_NHWC, c->c_out, c->c_in, c->k_h, c->k_w));
    DNN_CHECK(cudnnSetConvolutionMathType(c->cd, math));
    c->math = math;
    return PIXAB_OK;
}

/* Algorithms whose results are plain fp32 sums of products (FFT and Winograd
 * transform the operands and lose accuracy). */
static int fwd_allowed(int a) {
    return a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM || a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_GEMM || a == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
}
static int bwd_allowed(int a) {
    return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1 || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
}

static const char *fwd_name(int a) {
    switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "IMPLICIT_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "IMPLICIT_PRECOMP_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "DIRECT";
    }
    return "other";
}
static const char *bwd_name(int a) { return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1 ? "ALGO_1" : "ALGO_0"; }

/* One direction's choice: the heuristics' candidates (algo, status,
 * determinism), then workspace queries. */
typedef struct {
    int n;
    int algo[16], ok[16], det[16];
} candidates;

/* A failed query (heuristics, workspace size): 1 when cuDNN only refuses
 * this configuration, the error cleared so that the caller tries the next
 * candidate; else 0 and *st is the error (the environment: a missing
 * sub-library must not read as "no algorithm"). */
static int refused(cudnnStatus_t e, const char *what, int line, pixab_status *st) {
    *st = dnn_fail(e, what, "legacy_conv_plan", line);
    if (*st != PIXAB_ERR_UNSUPPORTED && *st != PIXAB_ERR_ARG) return 0;
    pixab_clear_error();
    *st = PIXAB_OK;
    return 1;
}

/* Pick from c's candidates, in the heuristics' order with the deterministic
 * entries first, then from `fixed` (the GEMM family in a fixed order): the
 * first allowed one whose workspace query succeeds within cap. */
static pixab_status pick(legacy_dnn *d, legacy_conv *c, int fwd, const candidates *cand, const int *fixed, int n_fixed,
                         size_t cap, int *algo, size_t *ws, int *found) {
    cudnnTensorDescriptor_t xd = d->t[0], yd = d->t[1];
    *found = 0;
    for (int pass = 0; pass < 3; pass++) {
        const int n = pass < 2 ? cand->n : n_fixed;
        for (int i = 0; i < n; i++) {
            const int a = pass < 2 ? cand->algo[i] : fixed[i];
            if (pass < 2 && (!cand->ok[i] || (pass == 0 && !cand->det[i]))) continue;
            if (!(fwd ? fwd_allowed(a) : bwd_allowed(a))) continue;
            size_t need = 0;
            cudnnStatus_t e =
                fwd ? cudnnGetConvolutionForwardWorkspaceSize(d->h, xd, fwd_filter(c), c->cd, yd,
                                                              (cudnnConvolutionFwdAlgo_t)a, &need)
                    : cudnnGetConvolutionBackwardDataWorkspaceSize(d->h, c->wd, yd, c->cd, xd,
                                                                   (cudnnConvolutionBwdDataAlgo_t)a, &need);
            pixab_status st;
            if (e != CUDNN_STATUS_SUCCESS) {
                if (refused(e, fwd ? "cudnnGetConvolutionForwardWorkspaceSize"
                                   : "cudnnGetConvolutionBackwardDataWorkspaceSize",
                            __LINE__, &st))
                    continue;
                return st;
            }
            if (need > cap) continue;
            *algo = a, *ws = need, *found = 1;
            return PIXAB_OK;
        }
    }
    return PIXAB_OK;
}

/* The heuristics' answer (status e, n entries of perf) as candidates: none
 * when cuDNN refuses the configuration; the environment's failures are errors. */
template <typename Perf>
static pixab_status to_candidates(cudnnStatus_t e, const char *what, int line, const Perf *perf, int n,
                                  candidates *cand) {
    pixab_status s = PIXAB_OK;
    cand->n = 0;
    if (e != CUDNN_STATUS_SUCCESS) return refused(e, what, line, &s) ? PIXAB_OK : s;
    cand->n = n < 16 ? n : 16;
    for (int i = 0; i < cand->n; i++) {
        cand->algo[i] = perf[i].algo;
        cand->ok[i] = perf[i].status == CUDNN_STATUS_SUCCESS;
        cand->det[i] = perf[i].determinism == CUDNN_DETERMINISTIC;
    }
    return PIXAB_OK;
}

/* Forward: the heuristics' list (..._v7). The descriptor keeps the math type
 * set by precision whatever an entry reports: the workspace query (and later
 * the call) then holds the algorithm to it. */
static pixab_status pick_fwd(legacy_dnn *d, legacy_conv *c, size_t cap, size_t *ws, int *found) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    candidates cand;
    int n = 0, a = 0;
    *found = 0;
    cudnnStatus_t e = cudnnGetConvolutionForwardAlgorithm_v7(d->h, d->t[0], fwd_filter(c), c->cd, d->t[1],
                                                             CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf);
    pixab_status s = to_candidates(e, "cudnnGetConvolutionForwardAlgorithm_v7", __LINE__, perf, n, &cand);
    static const int fixed[] = {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
                                CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, CUDNN_CONVOLUTION_FWD_ALGO_GEMM};
    if (s || (s = pick(d, c, 1, &cand, fixed, 3, cap, &a, ws, found))) return s;
    if (*found) c->fwd = (cudnnConvolutionFwdAlgo_t)a;
    return PIXAB_OK;
}

/* Backward data: the same rule; ALGO_1 is deterministic, ALGO_0 uses atomics. */
static pixab_status pick_bwd(legacy_dnn *d, legacy_conv *c, size_t cap, size_t *ws, int *found) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    candidates cand;
    int n = 0, a = 0;
    *found = 0;
    cudnnStatus_t e = cudnnGetConvolutionBackwardDataAlgorithm_v7(d->h, c->wd, d->t[1], c->cd, d->t[0],
                                                                  CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf);
    pixab_status s = to_candidates(e, "cudnnGetConvolutionBackwardDataAlgorithm_v7", __LINE__, perf, n, &cand);
    static const int fixed[] = {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0};
    if (s || (s = pick(d, c, 0, &cand, fixed, 2, cap, &a, ws, found))) return s;
    if (*found) c->bwd = (cudnnConvolutionBwdDataAlgo_t)a;
    return PIXAB_OK;
}

static const char *dt_name(cudnnDataType_t dt) {
    return dt == CUDNN_DATA_HALF ? "fp16" : dt == CUDNN_DATA_BFLOAT16 ? "bf16" : "fp32";
}

extern "C" pixab_status legacy_conv_plan(legacy_dnn *d, legacy_conv *c, nhwc_view x, nhwc_view y, size_t ws_cap,
                                         size_t *ws_bytes) {
    *ws_bytes = 0;
    if (y.ld != y.c) return pixab_fail(PIXAB_ERR_ARG, "legacy_conv_plan: the output must be packed");
    const int old_fwd = c->has_fwd ? (int)c->fwd : -1, old_bwd = c->has_bwd ? (int)c->bwd : -1;
    pixab_status s;
    size_t fwd_ws = 0, bwd_ws = 0;
    if ((s = set_view_as(d->t[0], x, c->dt)) || (s = set_view_as(d->t[1], y, c->dt)) ||
        (s = pick_fwd(d, c, ws_cap, &fwd_ws, &c->has_fwd)))
        return s;
    if ((s = set_view(d->t[0], x)) || (s = set_view(d->t[1], y)) || (s = pick_bwd(d, c, ws_cap, &bwd_ws, &c->has_bwd)))
        return s;
    if (!c->has_fwd)
        return pixab_fail(PIXAB_ERR_UNSUPPORTED,
                          "cuDNN offers no %s GEMM-family forward algorithm for a %dx%d conv %d -> %d "
                          "on %d images of %dx%d within %zu MiB of workspace",
                          dt_name(c->dt), c->k_h, c->k_w, c->c_in, c->c_out, x.n, x.h, x.w, ws_cap >> 20);
    /* -v: what each convolution runs, once (and again when a new batch changes it). */
    if ((int)c->fwd != old_fwd || (c->has_bwd ? (int)c->bwd : -1) != old_bwd)
        pixab_log("%s: cuDNN forward %s (%s, %s math), backward-data %s, at %d images of %dx%d", c->name,
                  fwd_name(c->fwd), dt_name(c->dt), c->math == CUDNN_FMA_MATH ? "FMA" : "tensor-op",
                  c->has_bwd ? bwd_name(c->bwd) : "none (direct kernel)", x.n, x.h, x.w);
    *ws_bytes = fwd_ws > bwd_ws ? fwd_ws : bwd_ws;
    return PIXAB_OK;
}

extern "C" pixab_status legacy_conv_forward(legacy_dnn *d, const legacy_conv *c, nhwc_view x, const void *xp,
                                            const void *w, nhwc_view y, void *yp, void *ws, size_t ws_bytes) {
    if (!c->has_fwd) return pixab_fail(PIXAB_ERR_UNSUPPORTED, "convolution has no forward algorithm");
    pixab_status s;
    if ((s = set_view_as(d->t[0], x, c->dt)) || (s = set_view_as(d->t[1], y, c->dt))) return s;
    /* alpha / beta are float for every data type used here (fp32 compute). */
    DNN_CHECK(cudnnConvolutionForward(d->h, &one, d->t[0], xp, fwd_filter(c), w, c->cd, c->fwd, ws, ws_bytes, &zero,
                                      d->t[1], yp));
    return PIXAB_OK;
}

extern "C" pixab_status legacy_conv_backward_data(legacy_dnn *d, const legacy_conv *c, nhwc_view dy,
                                                  const float *dyp, const float *w, nhwc_view dx, float *dxp,
                                                  void *ws, size_t ws_bytes) {
    if (!c->has_bwd)
        return pixab_fail(PIXAB_ERR_UNSUPPORTED, "%s: cuDNN offers no fp32 backward-data algorithm for a %dx%d conv %d -> %d",
                          c->name, c->k_h, c->k_w, c->c_in, c->c_out);
    pixab_status s;
    if ((s = set_view(d->t[0], dx)) || (s = set_view(d->t[1], dy))) return s;
    /* beta = 1: dx += ..., the accumulation the backward interface asks for. */
    DNN_CHECK(cudnnConvolutionBackwardData(d->h, &one, c->wd, w, d->t[1], dyp, c->cd, c->bwd, ws, ws_bytes, &one,
                                           d->t[0], dxp));
    return PIXAB_OK;
}

// ----------------------------------------------------------------------------
// pooling

extern "C" pixab_status legacy_pool_create(legacy_pool **out, int is_max, int k_h, int k_w, int s_h, int s_w,
                                           int p_h, int p_w) {
    *out = NULL;
    legacy_pool *p = (legacy_pool *)calloc(1, sizeof *p);
    if (!p) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    pixab_status st = PIXAB_OK;
    DNN_CHECK_GOTO(cudnnCreatePoolingDescriptor(&p->pd), st, fail);
    /* Forward only: the backward is the backend's own gather kernel
     * (nn_pool_backward_at), since with several equal maxima in a window
     * cuDNN's choice is undocumented (Theano issues #5248, #5404) and PyTorch
     * and the CPU take the first. NaN: not propagated, like the CPU backend's
     * comparison. Average: padding counted (count_include_pad=True,
     * torchvision's F.avg_pool2d default). */
    DNN_CHECK_GOTO(cudnnSetPooling2dDescriptor(p->pd,
                                                 is_max ? CUDNN_POOLING_MAX_DETERMINISTIC
                                                        : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                                                 CUDNN_NOT_PROPAGATE_NAN, k_h, k_w, p_h, p_w, s_h, s_w),
                     st, fail);
    *out = p;
    return PIXAB_OK;
fail:
    legacy_pool_destroy(p);
    return st;
}

extern "C" void legacy_pool_destroy(legacy_pool *p) {
    if (!p) return;
    if (p->pd) (void)cudnnDestroyPoolingDescriptor(p->pd);
    free(p);
}

extern "C" pixab_status legacy_pool_forward(legacy_dnn *d, const legacy_pool *p, nhwc_view x, const float *xp,
                                            nhwc_view y, float *yp) {
    pixab_status s;
    if ((s = set_view(d->t[0], x)) || (s = set_view(d->t[1], y))) return s;
    DNN_CHECK(cudnnPoolingForward(d->h, p->pd, &one, d->t[0], xp, &zero, d->t[1], yp));
    return PIXAB_OK;
}

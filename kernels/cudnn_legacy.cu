/* cudnn_legacy.cu — the one file that calls cuDNN (see cudnn_legacy.h): the
 * legacy convolution and pooling API, deprecated in cuDNN 9 but complete.
 * Compiled without CUDNN_WARN_DEPRECATED, so the deprecation stays a fact
 * written here rather than a warning in every build. */
#undef CUDNN_WARN_DEPRECATED

#include <limits.h>
#include <stdlib.h>

#include <cuda_runtime.h>
#include <cudnn.h>

#include "cuda_check.cuh"
#include "cudnn_legacy.h"

/* A failed cuDNN call: record it, and return PIXAB_ERR_UNSUPPORTED for the
 * "not supported" family (3000-3999) so that callers can fall back. */
#define DNN_CHECK(call)                                                                                    \
    do {                                                                                                   \
        cudnnStatus_t dnn_err_ = (call);                                                                   \
        if (dnn_err_ != CUDNN_STATUS_SUCCESS) {                                                            \
            pixab_status dnn_st_;                                                                          \
            CUDNN_RECORD_(dnn_err_, #call, dnn_st_);                                                       \
            return (int)dnn_err_ / 1000 == 3 ? PIXAB_ERR_UNSUPPORTED : dnn_st_;                            \
        }                                                                                                  \
    } while (0)

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
    int c_out, c_in, k_h, k_w;       /* for messages */
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
    legacy_dnn *d = (legacy_dnn *)calloc(1, sizeof *d);
    if (!d) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    pixab_status st = PIXAB_OK;
    CUDNN_CHECK_GOTO(cudnnCreate(&d->h), st, fail);
    CUDNN_CHECK_GOTO(cudnnSetStream(d->h, (cudaStream_t)stream), st, fail);
    for (int i = 0; i < 2; i++) CUDNN_CHECK_GOTO(cudnnCreateTensorDescriptor(&d->t[i]), st, fail);
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

extern "C" pixab_status legacy_conv_create(legacy_conv **out, int c_out, int c_in, int k_h, int k_w, int s_h,
                                           int s_w, int p_h, int p_w) {
    *out = NULL;
    legacy_conv *c = (legacy_conv *)calloc(1, sizeof *c);
    if (!c) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    c->c_out = c_out, c->c_in = c_in, c->k_h = k_h, c->k_w = k_w;
    pixab_status st = PIXAB_OK;
    c->dt = CUDNN_DATA_FLOAT;
    CUDNN_CHECK_GOTO(cudnnCreateFilterDescriptor(&c->wd), st, fail);
    CUDNN_CHECK_GOTO(cudnnCreateFilterDescriptor(&c->wd_lp), st, fail);
    CUDNN_CHECK_GOTO(cudnnCreateConvolutionDescriptor(&c->cd), st, fail);
    /* NHWC filter: memory (k, h, w, c) = our (c_out, k_h, k_w, c_in). */
    CUDNN_CHECK_GOTO(cudnnSetFilter4dDescriptor(c->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, c_out, c_in, k_h, k_w), st,
                     fail);
    CUDNN_CHECK_GOTO(cudnnSetConvolution2dDescriptor(c->cd, p_h, p_w, s_h, s_w, 1, 1, CUDNN_CROSS_CORRELATION,
                                                     CUDNN_DATA_FLOAT),
                     st, fail);
    /* fp32 means fp32: without this, Ampere and newer may run TF32 tensor cores. */
    CUDNN_CHECK_GOTO(cudnnSetConvolutionMathType(c->cd, CUDNN_FMA_MATH), st, fail);
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
    return PIXAB_OK;
}

/* Algorithms whose results are plain fp32 sums of products (FFT and Winograd
 * transform the operands and lose accuracy). */
static int fwd_allowed(cudnnConvolutionFwdAlgo_t a) {
    return a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM || a == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_GEMM || a == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
}
static int bwd_allowed(cudnnConvolutionBwdDataAlgo_t a) {
    return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1 || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
}

/* Forward: the heuristics' list in its order, deterministic entries first;
 * if it offers nothing usable, the GEMM family in a fixed order. The
 * descriptor keeps CUDNN_FMA_MATH whatever mathType an entry reports: the
 * workspace query (and later the call) then holds the algorithm to FMA math. */
static int pick_fwd(legacy_dnn *d, legacy_conv *c, size_t cap, size_t *ws) {
    cudnnTensorDescriptor_t xd = d->t[0], yd = d->t[1];
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int got = 0;
    if (cudnnGetConvolutionForwardAlgorithm_v7(d->h, xd, fwd_filter(c), c->cd, yd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got,
                                               perf) != CUDNN_STATUS_SUCCESS)
        got = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < got; i++) {
            size_t need = 0;
            if (perf[i].status != CUDNN_STATUS_SUCCESS || !fwd_allowed(perf[i].algo) ||
                (pass == 0 && perf[i].determinism != CUDNN_DETERMINISTIC))
                continue;
            if (cudnnGetConvolutionForwardWorkspaceSize(d->h, xd, fwd_filter(c), c->cd, yd, perf[i].algo, &need) !=
                    CUDNN_STATUS_SUCCESS ||
                need > cap)
                continue;
            c->fwd = perf[i].algo, *ws = need;
            return 1;
        }
    static const cudnnConvolutionFwdAlgo_t fixed[] = {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
                                                      CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                                      CUDNN_CONVOLUTION_FWD_ALGO_GEMM};
    for (int i = 0; i < 3; i++) {
        size_t need = 0;
        if (cudnnGetConvolutionForwardWorkspaceSize(d->h, xd, fwd_filter(c), c->cd, yd, fixed[i], &need) ==
                CUDNN_STATUS_SUCCESS &&
            need <= cap) {
            c->fwd = fixed[i], *ws = need;
            return 1;
        }
    }
    return 0;
}

/* Backward data: the same rule; ALGO_1 is deterministic, ALGO_0 uses atomics. */
static int pick_bwd(legacy_dnn *d, legacy_conv *c, size_t cap, size_t *ws) {
    cudnnTensorDescriptor_t dxd = d->t[0], dyd = d->t[1];
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int got = 0;
    if (cudnnGetConvolutionBackwardDataAlgorithm_v7(d->h, c->wd, dyd, c->cd, dxd,
                                                    CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got,
                                                    perf) != CUDNN_STATUS_SUCCESS)
        got = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < got; i++) {
            size_t need = 0;
            if (perf[i].status != CUDNN_STATUS_SUCCESS || !bwd_allowed(perf[i].algo) ||
                (pass == 0 && perf[i].determinism != CUDNN_DETERMINISTIC))
                continue;
            if (cudnnGetConvolutionBackwardDataWorkspaceSize(d->h, c->wd, dyd, c->cd, dxd, perf[i].algo, &need) !=
                    CUDNN_STATUS_SUCCESS ||
                need > cap)
                continue;
            c->bwd = perf[i].algo, *ws = need;
            return 1;
        }
    static const cudnnConvolutionBwdDataAlgo_t fixed[] = {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1,
                                                          CUDNN_CONVOLUTION_BWD_DATA_ALGO_0};
    for (int i = 0; i < 2; i++) {
        size_t need = 0;
        if (cudnnGetConvolutionBackwardDataWorkspaceSize(d->h, c->wd, dyd, c->cd, dxd, fixed[i], &need) ==
                CUDNN_STATUS_SUCCESS &&
            need <= cap) {
            c->bwd = fixed[i], *ws = need;
            return 1;
        }
    }
    return 0;
}

extern "C" pixab_status legacy_conv_plan(legacy_dnn *d, legacy_conv *c, nhwc_view x, nhwc_view y, size_t ws_cap,
                                         size_t *ws_bytes) {
    *ws_bytes = 0;
    if (y.ld != y.c) return pixab_fail(PIXAB_ERR_ARG, "legacy_conv_plan: the output must be packed");
    pixab_status s;
    size_t fwd_ws = 0, bwd_ws = 0;
    if ((s = set_view_as(d->t[0], x, c->dt)) || (s = set_view_as(d->t[1], y, c->dt))) return s;
    c->has_fwd = pick_fwd(d, c, ws_cap, &fwd_ws);
    if ((s = set_view(d->t[0], x)) || (s = set_view(d->t[1], y))) return s;
    c->has_bwd = pick_bwd(d, c, ws_cap, &bwd_ws);
    if (!c->has_fwd)
        return pixab_fail(PIXAB_ERR_UNSUPPORTED,
                          "cuDNN offers no %s GEMM-family forward algorithm for a %dx%d conv %d -> %d "
                          "on %d images of %dx%d within %zu MiB of workspace",
                          c->dt == CUDNN_DATA_HALF ? "fp16" : c->dt == CUDNN_DATA_BFLOAT16 ? "bf16" : "fp32",
                          c->k_h, c->k_w, c->c_in, c->c_out, x.n, x.h, x.w, ws_cap >> 20);
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
        return pixab_fail(PIXAB_ERR_UNSUPPORTED,
                          "cuDNN offers no fp32 (FMA) backward-data algorithm for a %dx%d conv %d -> %d", c->k_h,
                          c->k_w, c->c_in, c->c_out);
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
    CUDNN_CHECK_GOTO(cudnnCreatePoolingDescriptor(&p->pd), st, fail);
    /* Max: the deterministic variant (CUDNN_POOLING_MAX uses atomics
     * backward). With several equal maxima in a window cuDNN sends the
     * gradient to one of them (Theano issues #5248, #5404), which one is not
     * documented; PyTorch and the CPU backend pick the first in row-major
     * order. Post-ReLU zeros make such windows common, so the parity suite
     * checks them ("maxpool ... ties"); on a miss, a custom gather kernel
     * with the first-max rule is the fix. NaN: not propagated, like the CPU
     * backend's comparison. Average: padding counted (count_include_pad=True,
     * torchvision's F.avg_pool2d default). */
    CUDNN_CHECK_GOTO(cudnnSetPooling2dDescriptor(p->pd,
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

extern "C" pixab_status legacy_pool_backward(legacy_dnn *d, const legacy_pool *p, nhwc_view y, const float *yp,
                                             const float *dyp, nhwc_view x, const float *xp, float *dxp) {
    pixab_status s;
    if ((s = set_view(d->t[0], x)) || (s = set_view(d->t[1], y))) return s;
    /* y and dy share a layout (one descriptor), as do x and dx; beta = 1 accumulates. */
    DNN_CHECK(cudnnPoolingBackward(d->h, p->pd, &one, d->t[1], yp, d->t[1], dyp, d->t[0], xp, &one, d->t[0], dxp));
    return PIXAB_OK;
}

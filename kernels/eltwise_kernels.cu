/* eltwise_kernels.cu — the CUDA backend's elementwise kernels (see
 * eltwise_kernels.h): add, multiply, activations, zero padding and their
 * backward. Per-element work from element/eltwise.cuh and nn.cuh; one thread
 * per element written (grid-stride), so no atomics: a per-channel scale's
 * gradient sums an image's pixels in one thread, in pixel order (the CPU's). */
#include <cuda_runtime.h>

#include "cuda_check.cuh"
#include "eltwise.cuh"
#include "eltwise_kernels.h"
#include "nn.cuh"

#define ELT_MAX_BLOCKS (1u << 20)

// ----------------------------------------------------------------------------
// kernels

#define ELT_LOOP(total)                                                                                              \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (total); i += (size_t)gridDim.x * blockDim.x)

__global__ void act_kernel(float *y, int ldy, const float *x, int ldx, size_t rows, int c, int act, float a, float b) {
    ELT_LOOP(rows * (size_t)c) {
        const size_t r = i / (size_t)c;
        const int k = (int)(i - r * (size_t)c);
        y[r * ldy + k] = nn_act(x[r * ldx + k], act, a, b);
    }
}

__global__ void act_backward_kernel(float *dx, int ldx, const float *dy, int ldy, const float *x, size_t rows, int c,
                                    int act, float a, float b) {
    ELT_LOOP(rows * (size_t)c) {
        const size_t r = i / (size_t)c;
        const int k = (int)(i - r * (size_t)c);
        dx[r * ldx + k] += nn_act_backward(dy[r * ldy + k], x[r * ldx + k], act, a, b);
    }
}

__global__ void add_kernel(float *y, int ldy, const float *a, int lda, const float *b, int ldb, size_t rows, int c,
                           int relu) {
    ELT_LOOP(rows * (size_t)c) {
        const size_t r = i / (size_t)c;
        const int k = (int)(i - r * (size_t)c);
        y[r * ldy + k] = nn_bias_act(a[r * lda + k], b[r * ldb + k], relu);
    }
}

__global__ void accumulate_kernel(float *dx, int ldx, const float *dy, int ldy, size_t rows, int c) {
    ELT_LOOP(rows * (size_t)c) {
        const size_t r = i / (size_t)c;
        const int k = (int)(i - r * (size_t)c);
        dx[r * ldx + k] += dy[r * ldy + k];
    }
}

__global__ void mul_kernel(float *y, int ldy, const float *a, int lda, const float *b, int ldb, size_t rows, int c,
                           size_t hw, int per_channel) {
    ELT_LOOP(rows * (size_t)c) {
        const size_t r = i / (size_t)c;
        const int k = (int)(i - r * (size_t)c);
        y[r * ldy + k] = a[r * lda + k] * b[nn_b_index(r, k, ldb, hw, per_channel)];
    }
}

/* d out += dy * other, element by element (other indexed per channel or not). */
__global__ void mul_grad_kernel(float *d, int ldd, const float *dy, int ldy, const float *other, int ldo, size_t rows,
                                int c, size_t hw, int per_channel) {
    ELT_LOOP(rows * (size_t)c) {
        const size_t r = i / (size_t)c;
        const int k = (int)(i - r * (size_t)c);
        d[r * ldd + k] += dy[r * ldy + k] * other[nn_b_index(r, k, ldo, hw, per_channel)];
    }
}

/* One thread per (image, channel) of a per-channel scale's gradient. */
__global__ void mul_scale_grad_kernel(float *db, int ldb_, const float *dy, int ldy, const float *a, int lda, int n,
                                      size_t hw, int c) {
    ELT_LOOP((size_t)n * c) {
        const size_t img = i / (size_t)c;
        const int k = (int)(i - img * (size_t)c);
        db[img * ldb_ + k] += nn_mul_scale_grad(dy + img * hw * ldy, ldy, a + img * hw * lda, lda, hw, k);
    }
}

__global__ void pad_kernel(float *y, int ldy, const float *x, int ldx, int n, int h, int w, int oh, int ow, int c,
                           int top, int left) {
    ELT_LOOP((size_t)n * oh * ow * c) {
        const size_t row = i / (size_t)c, img = row / ((size_t)oh * ow);
        const int k = (int)(i - row * (size_t)c), p = (int)(row - img * (size_t)oh * ow);
        const long q = nn_pad_source(p / ow, p % ow, h, w, top, left);
        y[row * ldy + k] = q < 0 ? 0.0f : x[(img * h * w + (size_t)q) * ldx + k];
    }
}

__global__ void pad_backward_kernel(float *dx, int ldx, const float *dy, int ldy, int n, int h, int w, int oh, int ow,
                                    int c, int top, int left) {
    ELT_LOOP((size_t)n * h * w * c) {
        const size_t row = i / (size_t)c, img = row / ((size_t)h * w);
        const int k = (int)(i - row * (size_t)c), p = (int)(row - img * (size_t)h * w);
        const size_t oy = (size_t)(p / w + top), ox = (size_t)(p % w + left);
        dx[row * ldx + k] += dy[((img * oh + oy) * ow + ox) * ldy + k];
    }
}

// ----------------------------------------------------------------------------
// launchers

static unsigned elt_blocks(size_t total) {
    size_t b = CEIL_DIV(total, (size_t)CUDA_BLOCK);
    return b > ELT_MAX_BLOCKS ? ELT_MAX_BLOCKS : (unsigned)(b ? b : 1);
}

static pixab_status elt_check(const char *who, const void *p1, const void *p2, const void *p3, int c, int ld1, int ld2,
                              int ld3) {
    if (!p1 || !p2 || !p3) return pixab_fail(PIXAB_ERR_ARG, "%s: NULL tensor", who);
    if (c < 1 || ld1 < c || ld2 < c || ld3 < c)
        return pixab_fail(PIXAB_ERR_ARG, "%s: bad slice (c %d, ld %d/%d/%d)", who, c, ld1, ld2, ld3);
    return PIXAB_OK;
}

#define ELT_LAUNCH(kernel, total, ...)                                                                               \
    do {                                                                                                             \
        if ((total) == 0) return PIXAB_OK;                                                                           \
        kernel<<<elt_blocks(total), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(__VA_ARGS__);                              \
        CUDA_CHECK_LAUNCH();                                                                                         \
        return PIXAB_OK;                                                                                             \
    } while (0)

extern "C" pixab_status nn_act_cuda(float *y, int ldy, const float *x, int ldx, size_t rows, int c, int act, float a,
                                    float b, void *stream) {
    pixab_status s = elt_check("nn_act_cuda", y, x, x, c, ldy, ldx, c);
    if (s) return s;
    if (act < 0 || act >= NN_ACT_COUNT) return pixab_fail(PIXAB_ERR_ARG, "nn_act_cuda: activation %d", act);
    ELT_LAUNCH(act_kernel, rows * (size_t)c, y, ldy, x, ldx, rows, c, act, a, b);
}

extern "C" pixab_status nn_act_backward_cuda(float *dx, int ldx, const float *dy, int ldy, const float *x,
                                             size_t rows, int c, int act, float a, float b, void *stream) {
    pixab_status s = elt_check("nn_act_backward_cuda", dx, dy, x, c, ldx, ldy, c);
    if (s) return s;
    if (act < 0 || act >= NN_ACT_COUNT) return pixab_fail(PIXAB_ERR_ARG, "nn_act_backward_cuda: activation %d", act);
    ELT_LAUNCH(act_backward_kernel, rows * (size_t)c, dx, ldx, dy, ldy, x, rows, c, act, a, b);
}

extern "C" pixab_status nn_add_cuda(float *y, int ldy, const float *a, int lda, const float *b, int ldb, size_t rows,
                                    int c, int relu, void *stream) {
    pixab_status s = elt_check("nn_add_cuda", y, a, b, c, ldy, lda, ldb);
    if (s) return s;
    ELT_LAUNCH(add_kernel, rows * (size_t)c, y, ldy, a, lda, b, ldb, rows, c, relu);
}

extern "C" pixab_status nn_accumulate_cuda(float *dx, int ldx, const float *dy, int ldy, size_t rows, int c,
                                           void *stream) {
    pixab_status s = elt_check("nn_accumulate_cuda", dx, dy, dy, c, ldx, ldy, c);
    if (s) return s;
    ELT_LAUNCH(accumulate_kernel, rows * (size_t)c, dx, ldx, dy, ldy, rows, c);
}

extern "C" pixab_status nn_mul_cuda(float *y, int ldy, const float *a, int lda, const float *b, int ldb, size_t rows,
                                    int c, size_t hw, int per_channel, void *stream) {
    pixab_status s = elt_check("nn_mul_cuda", y, a, b, c, ldy, lda, ldb);
    if (s) return s;
    if (per_channel && (hw == 0 || rows % hw)) return pixab_fail(PIXAB_ERR_ARG, "nn_mul_cuda: %zu rows of images of %zu", rows, hw);
    ELT_LAUNCH(mul_kernel, rows * (size_t)c, y, ldy, a, lda, b, ldb, rows, c, hw, per_channel);
}

extern "C" pixab_status nn_mul_backward_cuda(float *da, int lda_, float *db, int ldb_, const float *dy, int ldy,
                                             const float *a, int lda, const float *b, int ldb, size_t rows, int c,
                                             size_t hw, int per_channel, void *stream) {
    pixab_status s = elt_check("nn_mul_backward_cuda", da, dy, a, c, lda_, ldy, lda);
    if (!s) s = elt_check("nn_mul_backward_cuda", db, b, b, c, ldb_, ldb, c);
    if (s) return s;
    if (per_channel && (hw == 0 || rows % hw))
        return pixab_fail(PIXAB_ERR_ARG, "nn_mul_backward_cuda: %zu rows of images of %zu", rows, hw);
    if (rows == 0) return PIXAB_OK;
    mul_grad_kernel<<<elt_blocks(rows * (size_t)c), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(da, lda_, dy, ldy, b, ldb,
                                                                                           rows, c, hw, per_channel);
    CUDA_CHECK_LAUNCH();
    if (per_channel)
        ELT_LAUNCH(mul_scale_grad_kernel, (rows / hw) * (size_t)c, db, ldb_, dy, ldy, a, lda, (int)(rows / hw), hw, c);
    ELT_LAUNCH(mul_grad_kernel, rows * (size_t)c, db, ldb_, dy, ldy, a, lda, rows, c, hw, 0);
}

static pixab_status pad_check(const char *who, const void *p1, const void *p2, int ld1, int ld2, int n, int h, int w,
                              int oh, int ow, int c, int top, int left) {
    pixab_status s = elt_check(who, p1, p2, p2, c, ld1, ld2, c);
    if (s) return s;
    if (n < 0 || h < 1 || w < 1 || top < 0 || left < 0 || oh < h + top || ow < w + left)
        return pixab_fail(PIXAB_ERR_ARG, "%s: bad shape (%d images, %dx%d -> %dx%d, top %d, left %d)", who, n, h, w, oh,
                          ow, top, left);
    return PIXAB_OK;
}

extern "C" pixab_status nn_pad_cuda(float *y, int ldy, const float *x, int ldx, int n, int h, int w, int oh, int ow,
                                    int c, int top, int left, void *stream) {
    pixab_status s = pad_check("nn_pad_cuda", y, x, ldy, ldx, n, h, w, oh, ow, c, top, left);
    if (s) return s;
    ELT_LAUNCH(pad_kernel, (size_t)n * oh * ow * c, y, ldy, x, ldx, n, h, w, oh, ow, c, top, left);
}

extern "C" pixab_status nn_pad_backward_cuda(float *dx, int ldx, const float *dy, int ldy, int n, int h, int w, int oh,
                                             int ow, int c, int top, int left, void *stream) {
    pixab_status s = pad_check("nn_pad_backward_cuda", dx, dy, ldx, ldy, n, h, w, oh, ow, c, top, left);
    if (s) return s;
    ELT_LAUNCH(pad_backward_kernel, (size_t)n * h * w * c, dx, ldx, dy, ldy, n, h, w, oh, ow, c, top, left);
}

/* nn_kernels.cu — the CUDA backend's own network kernels (see nn_kernels.h):
 * bias + ReLU into a channel slice, the ReLU mask of the backward pass, global
 * average pooling and its backward, the pools where cuDNN has none and their
 * backward, a direct convolution and its backward-data. Per-element work
 * from nn.cuh. */
#include <cuda_runtime.h>

#include "cuda_check.cuh"
#include "nn.cuh"
#include "nn_kernels.h"

/* Grid-stride kernels: at most this many blocks, whatever the element count. */
#define NN_MAX_BLOCKS (1u << 20)

// ----------------------------------------------------------------------------
// kernels

/* One thread per element (r, k) of a rows x c slice. */
__global__ void bias_act_kernel(float *dst, int ldd, const float *src, int lds, const float *bias, size_t rows, int c,
                                int relu) {
    const size_t total = rows * (size_t)c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / (size_t)c;
        int k = (int)(i - r * (size_t)c);
        dst[r * ldd + k] = nn_bias_act(src[r * lds + k], bias ? bias[k] : 0.0f, relu);
    }
}

/* guided: guided backpropagation's mask (nn_guided_relu_mask) instead of the plain one. */
__global__ void relu_mask_kernel(float *dz, int ldz, const float *dy, int ldy, const float *y, int ldyy, size_t rows,
                                 int c, int guided) {
    const size_t total = rows * (size_t)c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / (size_t)c;
        int k = (int)(i - r * (size_t)c);
        const float g = dy[r * ldy + k], v = y[r * ldyy + k];
        dz[r * ldz + k] = guided ? nn_guided_relu_mask(g, v) : nn_relu_mask(g, v);
    }
}

/* One thread per (image, channel): neighbouring threads read neighbouring channels. */
__global__ void gap_kernel(float *y, int ldy, const float *x, int ldx, int n, size_t hw, int c) {
    const size_t total = (size_t)n * c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t img = i / (size_t)c;
        int k = (int)(i - img * (size_t)c);
        y[img * ldy + k] = nn_gap_channel(x + img * hw * ldx, hw, ldx, k);
    }
}

/* One thread per element of dx's slice: no two threads touch the same float. */
__global__ void gap_backward_kernel(float *dx, int ldx, const float *dy, int ldy, int n, size_t hw, int c) {
    const size_t total = (size_t)n * hw * c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t row = i / (size_t)c, img = row / hw;
        int k = (int)(i - row * (size_t)c);
        dx[row * ldx + k] += dy[img * ldy + k] / (float)hw;
    }
}

/* One thread per element of dx's slice (n, h, w, c): the gather of nn.cuh,
 * so each float has one writer and the sum a fixed order. */
__global__ void pool_backward_kernel(float *dx, int ldx, const float *x, const float *y, const float *dy, int ldy,
                                     int n, int h, int w, int oh, int ow, int c, nn_window win, int is_max) {
    const size_t total = (size_t)n * h * w * c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t row = i / (size_t)c, img = row / ((size_t)h * w);
        const int k = (int)(i - row * (size_t)c), p = (int)(row - img * (size_t)h * w);
        const size_t y_img = img * (size_t)oh * ow * ldy;
        float *d = dx + row * ldx + k;
        *d = nn_pool_backward_at(*d, x + img * (size_t)h * w * ldx + k, ldx, h, w, y + y_img + k, dy + y_img + k, ldy,
                                 oh, ow, p / w, p % w, win, is_max);
    }
}

/* One thread per output element (n, oh, ow, c). */
__global__ void pool_kernel(float *y, int ldy, const float *x, int ldx, int n, int h, int w, int oh, int ow, int c,
                            nn_window win, int is_max) {
    const size_t total = (size_t)n * oh * ow * c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t row = i / (size_t)c, img = row / ((size_t)oh * ow);
        const int k = (int)(i - row * (size_t)c), p = (int)(row - img * (size_t)oh * ow);
        y[row * ldy + k] = nn_pool_at(x + img * (size_t)h * w * ldx + k, ldx, h, w, p / ow, p % ow, win, is_max);
    }
}

/* One thread per output element (n, oh, ow, c_out): neighbouring threads, neighbouring channels. */
__global__ void conv_direct_kernel(float *y, int ldy, const float *x, int ldx, const float *wt, const float *bias,
                                   int n, int h, int w, int c_in, int oh, int ow, int c_out, int group, nn_window win,
                                   int relu) {
    const size_t total = (size_t)n * oh * ow * c_out;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t row = i / (size_t)c_out, img = row / ((size_t)oh * ow);
        const int k = (int)(i - row * (size_t)c_out), p = (int)(row - img * (size_t)oh * ow);
        const float v = nn_conv_at(x + img * (size_t)h * w * ldx, ldx, h, w, wt, c_in, c_out, group, win, p / ow,
                                   p % ow, k);
        y[row * ldy + k] = nn_bias_act(v, bias[k], relu);
    }
}

__global__ void conv_backward_data_kernel(float *dx, int ldx, const float *dz, const float *wt, int n, int h, int w,
                                          int c_in, int oh, int ow, int c_out, int group, nn_window win) {
    const size_t total = (size_t)n * h * w * c_in;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t row = i / (size_t)c_in, img = row / ((size_t)h * w);
        const int ci = (int)(i - row * (size_t)c_in), p = (int)(row - img * (size_t)h * w);
        dx[row * ldx + ci] += nn_conv_backward_data_at(dz + img * (size_t)oh * ow * c_out, oh, ow, c_out, wt, c_in,
                                                       group, win, p / w, p % w, ci);
    }
}

// ----------------------------------------------------------------------------
// launchers

static unsigned nn_blocks(size_t total) {
    size_t b = CEIL_DIV(total, (size_t)CUDA_BLOCK);
    return b > NN_MAX_BLOCKS ? NN_MAX_BLOCKS : (unsigned)b;
}

/* Shared preconditions: sizes >= 0 and leading dimensions that hold a row. */
static pixab_status nn_check(const char *who, int c, int ld1, int ld2, int ld3) {
    if (c < 1 || ld1 < c || ld2 < c || ld3 < c)
        return pixab_fail(PIXAB_ERR_ARG, "%s: bad slice (c %d, ld %d/%d/%d)", who, c, ld1, ld2, ld3);
    return PIXAB_OK;
}

extern "C" pixab_status nn_bias_act_cuda(float *dst, int ldd, const float *src, int lds, const float *bias,
                                         size_t rows, int c, int relu, void *stream) {
    if (!dst || !src) return pixab_fail(PIXAB_ERR_ARG, "nn_bias_act_cuda: NULL tensor");
    pixab_status s = nn_check("nn_bias_act_cuda", c, ldd, lds, c);
    if (s || rows == 0) return s;
    if (src == dst && lds != ldd) return pixab_fail(PIXAB_ERR_ARG, "nn_bias_act_cuda: in place with two strides");
    bias_act_kernel<<<nn_blocks(rows * (size_t)c), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(dst, ldd, src, lds, bias,
                                                                                            rows, c, relu);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

/* The launchers of relu_mask_kernel, plain and guided; fn names the launcher. */
static pixab_status relu_mask_launch(const char *fn, float *dz, int ldz, const float *dy, int ldy, const float *y,
                                     int ldyy, size_t rows, int c, int guided, void *stream) {
    if (!dz || !dy || !y) return pixab_fail(PIXAB_ERR_ARG, "%s: NULL tensor", fn);
    pixab_status s = nn_check(fn, c, ldz, ldy, ldyy);
    if (s || rows == 0) return s;
    if (dz == dy && ldz != ldy) return pixab_fail(PIXAB_ERR_ARG, "%s: in place with two strides", fn);
    relu_mask_kernel<<<nn_blocks(rows * (size_t)c), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(dz, ldz, dy, ldy, y, ldyy,
                                                                                             rows, c, guided);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status nn_relu_mask_cuda(float *dz, int ldz, const float *dy, int ldy, const float *y, int ldyy,
                                          size_t rows, int c, void *stream) {
    return relu_mask_launch("nn_relu_mask_cuda", dz, ldz, dy, ldy, y, ldyy, rows, c, 0, stream);
}

extern "C" pixab_status nn_guided_relu_mask_cuda(float *dy, int ldy, const float *y, int ldyy, size_t rows, int c,
                                                 void *stream) {
    return relu_mask_launch("nn_guided_relu_mask_cuda", dy, ldy, dy, ldy, y, ldyy, rows, c, 1, stream);
}

extern "C" pixab_status nn_gap_cuda(float *y, int ldy, const float *x, int ldx, int n, size_t hw, int c,
                                    void *stream) {
    if (!y || !x) return pixab_fail(PIXAB_ERR_ARG, "nn_gap_cuda: NULL tensor");
    pixab_status s = nn_check("nn_gap_cuda", c, ldy, ldx, c);
    if (s) return s;
    if (n < 0 || hw == 0) return pixab_fail(PIXAB_ERR_ARG, "nn_gap_cuda: %d images of %zu pixels", n, hw);
    if (n == 0) return PIXAB_OK;
    gap_kernel<<<nn_blocks((size_t)n * c), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(y, ldy, x, ldx, n, hw, c);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status nn_gap_backward_cuda(float *dx, int ldx, const float *dy, int ldy, int n, size_t hw, int c,
                                             void *stream) {
    if (!dx || !dy) return pixab_fail(PIXAB_ERR_ARG, "nn_gap_backward_cuda: NULL tensor");
    pixab_status s = nn_check("nn_gap_backward_cuda", c, ldx, ldy, c);
    if (s) return s;
    if (n < 0 || hw == 0) return pixab_fail(PIXAB_ERR_ARG, "nn_gap_backward_cuda: %d images of %zu pixels", n, hw);
    if (n == 0) return PIXAB_OK;
    gap_backward_kernel<<<nn_blocks((size_t)n * hw * c), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(dx, ldx, dy, ldy, n,
                                                                                                  hw, c);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

/* Shared preconditions of the two windowed backward launchers. */
static pixab_status window_check(const char *who, int n, int h, int w, int oh, int ow, nn_window win) {
    if (n < 0 || h < 1 || w < 1 || oh < 1 || ow < 1 || win.k_h < 1 || win.k_w < 1 || win.s_h < 1 || win.s_w < 1 ||
        win.p_h < 0 || win.p_w < 0 || win.p_h + win.e_h < 0 || win.p_w + win.e_w < 0)
        return pixab_fail(PIXAB_ERR_ARG, "%s: bad shape (%d images, %dx%d -> %dx%d, window %dx%d s%d,%d p%d,%d)",
                          who, n, h, w, oh, ow, win.k_h, win.k_w, win.s_h, win.s_w, win.p_h, win.p_w);
    return PIXAB_OK;
}

extern "C" pixab_status nn_pool_backward_cuda(float *dx, int ldx, const float *x, const float *y, const float *dy,
                                              int ldy, int n, int h, int w, int oh, int ow, int c, nn_window win,
                                              int is_max, void *stream) {
    if (!dx || !x || !y || !dy) return pixab_fail(PIXAB_ERR_ARG, "nn_pool_backward_cuda: NULL tensor");
    pixab_status s = nn_check("nn_pool_backward_cuda", c, ldx, ldy, c);
    if (s || (s = window_check("nn_pool_backward_cuda", n, h, w, oh, ow, win)) || n == 0) return s;
    pool_backward_kernel<<<nn_blocks((size_t)n * h * w * c), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(
        dx, ldx, x, y, dy, ldy, n, h, w, oh, ow, c, win, is_max);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status nn_pool_cuda(float *y, int ldy, const float *x, int ldx, int n, int h, int w, int oh, int ow,
                                     int c, nn_window win, int is_max, void *stream) {
    if (!y || !x) return pixab_fail(PIXAB_ERR_ARG, "nn_pool_cuda: NULL tensor");
    pixab_status s = nn_check("nn_pool_cuda", c, ldy, ldx, c);
    if (s || (s = window_check("nn_pool_cuda", n, h, w, oh, ow, win)) || n == 0) return s;
    pool_kernel<<<nn_blocks((size_t)n * oh * ow * c), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(y, ldy, x, ldx, n, h, w, oh,
                                                                                              ow, c, win, is_max);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

/* Groups that divide both channel counts. */
static pixab_status group_check(const char *who, int c_in, int c_out, int group) {
    if (c_out < 1 || group < 1 || c_in % group || c_out % group)
        return pixab_fail(PIXAB_ERR_ARG, "%s: %d -> %d channels in %d groups", who, c_in, c_out, group);
    return PIXAB_OK;
}

extern "C" pixab_status nn_conv_direct_cuda(float *y, int ldy, const float *x, int ldx, const float *wt,
                                            const float *bias, int n, int h, int w, int c_in, int oh, int ow,
                                            int c_out, int group, nn_window win, int relu, void *stream) {
    if (!y || !x || !wt || !bias) return pixab_fail(PIXAB_ERR_ARG, "nn_conv_direct_cuda: NULL tensor");
    pixab_status s = nn_check("nn_conv_direct_cuda", c_in, ldx, c_in, c_in);
    if (!s) s = nn_check("nn_conv_direct_cuda", c_out, ldy, c_out, c_out);
    if (s || (s = group_check("nn_conv_direct_cuda", c_in, c_out, group)) ||
        (s = window_check("nn_conv_direct_cuda", n, h, w, oh, ow, win)) || n == 0)
        return s;
    conv_direct_kernel<<<nn_blocks((size_t)n * oh * ow * c_out), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(
        y, ldy, x, ldx, wt, bias, n, h, w, c_in, oh, ow, c_out, group, win, relu);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status nn_conv_backward_data_cuda(float *dx, int ldx, const float *dz, const float *wt, int n,
                                                   int h, int w, int c_in, int oh, int ow, int c_out, int group,
                                                   nn_window win, void *stream) {
    if (!dx || !dz || !wt) return pixab_fail(PIXAB_ERR_ARG, "nn_conv_backward_data_cuda: NULL tensor");
    pixab_status s = nn_check("nn_conv_backward_data_cuda", c_in, ldx, c_in, c_in);
    if (s || (s = window_check("nn_conv_backward_data_cuda", n, h, w, oh, ow, win)) || n == 0) return s;
    if ((s = group_check("nn_conv_backward_data_cuda", c_in, c_out, group))) return s;
    conv_backward_data_kernel<<<nn_blocks((size_t)n * h * w * c_in), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(
        dx, ldx, dz, wt, n, h, w, c_in, oh, ow, c_out, group, win);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

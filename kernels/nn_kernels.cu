/* nn_kernels.cu — the CUDA backend's own network kernels (see nn_kernels.h):
 * bias + ReLU into a channel slice, the ReLU mask of the backward pass, global
 * average pooling and its backward. Per-element work from nn.cuh. */
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

__global__ void relu_mask_kernel(float *dz, int ldz, const float *dy, int ldy, const float *y, int ldyy, size_t rows,
                                 int c) {
    const size_t total = rows * (size_t)c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / (size_t)c;
        int k = (int)(i - r * (size_t)c);
        dz[r * ldz + k] = nn_relu_mask(dy[r * ldy + k], y[r * ldyy + k]);
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

extern "C" pixab_status nn_relu_mask_cuda(float *dz, int ldz, const float *dy, int ldy, const float *y, int ldyy,
                                          size_t rows, int c, void *stream) {
    if (!dz || !dy || !y) return pixab_fail(PIXAB_ERR_ARG, "nn_relu_mask_cuda: NULL tensor");
    pixab_status s = nn_check("nn_relu_mask_cuda", c, ldz, ldy, ldyy);
    if (s || rows == 0) return s;
    if (dz == dy && ldz != ldy) return pixab_fail(PIXAB_ERR_ARG, "nn_relu_mask_cuda: in place with two strides");
    relu_mask_kernel<<<nn_blocks(rows * (size_t)c), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(dz, ldz, dy, ldy, y, ldyy,
                                                                                             rows, c);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
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

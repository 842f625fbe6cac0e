/* precision.cu — fp32 <-> fp16 / bf16 conversion kernels of the reduced
 * precisions (see precision.h): the cast of an op's input (or of the weights,
 * once) into 16-bit scratch, and bias + ReLU from a 16-bit convolution result
 * into the op's fp32 channel slice (nn_bias_act of nn.cuh, the CPU's formula). */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "cuda_check.cuh"
#include "nn.cuh"
#include "precision.h"

#define PRECISION_MAX_BLOCKS (1u << 20)

// ----------------------------------------------------------------------------
// kernels

template <typename T> __device__ T to_lp(float v);
template <> __device__ __half to_lp<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __nv_bfloat16 to_lp<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
__device__ float from_lp(__half v) { return __half2float(v); }
__device__ float from_lp(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __global__ void cast_kernel(T *dst, const float *src, int lds, size_t rows, int c) {
    const size_t total = rows * (size_t)c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / (size_t)c;
        dst[i] = to_lp<T>(src[r * lds + (i - r * (size_t)c)]);
    }
}

template <typename T>
__global__ void bias_act_lp_kernel(float *dst, int ldd, const T *src, const float *bias, size_t rows, int c, int relu) {
    const size_t total = rows * (size_t)c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / (size_t)c;
        int k = (int)(i - r * (size_t)c);
        dst[r * ldd + k] = nn_bias_act(from_lp(src[i]), bias ? bias[k] : 0.0f, relu);
    }
}

// ----------------------------------------------------------------------------
// launchers

static unsigned precision_blocks(size_t total) {
    size_t b = CEIL_DIV(total, (size_t)CUDA_BLOCK);
    return b > PRECISION_MAX_BLOCKS ? PRECISION_MAX_BLOCKS : (unsigned)b;
}

extern "C" pixab_status precision_cast_cuda(void *dst, int bf16, const float *src, int lds, size_t rows, int c,
                                            void *stream) {
    if (!dst || !src || c < 1 || lds < c)
        return pixab_fail(PIXAB_ERR_ARG, "precision_cast_cuda: %s (c %d, ld %d)", !dst || !src ? "NULL" : "bad slice",
                          c, lds);
    const size_t total = rows * (size_t)c;
    if (!total) return PIXAB_OK;
    cudaStream_t st = (cudaStream_t)stream;
    if (bf16)
        cast_kernel<<<precision_blocks(total), CUDA_BLOCK, 0, st>>>((__nv_bfloat16 *)dst, src, lds, rows, c);
    else
        cast_kernel<<<precision_blocks(total), CUDA_BLOCK, 0, st>>>((__half *)dst, src, lds, rows, c);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status precision_bias_act_cuda(float *dst, int ldd, const void *src, int bf16, const float *bias,
                                                size_t rows, int c, int relu, void *stream) {
    if (!dst || !src || c < 1 || ldd < c)
        return pixab_fail(PIXAB_ERR_ARG, "precision_bias_act_cuda: %s (c %d, ld %d)",
                          !dst || !src ? "NULL" : "bad slice", c, ldd);
    const size_t total = rows * (size_t)c;
    if (!total) return PIXAB_OK;
    cudaStream_t st = (cudaStream_t)stream;
    if (bf16)
        bias_act_lp_kernel<<<precision_blocks(total), CUDA_BLOCK, 0, st>>>(dst, ldd, (const __nv_bfloat16 *)src, bias,
                                                                           rows, c, relu);
    else
        bias_act_lp_kernel<<<precision_blocks(total), CUDA_BLOCK, 0, st>>>(dst, ldd, (const __half *)src, bias, rows,
                                                                           c, relu);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

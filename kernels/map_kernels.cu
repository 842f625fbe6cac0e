/* map_kernels.cu — the map kernels and their launchers (see map_kernels.h):
 * class scores, Pixab-CAM's reduction, weighted channel sums, ReLU + min-max,
 * bilinear upsampling. The per-element functions are those of the CPU path
 * (map.cuh, ablate.cuh, preprocess.cuh); only the min/max search is a
 * parallel reduction here (exact: min and max do not depend on the order). */
#include <math.h>

#include <cuda_runtime.h>

#include "ablate.cuh"
#include "map.cuh"
#include "map_kernels.h"
#include "cuda_check.cuh"
#include "preprocess.cuh"
#include "score_mask.cuh"

#define NORMALIZE_THREADS 1024

// ----------------------------------------------------------------------------
// kernels

/* One thread per row (rows are short: classes); the CPU's formula and order. */
__global__ void class_scores_kernel(float *s, const float *logits, int n, int classes, int cls, int softmax) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) s[i] = map_class_score(logits + (size_t)i * classes, classes, cls, softmax);
}

__global__ void pixab_reduce_kernel(float *map, const float *scores, int n_boxes, int HW) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p < HW) map[p] = ablate_pixab_reduce(scores, n_boxes, HW, p);
}

__global__ void weighted_sum_kernel(float *map, const float *a, const float *w, int HW, int K) {
    int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p < HW) map[p] = map_pixel_sum(a + (size_t)p * K, w, K);
}

/* The block's min and max of every thread's (l, h), by a shared-memory tree
 * (exact: min and max do not depend on the order). Every thread gets them. */
__device__ void block_minmax(float l, float h, float *mn, float *mx) {
    __shared__ float lo[NORMALIZE_THREADS], hi[NORMALIZE_THREADS];
    lo[threadIdx.x] = l, hi[threadIdx.x] = h;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) {
            lo[threadIdx.x] = fminf(lo[threadIdx.x], lo[threadIdx.x + half]);
            hi[threadIdx.x] = fmaxf(hi[threadIdx.x], hi[threadIdx.x + half]);
        }
        __syncthreads();
    }
    *mn = lo[0], *mx = hi[0];
}

/* One block: min and max of the ReLU'd map, then map_minmax per element. */
__global__ void normalize_kernel(float *map, int n) {
    float l = INFINITY, h = -INFINITY, mn, mx;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = map_relu(map[i]);
        l = fminf(l, v);
        h = fmaxf(h, v);
    }
    block_minmax(l, h, &mn, &mx);
    for (int i = threadIdx.x; i < n; i += blockDim.x) map[i] = map_minmax(map[i], mn, mx);
}

/* One block per channel k: min and max of its S x S mask samples. */
__global__ void mask_ranges_kernel(float *ranges, const float *a, int H, int W, int K, int S) {
    const int k = blockIdx.x;
    float l = INFINITY, h = -INFINITY, mn, mx;
    for (int i = threadIdx.x; i < S * S; i += blockDim.x) {
        float v = score_mask_sample(a, W, K, k, bilinear_axis(i / S, H, S), bilinear_axis(i % S, W, S));
        l = fminf(l, v);
        h = fmaxf(h, v);
    }
    block_minmax(l, h, &mn, &mx);
    if (threadIdx.x == 0) ranges[2 * k] = mn, ranges[2 * k + 1] = mx;
}

__global__ void upsample_kernel(float *out, const float *map, int h, int w, int out_h, int out_w) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= out_h * out_w) return;
    int y = i / out_w, x = i % out_w;
    out[i] = bilinear_sample_f32(map, w, 1, bilinear_axis(y, h, out_h), bilinear_axis(x, w, out_w));
}

// ----------------------------------------------------------------------------
// launchers

extern "C" pixab_status map_class_scores_cuda(float *s, const float *logits, int n, int classes, int cls, int softmax,
                                              void *stream) {
    if (!s || !logits) return pixab_fail(PIXAB_ERR_ARG, "map_class_scores_cuda: NULL tensor");
    if (n < 0 || classes < 1 || cls < 0 || cls >= classes)
        return pixab_fail(PIXAB_ERR_ARG, "map_class_scores_cuda: %d rows, class %d of %d", n, cls, classes);
    if (!n) return PIXAB_OK;
    class_scores_kernel<<<CEIL_DIV(n, CUDA_BLOCK), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(s, logits, n, classes, cls,
                                                                                         softmax);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status map_pixab_reduce_cuda(float *map, const float *scores, int n_boxes, int HW, void *stream) {
    if (!map || !scores) return pixab_fail(PIXAB_ERR_ARG, "map_pixab_reduce_cuda: NULL tensor");
    if (n_boxes < 1 || n_boxes > PIXAB_MAX_BOXES || HW < 1)
        return pixab_fail(PIXAB_ERR_ARG, "map_pixab_reduce_cuda: %d boxes, %d positions", n_boxes, HW);
    pixab_reduce_kernel<<<CEIL_DIV(HW, CUDA_BLOCK), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(map, scores, n_boxes, HW);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status map_weighted_sum_cuda(float *map, const float *a, const float *w, int HW, int K,
                                              void *stream) {
    if (!map || !a) return pixab_fail(PIXAB_ERR_ARG, "map_weighted_sum_cuda: NULL tensor");
    if (HW < 1 || K < 1) return pixab_fail(PIXAB_ERR_ARG, "map_weighted_sum_cuda: %d positions, %d channels", HW, K);
    weighted_sum_kernel<<<CEIL_DIV(HW, CUDA_BLOCK), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(map, a, w, HW, K);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status map_normalize_cuda(float *map, int n, void *stream) {
    if (!map || n < 1) return pixab_fail(PIXAB_ERR_ARG, "map_normalize_cuda: %s", map ? "empty map" : "NULL map");
    normalize_kernel<<<1, NORMALIZE_THREADS, 0, (cudaStream_t)stream>>>(map, n);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status map_mask_ranges_cuda(float *ranges, const float *a, int H, int W, int K, int S,
                                             void *stream) {
    if (!ranges || !a) return pixab_fail(PIXAB_ERR_ARG, "map_mask_ranges_cuda: NULL tensor");
    if (H < 1 || W < 1 || K < 1 || S < 1 || S > PREPROCESS_MAX_SIZE)
        return pixab_fail(PIXAB_ERR_ARG, "map_mask_ranges_cuda: %dx%dx%d to %d", H, W, K, S);
    mask_ranges_kernel<<<K, NORMALIZE_THREADS, 0, (cudaStream_t)stream>>>(ranges, a, H, W, K, S);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status map_upsample_cuda(float *out, const float *map, int h, int w, int out_h, int out_w,
                                          void *stream) {
    if (!out || !map) return pixab_fail(PIXAB_ERR_ARG, "map_upsample_cuda: NULL tensor");
    if (h < 1 || w < 1 || out_h < 1 || out_w < 1 || (long)out_h * out_w > PIXAB_IMAGE_MAX_PIXELS)
        return pixab_fail(PIXAB_ERR_ARG, "map_upsample_cuda: cannot resize a %dx%d map to %dx%d", h, w, out_h, out_w);
    const int n = out_h * out_w;
    upsample_kernel<<<CEIL_DIV(n, CUDA_BLOCK), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(out, map, h, w, out_h, out_w);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

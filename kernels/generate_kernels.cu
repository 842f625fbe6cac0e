/* generate_kernels.cu — the ablation-batch kernels and their launchers (see generate_kernels.h).
 * One thread per output element, grid-stride; the element rules are the
 * PIXAB_HD functions of ablate.cuh, so the CPU backend computes the same
 * values (tests/gpu/gpu_parity.c checks them; tests/test_ablate_shared.c
 * checks the rules themselves on the CPU). */
#include <cuda_runtime.h>

#include "ablate.cuh"
#include "score_mask.cuh"
#include "generate_kernels.h"
#include "cuda_check.cuh"

/* Grid-stride kernels: at most this many blocks, whatever the element count. */
#define ABLATE_MAX_BLOCKS (1u << 20)

// ----------------------------------------------------------------------------
// kernels

/* dst (count, H, W, K): neighbouring threads write neighbouring channels. */
__global__ void ablate_boxes_kernel(float *dst, const float *a, int H, int W, int K, ablate_box_set boxes, int first,
                                    size_t total) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t px = i / (size_t)K, item = px / ((size_t)H * W);
        int k = (int)(i - px * (size_t)K), p = (int)(px - item * (size_t)H * W);
        dst[i] = ablate_box_element(a, &boxes, first + (int)item, H, W, K, p / W, p % W, k);
    }
}

/* dst (count, classes): box sums of at most box-area pixel logits per thread;
 * neighbouring threads read neighbouring classes. */
__global__ void ablate_box_logits_kernel(float *dst, const float *q, const float *logits0, const float *bias, int H,
                                         int W, int classes, ablate_box_set boxes, int first, size_t total) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t item = i / (size_t)classes;
        int j = (int)(i - item * (size_t)classes);
        dst[i] = ablate_box_logit(q, &boxes, first + (int)item, H, W, classes, j, logits0[j], bias[j]);
    }
}

__global__ void ablate_channels_kernel(float *dst, const float *a, int HW, int K, int first, size_t total) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t px = i / (size_t)K, item = px / (size_t)HW;
        int k = (int)(i - px * (size_t)K);
        dst[i] = ablate_channel_element(a, first + (int)item, K, (long)(px - item * (size_t)HW), k);
    }
}

/* One block per item: the channel mean once (thread 0, the CPU's order), then
 * the block's threads over the classes. */
__global__ void ablate_channel_logits_kernel(float *logits, const float *logits0, const float *w, const float *a,
                                             int HW, int K, int classes, int first) {
    __shared__ double pooled;
    const int item = first + blockIdx.x, k = item - 1;
    if (k >= 0 && threadIdx.x == 0) pooled = ablate_channel_mean(a, HW, K, k);
    __syncthreads();
    float *row = logits + (size_t)blockIdx.x * classes;
    for (int j = threadIdx.x; j < classes; j += blockDim.x)
        row[j] = k < 0 ? logits0[j] : ablate_channel_logit(logits0[j], w[(size_t)j * K + k], pooled);
}

/* dst (count, S, S, 3): item 0 zeros, item 1 + i the input times channel
 * channels[i]'s scaled mask; a thread per pixel (the mask sample once). */
__global__ void masked_inputs_kernel(float *dst, const float *input, const float *a, const float *ranges,
                                     const int *channels, int H, int W, int K, int S, int first, size_t total) {
    const size_t pixels = (size_t)S * S;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t item = i / pixels, p = i - item * pixels;
        float *out = dst + i * 3;
        const int it = first + (int)item;
        if (it == 0) {
            out[0] = out[1] = out[2] = 0.0f;
            continue;
        }
        const int k = channels[it - 1], oy = (int)(p / (size_t)S), ox = (int)(p % (size_t)S);
        float m = score_mask_scale(score_mask_sample(a, W, K, k, bilinear_axis(oy, H, S), bilinear_axis(ox, W, S)),
                                   ranges[2 * k], ranges[2 * k + 1]);
        for (int ch = 0; ch < 3; ch++) out[ch] = __fmul_rn(input[p * 3 + ch], m);
    }
}

// ----------------------------------------------------------------------------
// launchers

static unsigned ablate_blocks(size_t total) {
    size_t b = CEIL_DIV(total, (size_t)CUDA_BLOCK);
    return b > ABLATE_MAX_BLOCKS ? ABLATE_MAX_BLOCKS : (unsigned)b;
}

static pixab_status check_shape(const char *who, int H, int W, int K, int first, int count) {
    if (H < 1 || W < 1 || K < 1 || first < 0 || count < 0)
        return pixab_fail(PIXAB_ERR_ARG, "%s: bad shape %dx%dx%d or items [%d, +%d)", who, H, W, K, first, count);
    return PIXAB_OK;
}

/* The box list by value, checked: every item of [first, first + count) must exist. */
static pixab_status box_set(const char *who, ablate_box_set *b, int H, int W, int n_boxes, const int *box_h,
                            const int *box_w, int first, int count) {
    if (n_boxes < 1 || n_boxes > PIXAB_MAX_BOXES || !box_h || !box_w)
        return pixab_fail(PIXAB_ERR_ARG, "%s: %d boxes (1 to %d)", who, n_boxes, PIXAB_MAX_BOXES);
    if ((long)first + count > 2 + 2L * n_boxes * H * W)
        return pixab_fail(PIXAB_ERR_ARG, "%s: items [%d, +%d) of a batch of %ld", who, first, count,
                          2 + 2L * n_boxes * H * W);
    memset(b, 0, sizeof *b);
    b->n = n_boxes;
    for (int i = 0; i < n_boxes; i++) {
        if (box_h[i] < 1 || box_w[i] < 1) return pixab_fail(PIXAB_ERR_ARG, "%s: box %dx%d", who, box_h[i], box_w[i]);
        b->h[i] = box_h[i], b->w[i] = box_w[i];
    }
    return PIXAB_OK;
}

extern "C" pixab_status ablate_boxes_cuda(float *dst, const float *a, int H, int W, int K, int n_boxes,
                                          const int *box_h, const int *box_w, int first, int count, void *stream) {
    ablate_box_set b;
    pixab_status s = check_shape("ablate_boxes_cuda", H, W, K, first, count);
    if (s || (s = box_set("ablate_boxes_cuda", &b, H, W, n_boxes, box_h, box_w, first, count))) return s;
    if (!dst || !a) return pixab_fail(PIXAB_ERR_ARG, "ablate_boxes_cuda: NULL tensor");
    const size_t total = (size_t)count * H * W * K;
    if (!total) return PIXAB_OK;
    ablate_boxes_kernel<<<ablate_blocks(total), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(dst, a, H, W, K, b, first,
                                                                                       total);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status ablate_box_logits_cuda(float *dst, const float *q, const float *logits0, const float *bias,
                                              int H, int W, int classes, int n_boxes, const int *box_h,
                                              const int *box_w, int first, int count, void *stream) {
    ablate_box_set b;
    pixab_status s = check_shape("ablate_box_logits_cuda", H, W, classes, first, count);
    if (s || (s = box_set("ablate_box_logits_cuda", &b, H, W, n_boxes, box_h, box_w, first, count))) return s;
    if (!dst || !q || !logits0 || !bias) return pixab_fail(PIXAB_ERR_ARG, "ablate_box_logits_cuda: NULL tensor");
    const size_t total = (size_t)count * classes;
    if (!total) return PIXAB_OK;
    ablate_box_logits_kernel<<<ablate_blocks(total), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(dst, q, logits0, bias, H,
                                                                                            W, classes, b, first,
                                                                                            total);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status ablate_channels_cuda(float *dst, const float *a, int HW, int K, int first, int count,
                                             void *stream) {
    pixab_status s = check_shape("ablate_channels_cuda", HW, 1, K, first, count);
    if (s) return s;
    if (!dst || !a) return pixab_fail(PIXAB_ERR_ARG, "ablate_channels_cuda: NULL tensor");
    if ((long)first + count > 1L + K)
        return pixab_fail(PIXAB_ERR_ARG, "ablate_channels_cuda: items [%d, +%d) of %d", first, count, 1 + K);
    const size_t total = (size_t)count * HW * K;
    if (!total) return PIXAB_OK;
    ablate_channels_kernel<<<ablate_blocks(total), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(dst, a, HW, K, first, total);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status ablate_channel_logits_cuda(float *logits, const float *logits0, const float *w,
                                                   const float *a, int HW, int K, int classes, int first, int count,
                                                   void *stream) {
    pixab_status s = check_shape("ablate_channel_logits_cuda", HW, 1, K, first, count);
    if (s) return s;
    if (!logits || !logits0 || !w || !a) return pixab_fail(PIXAB_ERR_ARG, "ablate_channel_logits_cuda: NULL tensor");
    if (classes < 1 || (long)first + count > 1L + K)
        return pixab_fail(PIXAB_ERR_ARG, "ablate_channel_logits_cuda: %d classes, items [%d, +%d) of %d", classes,
                          first, count, 1 + K);
    if (!count) return PIXAB_OK;
    ablate_channel_logits_kernel<<<count, CUDA_BLOCK, 0, (cudaStream_t)stream>>>(logits, logits0, w, a, HW, K, classes,
                                                                                first);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status masked_inputs_cuda(float *dst, const float *input, const float *a, const float *ranges,
                                           const int *channels, int H, int W, int K, int S, int first, int count,
                                           void *stream) {
    pixab_status s = check_shape("masked_inputs_cuda", H, W, K, first, count);
    if (s) return s;
    if (!dst || !input || !a || !ranges || (!channels && first + count > 1))
        return pixab_fail(PIXAB_ERR_ARG, "masked_inputs_cuda: NULL tensor");
    if (S < 1 || S > PREPROCESS_MAX_SIZE) return pixab_fail(PIXAB_ERR_ARG, "masked_inputs_cuda: input size %d", S);
    const size_t total = (size_t)count * S * S;
    if (!total) return PIXAB_OK;
    masked_inputs_kernel<<<ablate_blocks(total), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(dst, input, a, ranges,
                                                                                       channels, H, W, K, S, first,
                                                                                       total);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

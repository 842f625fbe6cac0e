/* preprocess.cu — the CUDA preprocessing kernel (resize to S x S with half-pixel
 * bilinear taps, then (x - mean)/std) and its launchers. The per-element work is
 * preprocess_pixel from preprocess.cuh, the function the CPU path calls. */
#include <cuda_runtime.h>

#include "cuda_check.cuh"
#include "preprocess.cuh"
#include "preprocess.h"

// ----------------------------------------------------------------------------
// kernels

/* One thread per output pixel, all three channels (they share the taps).
 * out: (S, S, 3); rgb: (in_h, in_w, 3). */
__global__ void preprocess_kernel(float *out, const unsigned char *rgb, int in_h, int in_w, int S,
                                  pixab_preproc p) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= S * S) return;
    preprocess_pixel(out + (size_t)idx * 3, rgb, in_h, in_w, S, idx / S, idx % S, p.mean, p.std);
}

// ----------------------------------------------------------------------------
// launchers

extern "C" pixab_status preprocess_cuda(float *out, const unsigned char *rgb, int in_w, int in_h,
                                        const pixab_preproc *p, void *stream) {
    if (!out || !rgb || !p)
        return pixab_fail(PIXAB_ERR_ARG, "preprocess_cuda: NULL %s",
                          !out ? "output" : !rgb ? "image" : "preproc");
    char why[160];
    if (preprocess_check(why, sizeof why, in_w, in_h, p))
        return pixab_fail(PIXAB_ERR_ARG, "preprocess_cuda: %s", why);
    const int S = p->size, n = S * S; /* S <= PREPROCESS_MAX_SIZE: no overflow */
    preprocess_kernel<<<CEIL_DIV(n, CUDA_BLOCK), CUDA_BLOCK, 0, (cudaStream_t)stream>>>(
        out, rgb, in_h, in_w, S, *p);
    CUDA_CHECK_LAUNCH();
    return PIXAB_OK;
}

extern "C" pixab_status preprocess_image_cuda(float *out, const pixab_image *img,
                                              const pixab_preproc *p) {
    if (!out || !img || !img->rgb || !p)
        return pixab_fail(PIXAB_ERR_ARG, "preprocess_image_cuda: NULL %s",
                          !out ? "output" : !img || !img->rgb ? "image" : "preproc");
    char why[160];
    if (preprocess_check(why, sizeof why, img->width, img->height, p))
        return pixab_fail(PIXAB_ERR_ARG, "preprocess_image_cuda: %s", why);

    pixab_status st = PIXAB_OK;
    unsigned char *d_rgb = NULL; /* (h, w, 3) */
    float *d_out = NULL;         /* (S, S, 3) */
    size_t in_bytes = (size_t)img->width * img->height * 3;
    size_t out_bytes = (size_t)p->size * p->size * 3 * sizeof(float);
    CUDA_CHECK_GOTO(cudaMalloc((void **)&d_rgb, in_bytes), st, done);
    CUDA_CHECK_GOTO(cudaMalloc((void **)&d_out, out_bytes), st, done);
    CUDA_CHECK_GOTO(cudaMemcpy(d_rgb, img->rgb, in_bytes, cudaMemcpyHostToDevice), st, done);
    st = preprocess_cuda(d_out, d_rgb, img->width, img->height, p, NULL);
    if (st != PIXAB_OK) goto done;
    /* Synchronous copy: also reports errors raised while the kernel ran. */
    CUDA_CHECK_GOTO(cudaMemcpy(out, d_out, out_bytes, cudaMemcpyDeviceToHost), st, done);
done:
    /* cudaFree(NULL) is a no-op; a failure here would only repeat an earlier error. */
    (void)cudaFree(d_rgb);
    (void)cudaFree(d_out);
    return st;
}

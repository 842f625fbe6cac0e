/* preprocess.cuh — per-element logic of preprocessing and of bilinear resampling,
 * shared by the CPU path (host/io/image.c), the CUDA kernel (kernels/preprocess.cu)
 * and, later, map upsampling: one set of PIXAB_HD functions compiled as C11 and
 * as CUDA, so every backend computes the same taps, weights and values.
 *
 * Bilinear rule = PyTorch's upsample_bilinear2d with align_corners=False,
 * antialias=False (aten/src/ATen/native/UpSample.h, area_pixel_compute_source_index
 * and guard_index_and_lambda): for output index d of an axis resized in -> out,
 *   src = (d + 0.5) * in/out - 0.5, clamped to >= 0;  i0 = min(floor(src), in-1),
 *   i1 = min(i0 + 1, in - 1),  lambda = src - i0,  value = (1-lambda)*x[i0] + lambda*x[i1],
 * with rows blended after columns, as PyTorch does. When in == out the taps are
 * exactly (d, weight 1), so an image that is already S x S passes unchanged. */
#ifndef PIXAB_PREPROCESS_CUH
#define PIXAB_PREPROCESS_CUH

#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "pixab.h"
#include "pixab_hd.h"

/* Largest network input side S: S x S stays within PIXAB_IMAGE_MAX_PIXELS. */
#define PREPROCESS_MAX_SIZE 8192

/* The two source taps of one output index along one axis. */
typedef struct {
    int i0, i1;   /* source indices, 0 <= i0 <= i1 < in */
    float w0, w1; /* their weights, w0 + w1 = 1 (w1 = 0 when i1 == i0 or in == out) */
} bilinear_tap;

/* a*wa + b*wb with IEEE-rounded products and sum: the device never fuses them
 * into an FMA, so host and device results agree bit for bit. */
PIXAB_HD float bilinear_lerp(float a, float wa, float b, float wb) {
#ifdef __CUDA_ARCH__
    return __fadd_rn(__fmul_rn(a, wa), __fmul_rn(b, wb));
#else
    return a * wa + b * wb;
#endif
}

/* Taps of output index dst (0 <= dst < out) for an axis resized from in to out
 * samples (in, out >= 1), half-pixel centres (align_corners=False). */
PIXAB_HD bilinear_tap bilinear_axis(int dst, int in, int out) {
    bilinear_tap t;
    if (in == out) {
        t.i0 = t.i1 = dst;
        t.w0 = 1.0f;
        t.w1 = 0.0f;
        return t;
    }
    float scale = (float)in / (float)out;
#ifdef __CUDA_ARCH__
    float src = __fadd_rn(__fmul_rn(scale, (float)dst + 0.5f), -0.5f); /* no FMA, as on the host */
#else
    float src = scale * ((float)dst + 0.5f) - 0.5f;
#endif
    if (src < 0.0f) src = 0.0f;
    int i0 = (int)floorf(src);
    if (i0 > in - 1) i0 = in - 1;
    float lambda = src - (float)i0;
    if (lambda < 0.0f) lambda = 0.0f;
    if (lambda > 1.0f) lambda = 1.0f;
    t.i0 = i0;
    t.i1 = i0 < in - 1 ? i0 + 1 : i0;
    t.w0 = 1.0f - lambda;
    t.w1 = lambda;
    return t;
}

/* One bilinear sample of a float image. src points at element (0, 0) of the
 * channel to sample; row_stride / col_stride are in elements, so the same call
 * serves HWC images (src + c, W*C, C), single-channel maps (src, W, 1) and CHW
 * planes (src + c*H*W, W, 1). */
PIXAB_HD float bilinear_sample_f32(const float *src, ptrdiff_t row_stride, ptrdiff_t col_stride,
                                   bilinear_tap ty, bilinear_tap tx) {
    const float *r0 = src + (ptrdiff_t)ty.i0 * row_stride;
    const float *r1 = src + (ptrdiff_t)ty.i1 * row_stride;
    ptrdiff_t c0 = (ptrdiff_t)tx.i0 * col_stride, c1 = (ptrdiff_t)tx.i1 * col_stride;
    float t0 = bilinear_lerp(r0[c0], tx.w0, r0[c1], tx.w1);
    float t1 = bilinear_lerp(r1[c0], tx.w0, r1[c1], tx.w1);
    return bilinear_lerp(t0, ty.w0, t1, ty.w1);
}

/* 8-bit value -> [0,1], as torchvision's to_tensor: float(v) / 255. */
PIXAB_HD float preprocess_unit(unsigned char v) { return (float)v / 255.0f; }

/* (x - mean) / std, as torchvision's Normalize (a division, not * 1/std). */
PIXAB_HD float preprocess_normalize(float x, float mean, float std) { return (x - mean) / std; }

/* bilinear_sample_f32 for 8-bit images, each tap converted to [0,1] first
 * (preprocessing resizes the [0,1] float image, not the bytes). */
PIXAB_HD float bilinear_sample_u8(const unsigned char *src, ptrdiff_t row_stride,
                                  ptrdiff_t col_stride, bilinear_tap ty, bilinear_tap tx) {
    const unsigned char *r0 = src + (ptrdiff_t)ty.i0 * row_stride;
    const unsigned char *r1 = src + (ptrdiff_t)ty.i1 * row_stride;
    ptrdiff_t c0 = (ptrdiff_t)tx.i0 * col_stride, c1 = (ptrdiff_t)tx.i1 * col_stride;
    float t0 = bilinear_lerp(preprocess_unit(r0[c0]), tx.w0, preprocess_unit(r0[c1]), tx.w1);
    float t1 = bilinear_lerp(preprocess_unit(r1[c0]), tx.w0, preprocess_unit(r1[c1]), tx.w1);
    return bilinear_lerp(t0, ty.w0, t1, ty.w1);
}

/* The three normalised channels of output pixel (oy, ox) of the S x S network
 * input. out: (3); rgb: (in_h, in_w, 3) 8-bit; mean, std: (3). */
PIXAB_HD void preprocess_pixel(float *out, const unsigned char *rgb, int in_h, int in_w, int size,
                               int oy, int ox, const float *mean, const float *std) {
    bilinear_tap ty = bilinear_axis(oy, in_h, size);
    bilinear_tap tx = bilinear_axis(ox, in_w, size);
    for (int c = 0; c < 3; c++)
        out[c] = preprocess_normalize(bilinear_sample_u8(rgb + c, (ptrdiff_t)in_w * 3, 3, ty, tx),
                                      mean[c], std[c]);
}

/* Host-only precondition check shared by the CPU path and the CUDA launcher:
 * image in_w x in_h within the image limits, 1 <= S <= PREPROCESS_MAX_SIZE,
 * finite mean/std, std > 0. Returns 0 when fine, else 1 with a reason in why. */
static inline int preprocess_check(char *why, size_t cap, int in_w, int in_h, const pixab_preproc *p) {
    if (in_w < 1 || in_h < 1 || in_w > PIXAB_IMAGE_MAX_SIDE || in_h > PIXAB_IMAGE_MAX_SIDE ||
        (long long)in_w * in_h > PIXAB_IMAGE_MAX_PIXELS) {
        snprintf(why, cap, "image size %dx%d outside 1..%d per side, %d pixels", in_w, in_h,
                 PIXAB_IMAGE_MAX_SIDE, PIXAB_IMAGE_MAX_PIXELS);
        return 1;
    }
    if (p->size < 1 || p->size > PREPROCESS_MAX_SIZE) {
        snprintf(why, cap, "input size %d outside 1..%d", p->size, PREPROCESS_MAX_SIZE);
        return 1;
    }
    for (int c = 0; c < 3; c++) {
        if (!isfinite(p->mean[c]) || !isfinite(p->std[c]) || !(p->std[c] > 0.0f)) {
            snprintf(why, cap, "channel %d: mean %g, std %g (need finite values, std > 0)", c,
                     (double)p->mean[c], (double)p->std[c]);
            return 1;
        }
    }
    return 0;
}

#endif /* PIXAB_PREPROCESS_CUH */

/* score_mask.cuh — per-element logic of Score-CAM's masks (DESIGN.md §4):
 * M_k = channel k of the activation A (H, W, K) upsampled to the input size
 * S x S (bilinear, half-pixel centres: preprocess.cuh), min-max scaled over
 * its S x S samples; the masked input is the normalised image times M_k.
 * Shared by the CPU backend (host/backends/cpu/cpu_head_ops.c) and the CUDA
 * kernels (kernels/generate_kernels.cu, kernels/map_kernels.cu). */
#ifndef PIXAB_SCORE_MASK_CUH
#define PIXAB_SCORE_MASK_CUH

#include "pixab_hd.h"
#include "preprocess.cuh"

/* Sample (ty, tx) of channel k of a (H, W, K), before scaling. */
PIXAB_HD float score_mask_sample(const float *a, int W, int K, int k, bilinear_tap ty, bilinear_tap tx) {
    return bilinear_sample_f32(a + k, (ptrdiff_t)W * K, K, ty, tx);
}

/* A sample scaled to [0, 1] by the channel's range; 0 for a constant channel
 * (lo == hi: Score-CAM gives it w_k = 0 without running it). */
PIXAB_HD float score_mask_scale(float v, float lo, float hi) { return hi > lo ? (v - lo) / (hi - lo) : 0.0f; }

#endif /* PIXAB_SCORE_MASK_CUH */

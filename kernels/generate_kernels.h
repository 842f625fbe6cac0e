/* generate_kernels.h — launchers of the generator ops' kernels
 * (generate_kernels.cu), callable from C; only built with PIXAB_WITH_CUDA.
 * They write explanation batches straight into the head's input on the
 * device: every box position in both perspectives plus the original and the
 * zero tensor (Pixab-CAM), or every channel zeroed in turn (Ablation-CAM), as
 * tensors or as logits for GAP heads, and Score-CAM's
 * masked inputs. Per-element logic: element/ablate.cuh and score_mask.cuh
 * (the CPU backend, host/backends/cpu/cpu_head_ops.c, runs the same
 * functions). All pointers are device memory except box_h, box_w (host,
 * n_boxes); a: one image's activation (H, W, K). Each launcher checks its
 * arguments (PIXAB_ERR_ARG), queues on `stream` (a cudaStream_t) and returns
 * once queued. */
#ifndef PIXAB_GENERATE_KERNELS_H
#define PIXAB_GENERATE_KERNELS_H

#include "pixab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* dst (count, H, W, K) = items [first, first + count) of the box batch. */
pixab_status ablate_boxes_cuda(float *dst, const float *a, int H, int W, int K, int n_boxes, const int *box_h,
                               const int *box_w, int first, int count, void *stream);
/* dst (count, classes) = their logits through GAP + FC (ablate_box_logit):
 * q (H W, classes) the FC of each pixel, logits0 (classes) of a, bias the FC's. */
pixab_status ablate_box_logits_cuda(float *dst, const float *q, const float *logits0, const float *bias, int H, int W,
                                    int classes, int n_boxes, const int *box_h, const int *box_w, int first,
                                    int count, void *stream);
/* dst (count, HW, K): item 0 = a, item 1 + k = a without channel k. */
pixab_status ablate_channels_cuda(float *dst, const float *a, int HW, int K, int first, int count, void *stream);
/* logits (count, classes) of the channel items through GAP + FC with weights
 * w (classes, K): item 0 = logits0, item 1 + k = logits0 - w[:, k] mean_p a[p, k]. */
pixab_status ablate_channel_logits_cuda(float *logits, const float *logits0, const float *w, const float *a, int HW,
                                        int K, int classes, int first, int count, void *stream);

/* dst (count, S, S, 3) = items [first, first + count) of Score-CAM's masked
 * inputs: item 0 = zeros, item 1 + i = input (S, S, 3) times channel
 * channels[i] (device ints) of a upsampled to S x S and scaled by its range
 * (ranges (K, 2): min, max; score_mask.cuh). */
pixab_status masked_inputs_cuda(float *dst, const float *input, const float *a, const float *ranges,
                                const int *channels, int H, int W, int K, int S, int first, int count, void *stream);

#ifdef __cplusplus
}
#endif
#endif /* PIXAB_GENERATE_KERNELS_H */

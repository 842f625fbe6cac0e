/* preprocess.h — CUDA preprocessing, callable from host C code (implemented in
 * preprocess.cu; only built with PIXAB_WITH_CUDA): an 8-bit RGB image on the
 * device becomes the normalised network input (S, S, 3) on the device, with the
 * same per-element code as the CPU path (preprocess.cuh). */
#ifndef PIXAB_PREPROCESS_H
#define PIXAB_PREPROCESS_H

#include "pixab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Launch on `stream` (a cudaStream_t; NULL = the default stream); returns once
 * queued. out: device (S, S, 3) float, S = p->size; rgb: device (in_h, in_w, 3)
 * 8-bit. Preconditions as pixab_image_preprocess (PIXAB_ERR_ARG otherwise). */
pixab_status preprocess_cuda(float *out, const unsigned char *rgb, int in_w, int in_h,
                             const pixab_preproc *p, void *stream);

/* Whole round trip for tests and tools: copy img to the current device, run
 * preprocess_cuda, copy the result back. out: host (S, S, 3) float. Same
 * result as pixab_image_preprocess. */
pixab_status preprocess_image_cuda(float *out, const pixab_image *img, const pixab_preproc *p);

#ifdef __cplusplus
}
#endif
#endif /* PIXAB_PREPROCESS_H */

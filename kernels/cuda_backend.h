/* cuda_backend.h — the CUDA backend (cuda_backend.cu) behind backend.h, for
 * host C code: the engine picks it for "cuda" / "cuda:K". Only built with
 * PIXAB_WITH_CUDA. */
#ifndef PIXAB_CUDA_BACKEND_H
#define PIXAB_CUDA_BACKEND_H

#ifdef __cplusplus
extern "C" {
#endif

#include "backend.h" /* a C header without its own extern "C" guards */

extern const backend_ops cuda_backend;

/* Library versions the backend runs with, for -v output and the parity
 * suite: cuDNN loaded (cudnnGetVersion, 91900 = 9.19.0) and built against,
 * cuBLAS loaded (major*10000 + minor*100 + patch; 0 if unknown). Needs no device. */
void cuda_backend_versions(int *cudnn_runtime, int *cudnn_headers, int *cublas_runtime);

/* Fault injection for the parity suite: the nth device allocation of the
 * backend from now on (1 = the next) fails as out of memory; 0 turns it
 * off. Returns how many failures were injected since the previous call.
 * Process-wide; not for concurrent use. */
int cuda_backend_fail_alloc(int nth);

#ifdef __cplusplus
}
#endif
#endif /* PIXAB_CUDA_BACKEND_H */

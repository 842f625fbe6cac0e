/* cuda_check.cuh — the error-check macros of the CUDA backend (one per status
 * type: CUDA runtime, cuDNN, cuBLAS) and the launch helpers of the .cu files.
 * A failed call records "CUDA error 2 (cudaErrorMemoryAllocation: out of
 * memory) in cudaMalloc(&d, n) [preprocess_image_cuda, preprocess.cu:123]" as
 * the library's last error and makes the enclosing function return
 * PIXAB_ERR_DEVICE. The library never prints or exits.
 *
 *   CUDA_CHECK(cudaMemcpy(...));                    // return PIXAB_ERR_DEVICE on failure
 *   CUDA_CHECK_GOTO(cudaMemcpy(...), st, cleanup);  // st = PIXAB_ERR_DEVICE; goto cleanup
 *   CUDA_CHECK_LAUNCH();                            // after kernel<<<...>>>
 *   CUBLAS_CHECK(cublasCreate(&b));                 // needs <cublas_v2.h> where used
 * cuDNN's checks live in cudnn_legacy.cu, the one file that calls cuDNN: they
 * classify its statuses (legacy_dnn_status). */
#ifndef PIXAB_CUDA_CHECK_CUH
#define PIXAB_CUDA_CHECK_CUH

#include <string.h>

#include <cuda_runtime.h>

#include "pixab.h"
extern "C" {
#include "error.h" /* a C header without its own extern "C" guards */
}

/* Threads per block for the simple elementwise kernels. */
#define CUDA_BLOCK 256
#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))

/* Record a failed call as the last error; returns PIXAB_ERR_DEVICE. */
static inline pixab_status cuda_check_fail(const char *lib, int code, const char *name,
                                           const char *msg, const char *expr, const char *func,
                                           const char *file, int line) {
    const char *base = strrchr(file, '/');
    return pixab_fail(PIXAB_ERR_DEVICE, "%s error %d (%s: %s) in %s [%s, %s:%d]", lib, code, name,
                      msg, expr, func, base ? base + 1 : file, line);
}

/* ---- CUDA runtime ---- */
/* Memory allocation has its own checks: an out-of-memory is PIXAB_ERR_NOMEM
 * with the error cleared (cuda_backend.cu, device_alloc). */
#define CUDA_RECORD_(e, expr)                                                                      \
    cuda_check_fail("CUDA", (int)(e), cudaGetErrorName(e), cudaGetErrorString(e), expr, __func__,  \
                    __FILE__, __LINE__)
#define CUDA_CHECK(call)                                                                           \
    do {                                                                                           \
        cudaError_t cuda_err_ = (call);                                                            \
        if (cuda_err_ != cudaSuccess) return CUDA_RECORD_(cuda_err_, #call);                       \
    } while (0)
#define CUDA_CHECK_GOTO(call, st, label)                                                           \
    do {                                                                                           \
        cudaError_t cuda_err_ = (call);                                                            \
        if (cuda_err_ != cudaSuccess) {                                                            \
            (st) = CUDA_RECORD_(cuda_err_, #call);                                                 \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)
/* After a kernel launch: configuration errors (and earlier asynchronous
 * errors) surface here; cudaGetLastError also clears non-sticky ones. */
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
#define CUDA_CHECK_LAUNCH_GOTO(st, label) CUDA_CHECK_GOTO(cudaGetLastError(), st, label)

/* ---- cuBLAS (needs <cublas_v2.h>) ---- */
#define CUBLAS_RECORD_(e, expr)                                                                    \
    cuda_check_fail("cuBLAS", (int)(e), cublasGetStatusName(e), cublasGetStatusString(e), expr,    \
                    __func__, __FILE__, __LINE__)
#define CUBLAS_CHECK(call)                                                                         \
    do {                                                                                           \
        cublasStatus_t cublas_err_ = (call);                                                       \
        if (cublas_err_ != CUBLAS_STATUS_SUCCESS) return CUBLAS_RECORD_(cublas_err_, #call);       \
    } while (0)
#define CUBLAS_CHECK_GOTO(call, st, label)                                                         \
    do {                                                                                           \
        cublasStatus_t cublas_err_ = (call);                                                       \
        if (cublas_err_ != CUBLAS_STATUS_SUCCESS) {                                                \
            (st) = CUBLAS_RECORD_(cublas_err_, #call);                                             \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

#endif /* PIXAB_CUDA_CHECK_CUH */

/* cuda_device.cu — CUDA device count, properties and selection (see cuda_device.h). */
#include <stdio.h>
#include <string.h>

#include <cuda_runtime.h>

#include "cuda_check.cuh"
#include "cuda_device.h"

/* cudaGetDeviceCount, with failures (no driver, too old a driver, no device)
 * turned into a recorded reason and a count of 0. */
static pixab_status device_count(int *count) {
    *count = 0;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError(); /* clear it, so later CUDA calls do not see it */
        return pixab_fail(PIXAB_ERR_DEVICE, "no CUDA device: %s (CUDA error %d, %s)",
                          cudaGetErrorString(e), (int)e, cudaGetErrorName(e));
    }
    if (n <= 0) return pixab_fail(PIXAB_ERR_DEVICE, "no CUDA device");
    *count = n;
    return PIXAB_OK;
}

extern "C" int cuda_device_count(void) {
    int n = 0;
    (void)device_count(&n);
    return n;
}

static pixab_status device_check_index(int index) {
    int n = 0;
    pixab_status s = device_count(&n);
    if (s != PIXAB_OK) return s;
    if (index < 0 || index >= n)
        return pixab_fail(PIXAB_ERR_ARG, "CUDA device %d does not exist (%d device%s: 0..%d)", index,
                          n, n == 1 ? "" : "s", n - 1);
    return PIXAB_OK;
}

extern "C" pixab_status cuda_device_query(int index, cuda_device_info *out) {
    if (!out) return pixab_fail(PIXAB_ERR_ARG, "cuda_device_query: out is NULL");
    memset(out, 0, sizeof *out);
    pixab_status s = device_check_index(index);
    if (s != PIXAB_OK) return s;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
    snprintf(out->name, sizeof out->name, "%s", prop.name);
    out->major = prop.major;
    out->minor = prop.minor;
    out->total_mem = prop.totalGlobalMem;
    out->multiprocessors = prop.multiProcessorCount;
    CUDA_CHECK(cudaRuntimeGetVersion(&out->runtime_version));
    CUDA_CHECK(cudaDriverGetVersion(&out->driver_version));
    return PIXAB_OK;
}

extern "C" pixab_status cuda_select_device(int index) {
    pixab_status s = device_check_index(index);
    if (s != PIXAB_OK) return s;
    CUDA_CHECK(cudaSetDevice(index)); /* CUDA >= 12: also initialises the primary context */
    return PIXAB_OK;
}

extern "C" pixab_status cuda_device_memory(int index, size_t *free_bytes, size_t *total_bytes) {
    *free_bytes = *total_bytes = 0;
    pixab_status s = cuda_select_device(index);
    if (s != PIXAB_OK) return s;
    CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
    return PIXAB_OK;
}

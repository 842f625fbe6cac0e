/* cuda_device.h — CUDA device queries and selection for host C code (implemented in
 * cuda_device.cu; only built with PIXAB_WITH_CUDA). Nothing here prints: callers
 * such as the CLI's -v output format the info themselves. */
#ifndef PIXAB_CUDA_DEVICE_H
#define PIXAB_CUDA_DEVICE_H

#include <stddef.h>

#include "pixab.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char name[256];            /* "NVIDIA H100 80GB HBM3" */
    int major, minor;          /* compute capability */
    size_t total_mem;          /* bytes of global memory */
    int multiprocessors;
    int runtime_version;       /* cudaRuntimeGetVersion: 13000 = 13.0 */
    int driver_version;        /* cudaDriverGetVersion: highest CUDA the driver supports */
} cuda_device_info;

/* Number of usable CUDA devices; 0 on any error (no driver, driver too old:
 * error 35, ...), with the reason kept as the last error and the CUDA error
 * cleared. */
int cuda_device_count(void);
/* Name, compute capability and memory of device `index` (0-based). */
pixab_status cuda_device_query(int index, cuda_device_info *out);
/* Make device `index` current for this thread (creates its context). Errors:
 * PIXAB_ERR_DEVICE when there is no device, PIXAB_ERR_ARG when out of range. */
pixab_status cuda_select_device(int index);
/* Free and total memory of device `index` now (cudaMemGetInfo; makes the
 * device current for this thread, as the backend's calls do). */
pixab_status cuda_device_memory(int index, size_t *free_bytes, size_t *total_bytes);

#ifdef __cplusplus
}
#endif
#endif /* PIXAB_CUDA_DEVICE_H */

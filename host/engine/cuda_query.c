/* cuda_query.c — what the public API says about CUDA: whether this build has the
 * backend and how many devices it can use. CPU-only builds link and report 0. */
#include "pixab.h"

#ifdef PIXAB_WITH_CUDA
#include "cuda_device.h"
#endif

int pixab_built_with_cuda(void) {
#ifdef PIXAB_WITH_CUDA
    return 1;
#else
    return 0;
#endif
}

int pixab_cuda_device_count(void) {
#ifdef PIXAB_WITH_CUDA
    return cuda_device_count();
#else
    return 0;
#endif
}

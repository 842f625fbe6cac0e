/* pixab_hd.h — the PIXAB_HD qualifier for per-element logic shared by the CPU
 * backend and the CUDA kernels: the same inline function in a *.cuh header is
 * compiled by nvcc for host and device, and by the C compiler for the CPU path,
 * so both backends (and the CPU tests) run the very same code. */
#ifndef PIXAB_HD_H
#define PIXAB_HD_H

#ifdef __CUDACC__
#define PIXAB_HD __host__ __device__ inline
#else
#define PIXAB_HD static inline
#endif

#endif /* PIXAB_HD_H */

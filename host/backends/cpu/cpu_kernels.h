/* cpu_kernels.h — which GEMM kernels the CPU backend runs, and which this
 * CPU's features call for (cpu_kernels.c; public face: pixab_cpu_kernels,
 * pixab_cpu_kernels_wanted in pixab.h). */
#ifndef PIXAB_CPU_KERNELS_H
#define PIXAB_CPU_KERNELS_H

/* What the CPU and the OS together support, for GEMM kernels. */
typedef enum {
    CPU_LEVEL_BASE,        /* below AVX2 + FMA (or not x86-64) */
    CPU_LEVEL_AVX2,        /* AVX2 and FMA, YMM state saved by the OS */
    CPU_LEVEL_AVX512_HALF, /* AVX512 below, on an AMD CPU: 256-bit units, a 512-bit op in two halves (Zen 4) */
    CPU_LEVEL_AVX512,      /* and AVX-512 F, CD, BW, DQ, VL, ZMM state saved */
} cpu_level;

cpu_level cpu_feature_level(void);
/* The OpenBLAS kernel family (an OPENBLAS_CORETYPE value) that `level` calls
 * for when the running family `core` falls short of it; NULL when `core` is
 * as good (an AVX2 or AVX-512 family, whoever chose it) or level is BASE.
 * AVX-512 on 256-bit units calls for the AVX2 family (Haswell) even over an
 * AVX-512 one: no more FMAs a cycle, and 4 % faster there (bench/results/cpu_kernels.md). */
const char *cpu_kernels_for(cpu_level level, const char *core);

#endif

/* cpu_kernels.c — which GEMM kernels the CPU backend runs. Debian's OpenBLAS
 * (a DYNAMIC_ARCH build) picks its kernels when it loads, from a table of CPU
 * models: a model newer than its table (Intel's model 207, Emerald Rapids, in
 * 0.3.21) gets the oldest x86-64 kernels (Prescott: SSE3), 2.5x slower than
 * the AVX-512 ones that CPU can run. Here the choice follows the CPU's
 * features instead: cpuid for what the CPU has, xgetbv for the register state
 * the OS saves (a kernel the CPU or the OS cannot run is never chosen). AMD's
 * AVX-512 (Zen 4) runs a 512-bit op as two 256-bit halves: there the AVX2
 * kernels are as fast or faster than the AVX-512 ones OpenBLAS picks. */
#include "cpu_kernels.h"

#include <cblas.h>
#include <stddef.h>
#include <string.h>

#include "pixab.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xcr0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

cpu_level cpu_feature_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return CPU_LEVEL_BASE;
    const int amd = b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163; /* "AuthenticAMD" */
    if (!__get_cpuid(1, &a, &b, &c, &d)) return CPU_LEVEL_BASE;
    const int fma = c >> 12 & 1, osxsave = c >> 27 & 1, avx = c >> 28 & 1;
    if (!fma || !osxsave || !avx) return CPU_LEVEL_BASE;
    const unsigned long long saved = xcr0(); /* the register state the OS saves (xgetbv needs OSXSAVE) */
    if ((saved & 0x6) != 0x6) return CPU_LEVEL_BASE; /* XMM, YMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b >> 5 & 1)) return CPU_LEVEL_BASE; /* AVX2 */
    const unsigned avx512 = 1u << 16 | 1u << 17 | 1u << 28 | 1u << 30 | 1u << 31; /* F, DQ, CD, BW, VL */
    if ((b & avx512) == avx512 && (saved & 0xe6) == 0xe6) /* + opmask, ZMM state */
        return amd ? CPU_LEVEL_AVX512_HALF : CPU_LEVEL_AVX512;
    return CPU_LEVEL_AVX2;
}
#else
cpu_level cpu_feature_level(void) { return CPU_LEVEL_BASE; }
#endif

const char *cpu_kernels_for(cpu_level level, const char *core) {
    /* OpenBLAS's x86-64 families with AVX2 + FMA kernels or better; the first two are AVX2's. */
    static const char *const modern[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};
    if (level == CPU_LEVEL_BASE) return NULL;
    const size_t n_modern = level == CPU_LEVEL_AVX512_HALF ? 2 : sizeof modern / sizeof modern[0];
    for (size_t i = 0; core && i < n_modern; i++)
        if (!strcmp(core, modern[i])) return NULL;
    return level == CPU_LEVEL_AVX512 ? "SkylakeX" : "Haswell";
}

const char *pixab_cpu_kernels(void) { return openblas_get_corename(); }

const char *pixab_cpu_kernels_wanted(void) { return cpu_kernels_for(cpu_feature_level(), pixab_cpu_kernels()); }

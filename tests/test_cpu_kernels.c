/* test_cpu_kernels.c — the CPU backend's choice of GEMM kernels by CPU
 * features (host/backends/cpu/cpu_kernels.c): an old kernel family on a
 * modern CPU is replaced by the family its features allow, a modern family
 * (whoever chose it) is kept, and nothing is asked of a CPU below AVX2. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "pixab.h"

Test(cpu_kernels, old_families_on_modern_cpus_are_replaced) {
    cr_expect_str_eq(cpu_kernels_for(CPU_LEVEL_AVX512, "Prescott"), "SkylakeX");
    cr_expect_str_eq(cpu_kernels_for(CPU_LEVEL_AVX512, "Sandybridge"), "SkylakeX");
    cr_expect_str_eq(cpu_kernels_for(CPU_LEVEL_AVX2, "Prescott"), "Haswell");
    cr_expect_str_eq(cpu_kernels_for(CPU_LEVEL_AVX2, "Nehalem"), "Haswell");
    cr_expect_str_eq(cpu_kernels_for(CPU_LEVEL_AVX2, NULL), "Haswell");
}

/* AVX-512 on 256-bit units (AMD's Zen 4) runs the AVX2 family, even over an AVX-512 one. */
Test(cpu_kernels, half_width_avx512_runs_the_avx2_family) {
    static const char *replaced[] = {"Prescott", "SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof replaced / sizeof replaced[0]; i++)
        cr_expect_str_eq(cpu_kernels_for(CPU_LEVEL_AVX512_HALF, replaced[i]), "Haswell", "%s", replaced[i]);
    cr_expect_null(cpu_kernels_for(CPU_LEVEL_AVX512_HALF, "Haswell"));
    cr_expect_null(cpu_kernels_for(CPU_LEVEL_AVX512_HALF, "Zen"));
}

Test(cpu_kernels, modern_families_and_old_cpus_are_left_alone) {
    static const char *modern[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof modern / sizeof modern[0]; i++) {
        cr_expect_null(cpu_kernels_for(CPU_LEVEL_AVX512, modern[i]), "%s", modern[i]);
        cr_expect_null(cpu_kernels_for(CPU_LEVEL_AVX2, modern[i]), "%s", modern[i]);
    }
    cr_expect_null(cpu_kernels_for(CPU_LEVEL_BASE, "Prescott"), "no AVX2: nothing better to ask for");
}

/* The running family is OpenBLAS's, and the one asked for never exceeds what
 * this CPU has: SkylakeX only with AVX-512. */
Test(cpu_kernels, the_running_family_and_the_wanted_one) {
    const char *core = pixab_cpu_kernels(), *forced = getenv("OPENBLAS_CORETYPE");
    cr_assert(core && *core);
    if (forced && !strcmp(forced, "Haswell")) cr_expect_str_eq(core, "Haswell", "OPENBLAS_CORETYPE is obeyed");
    const char *want = pixab_cpu_kernels_wanted();
    if (want && !strcmp(want, "SkylakeX")) cr_expect_eq(cpu_feature_level(), CPU_LEVEL_AVX512);
    if (want) cr_expect_neq(cpu_feature_level(), CPU_LEVEL_BASE);
}

/* golden.h — reading golden tensors (made by tools/ scripts from PyTorch)
 * out of a safetensors file in Criterion tests (test_methods.c, test_metrics.c). */
#ifndef PIXAB_TESTS_GOLDEN_H
#define PIXAB_TESTS_GOLDEN_H

#include <criterion/criterion.h>
#include <stdint.h>

#include "safetensors.h"

/* Golden tensor `key` of file f into out (n floats, converted to float32). */
static inline void golden_read(const safetensors *f, const char *key, float *out, int64_t n) {
    const st_tensor *t = safetensors_find(f, key);
    cr_assert(t, "golden '%s' missing", key);
    cr_assert_eq(safetensors_numel(t), n, "golden '%s' has %lld values, expected %lld", key,
                 (long long)safetensors_numel(t), (long long)n);
    cr_assert_eq(safetensors_to_f32(t, out), PIXAB_OK);
}

#endif

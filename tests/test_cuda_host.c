/* test_cuda_host.c — the parts of the CUDA backend that run without a GPU,
 * in CUDA builds: how cuDNN statuses are classified (a configuration without
 * a kernel may fall back; the environment's failures must not), the one-line
 * error a failed cuDNN call leaves, and what every CUDA entry point says when
 * there is no device. Skipped in CPU-only builds. */
#include <criterion/criterion.h>
#include <string.h>

#include "pixab.h"
#ifdef PIXAB_WITH_CUDA
#include "cudnn_legacy.h"
#include "cuda_device.h"
#endif

#define MODEL PIXAB_TEST_DATA "/inception_v3_w8.safetensors"

#ifdef PIXAB_WITH_CUDA
Test(cuda_host, cudnn_statuses_are_classified) {
    static const struct { int code; pixab_status want; } cases[] = {
        {0, PIXAB_OK},
        {3000, PIXAB_ERR_UNSUPPORTED}, {3002, PIXAB_ERR_UNSUPPORTED}, {3003, PIXAB_ERR_UNSUPPORTED},
        {3004, PIXAB_ERR_UNSUPPORTED}, {3010, PIXAB_ERR_UNSUPPORTED}, {3011, PIXAB_ERR_UNSUPPORTED},
        /* the environment: no fallback may hide these */
        {3005, PIXAB_ERR_DEVICE}, {3006, PIXAB_ERR_DEVICE}, {3007, PIXAB_ERR_DEVICE}, {3008, PIXAB_ERR_DEVICE},
        {3009, PIXAB_ERR_DEVICE}, {1001, PIXAB_ERR_DEVICE}, {1008, PIXAB_ERR_DEVICE}, {4000, PIXAB_ERR_DEVICE},
        {5000, PIXAB_ERR_DEVICE},
        {2000, PIXAB_ERR_ARG}, {2002, PIXAB_ERR_ARG},
        {4003, PIXAB_ERR_NOMEM}, {4004, PIXAB_ERR_NOMEM},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(legacy_dnn_status(cases[i].code), cases[i].want, "status %d: %s, expected %s", cases[i].code,
                     pixab_status_name(legacy_dnn_status(cases[i].code)), pixab_status_name(cases[i].want));
}

Test(cuda_host, a_failed_cudnn_call_names_its_status) {
    cr_expect_eq(legacy_dnn_fail(3007, "cudnnCreate(&h)"), PIXAB_ERR_DEVICE);
    const char *e = pixab_last_error();
    cr_expect(strstr(e, "cuDNN error 3007") && strstr(e, "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH") &&
                  strstr(e, "cudnnCreate(&h)") && !strchr(e, '\n'),
              "got '%s'", e);
    cr_expect_eq(legacy_dnn_fail(3009, "x"), PIXAB_ERR_DEVICE);
    cr_expect(strstr(pixab_last_error(), "SUBLIBRARY_UNAVAILABLE"), "got '%s'", pixab_last_error());
}

Test(cuda_host, without_a_device_cuda_says_so) {
    if (cuda_device_count() > 0) cr_skip_test("a CUDA device is present");
    pixab_model *m;
    pixab_engine *e = NULL;
    cr_assert_eq(pixab_model_load(MODEL, &m), PIXAB_OK, "%s", pixab_last_error());
    static const char *devices[] = {"cuda", "cuda:0", "cuda:3"};
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(pixab_engine_create(m, devices[i], 1, &e), PIXAB_ERR_DEVICE, "%s", devices[i]);
        cr_expect(strstr(pixab_last_error(), "no CUDA device"), "%s: '%s'", devices[i], pixab_last_error());
        cr_expect_null(e);
    }
    cr_expect_eq(pixab_engine_create(m, "auto", 1, &e), PIXAB_OK, "auto falls back to the CPU");
    cr_expect_str_eq(pixab_engine_device(e), "cpu");
    pixab_engine_destroy(e);
    pixab_model_free(m);
}
#else
Test(cuda_host, cpu_only_build) { cr_expect_eq(pixab_built_with_cuda(), 0); }
#endif

/* test_cli.c — `pixab classify` end to end: the JSON-lines contract, --logits
 * as .npy against the PyTorch goldens, bad inputs reported in one line and
 * skipped, and the exit codes; `pixab layers`. Runs the built CLI binary. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_run.h"
#include "npy.h"
#include "safetensors.h"

#define DATA PIXAB_TEST_DATA "/"
#define MODEL DATA "inception_v3_w8.safetensors"

/* Index of the largest golden logit. */
static int golden_top1(float *logits, int k) {
    safetensors *st;
    cr_assert_eq(safetensors_open(DATA "inception_v3_w8.goldens.safetensors", &st), PIXAB_OK);
    const st_tensor *t = safetensors_find(st, "logits");
    cr_assert(t && safetensors_numel(t) == k);
    cr_assert_eq(safetensors_to_f32(t, logits), PIXAB_OK);
    safetensors_close(st);
    int best = 0;
    for (int i = 1; i < k; i++) best = logits[i] > logits[best] ? i : best;
    return best;
}

Test(cli, classify_prints_top_k_and_writes_logits) {
    char args[1024];
    const char *npy = "/tmp/pixab_cli_logits.npy";
    snprintf(args, sizeof args, "classify -w %s --top 3 --logits %s %stest299.png", MODEL, npy, DATA);
    run_result r = run(args);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_eq(count_lines(r.out), 1);
    float want[10];
    int top = golden_top1(want, 10);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "{\"image\":\"%stest299.png\",\"top\":[[%d,", DATA, top);
    cr_expect(!strncmp(r.out, prefix, strlen(prefix)), "got %s", r.out);
    int entries = 0;
    const char *end = strstr(r.out, "]]");
    for (const char *s = strstr(r.out, "\"top\":"); s && end && s < end; s++) entries += *s == '[';
    cr_expect_eq(entries, 1 + 3, "three [class, prob] pairs: %s", r.out);

    npy_array a;
    cr_assert_eq(npy_read_f32(npy, &a), PIXAB_OK, "%s", pixab_last_error());
    cr_assert(a.ndim == 2 && a.shape[0] == 1 && a.shape[1] == 10);
    float mx = 0.0f, err = 0.0f;
    for (int i = 0; i < 10; i++) {
        mx = fmaxf(mx, fabsf(want[i]));
        err = fmaxf(err, fabsf(a.data[i] - want[i]));
    }
    cr_expect(err <= 1e-4f * mx, "logits max|d| %g", err);
    npy_free(&a);
    unlink(npy);
}

Test(cli, bad_image_is_reported_and_skipped) {
    const char *bad = "/tmp/pixab_cli_bad.png";
    FILE *f = fopen(bad, "wb");
    fputs("\x89PNG\r\n\x1a\nthis is not a png", f);
    fclose(f);
    char args[1024];
    const char *npy = "/tmp/pixab_cli_logits2.npy";
    snprintf(args, sizeof args, "classify -w %s --logits %s %s %stest299.png /nonexistent.jpg %ssmall53x37.png",
             MODEL, npy, bad, DATA, DATA);
    run_result r = run(args);
    cr_expect_eq(r.status, 1, "some inputs failed: status 1, got %d", r.status);
    cr_expect_eq(count_lines(r.out), 2, "the two good images: %s", r.out);
    cr_expect_eq(count_lines(r.err), 2, "one line per bad input: %s", r.err);
    cr_expect(strstr(r.err, bad) && strstr(r.err, "/nonexistent.jpg"), "%s", r.err);
    npy_array a;
    cr_assert_eq(npy_read_f32(npy, &a), PIXAB_OK);
    cr_expect(a.shape[0] == 4 && isnan(a.data[0]) && !isnan(a.data[10]) && isnan(a.data[20]) && !isnan(a.data[30]),
              "one row per input, NaN for failures");
    npy_free(&a);
    unlink(npy);
    unlink(bad);
}

Test(cli, fatal_errors_exit_2_with_one_line) {
    static const char *cases[][2] = {
        {"classify -w " DATA "test299.png " DATA "test299.png", "test299.png"},   /* weights not safetensors */
        {"classify -w /nonexistent.safetensors " DATA "test299.png", "/nonexistent.safetensors"},
        {"classify " DATA "test299.png", "no model"},
        {"classify -w " MODEL, "no images"},
        {"classify -w " MODEL " --top 0 " DATA "test299.png", "--top"},
        {"classify -w " MODEL " --device tpu " DATA "test299.png", "unknown device 'tpu'"},
        {"classify -w " MODEL " --frobnicate " DATA "test299.png", "unknown option '--frobnicate'"},
        {"classify -w " MODEL " --size 50 " DATA "test299.png", "--size"},
        {"classify -w " MODEL " --size 16384 " DATA "test299.png", "in [75, 8192]"}, /* the largest input side */
        {"classify -w " MODEL " --std 1e-45 " DATA "test299.png", "1e-45 is not a usable float32 number"},
        {"classify -w " MODEL " --std -1 " DATA "test299.png", "std -1 (need finite values, std > 0)"},
        {"classify -w " MODEL " --logits /nonexistent-dir/x.npy " DATA "test299.png", "/nonexistent-dir/x.npy"},
        {"frobnicate", "unknown command 'frobnicate'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r = run(cases[i][0]);
        cr_expect_eq(r.status, 2, "'%s': status %d", cases[i][0], r.status);
        cr_expect_eq(count_lines(r.err), 1, "'%s': one line, got: %s", cases[i][0], r.err);
        cr_expect(strstr(r.err, cases[i][1]), "'%s': error lacks '%s': %s", cases[i][0], cases[i][1], r.err);
    }
}

Test(cli, help_and_version) {
    run_result r = run("--help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "classify"));
    r = run("classify --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--logits") && strstr(r.out, "--device") && strstr(r.out, "--top"));
    r = run("--version");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "pixab"));
}

Test(cli, cuda_without_a_device_is_a_clear_error) {
    if (pixab_cuda_device_count() > 0) cr_skip_test("a CUDA device is present");
    run_result r = run("classify -w " MODEL " --device cuda " DATA "test299.png");
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "cuda"), "%s", r.err);
}

/* `pixab layers MODEL`: a header and a line per layer (index, name, shape,
 * op), the default target marked, for safetensors and ONNX alike; a missing
 * argument or file is one line and exit 2. */
Test(cli, layers_lists_names_shapes_ops_and_the_default) {
    run_result r = run("layers " MODEL);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_eq(count_lines(r.out), 1 + 20, "%s", r.out);
    cr_expect(strstr(r.out, "*  17  Mixed_7c       256x8x8         concat"), "%s", r.out);
    cr_expect(strstr(r.out, "    0  Conv2d_1a_3x3  4x149x149       conv"), "%s", r.out);
    cr_expect(strstr(r.out, "   19  fc             10x1x1          fc"), "%s", r.out);
    r = run("layers " DATA "inception_v3_w8.onnx");
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    /* every spatial tensor of the ONNX graph is a layer, branch tensors inside the blocks too */
    cr_expect(strstr(r.out, "*  71  /Mixed_7c/Concat_output_0") && strstr(r.out, "gap"), "%s", r.out);
    r = run("layers");
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "expected one MODEL"), "%s", r.err);
    r = run("layers /nonexistent/model.safetensors");
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
}

/* test_gradient_batch.c — the batched backward pass against the per-image
 * one: pixab_engine_gradient_batch of n images (each with its own seed: its
 * class, logit or softmax) against pixab_engine_gradient on each image alone,
 * at Mixed_7c, Mixed_6e and the input, in one chunk and in chunks of one (a
 * small head budget); and the gradient methods of pixab_explain_batch (one
 * backward for all images, shared by Grad-CAM, Grad-CAM++ and XGrad-CAM)
 * against pixab_explain on each image alone. The reference is always the
 * per-image path, itself checked against PyTorch in test_methods.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain_compare.h"
#include "pixab.h"

#define DEMO PIXAB_TEST_DATA "/../../models/pixab-demo.safetensors"
#define IMAGES PIXAB_TEST_DATA "/../../examples/images/"
#define PIXELS (299 * 299 * 3)
#define N 3

static pixab_model *model;
static pixab_engine *engine;
static float inputs[N][PIXELS];

/* The demo model (trained: its gradients are not the noise of random
 * weights) on three of the example images. */
static void setup(void) {
    static const char *images[N] = {"00000.png", "00001.png", "00002.png"};
    cr_assert_eq(pixab_model_load(DEMO, &model), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_create(model, "cpu", 8, &engine), PIXAB_OK, "%s", pixab_last_error());
    for (int i = 0; i < N; i++) {
        char path[512];
        pixab_image img;
        snprintf(path, sizeof path, "%s%s", IMAGES, images[i]);
        cr_assert_eq(pixab_image_load(path, &img), PIXAB_OK, "%s", pixab_last_error());
        cr_assert_eq(pixab_image_preprocess(&img, pixab_model_preproc(model), inputs[i]), PIXAB_OK);
        pixab_image_free(&img);
    }
}

static void teardown(void) {
    pixab_engine_destroy(engine);
    pixab_model_free(model);
}

TestSuite(gradient_batch, .init = setup, .fini = teardown, .timeout = 300);

/* Image i's seed: class seeds[i].cls, softmax or logit. */
typedef struct {
    int cls, softmax;
} seed_spec;

static void seed_one(const seed_spec *s, const float *logits, int classes, float *d) {
    float p[64];
    memcpy(p, logits, sizeof(float) * (size_t)classes);
    pixab_softmax(p, 1, classes);
    for (int j = 0; j < classes; j++)
        d[j] = s->softmax ? p[s->cls] * ((j == s->cls ? 1.0f : 0.0f) - p[j]) : j == s->cls ? 1.0f : 0.0f;
}

static void seed_single(void *user, const float *logits, int classes, float *d) { seed_one(user, logits, classes, d); }

static void seed_batch(void *user, int image, const float *logits, int classes, float *d) {
    seed_one((const seed_spec *)user + image, logits, classes, d);
}

/* The batch at `layer` (-1: the input) against each image alone; *err_rel:
 * max |batched - alone| over max |alone| (gradients), *err_logits likewise. */
static void compare_gradients(pixab_engine *e, int layer, double *err_rel, double *err_logits) {
    int C = 3, H = 299, W = 299;
    if (layer >= 0) cr_assert_eq(pixab_model_layer_shape(model, layer, &C, &H, &W), PIXAB_OK);
    const size_t floats = (size_t)C * H * W;
    const int classes = pixab_model_num_classes(model);
    float *x = malloc(sizeof(float) * floats * N), *dx = malloc(sizeof(float) * floats * N),
          *one = malloc(sizeof(float) * floats), logits[N * 16], l1[16];
    cr_assert(x && dx && one && classes <= 16);
    if (layer >= 0) cr_assert_eq(pixab_engine_body(e, &inputs[0][0], N, layer, x), PIXAB_OK, "%s", pixab_last_error());
    else memcpy(x, inputs, sizeof(float) * floats * N);
    const seed_spec seeds[N] = {{0, 0}, {3, 1}, {7, 0}};
    cr_assert_eq(pixab_engine_gradient_batch(e, layer, x, N, seed_batch, (void *)seeds, logits, dx), PIXAB_OK, "%s",
                 pixab_last_error());
    double worst = 0.0, worst_logit = 0.0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(pixab_engine_gradient(e, layer, x + floats * i, seed_single, (void *)&seeds[i], l1, one),
                     PIXAB_OK, "%s", pixab_last_error());
        double d = 0.0, top = 0.0;
        for (size_t p = 0; p < floats; p++) {
            d = fmax(d, fabs((double)dx[floats * i + p] - one[p]));
            top = fmax(top, fabs((double)one[p]));
        }
        cr_expect(top > 0.0, "image %d: a gradient that is not all zeros", i);
        worst = fmax(worst, d / top);
        for (int j = 0; j < classes; j++)
            worst_logit = fmax(worst_logit, fabs((double)logits[classes * i + j] - l1[j]) / fmax(1.0, fabs(l1[j])));
    }
    *err_rel = worst;
    *err_logits = worst_logit;
    free(x);
    free(dx);
    free(one);
}

/* Bit for bit: the CPU backend cuts its GEMMs per image, forward and
 * backward, the same way at every batch size. */
Test(gradient_batch, batched_gradient_equals_per_image) {
    static const char *layers[] = {"Mixed_7c", "Mixed_6e", NULL};
    for (int l = 0; l < 3; l++) {
        const int layer = layers[l] ? pixab_model_find_layer(model, layers[l]) : -1;
        double err, err_logits;
        compare_gradients(engine, layer, &err, &err_logits);
        cr_log_info("%s: batched vs alone, gradient max|d|/max|g| = %.3g, logits %.3g", layers[l] ? layers[l] : "input",
                    err, err_logits);
        cr_expect(err == 0.0, "%s: gradient max|d|/max|g| = %g", layers[l] ? layers[l] : "input", err);
        cr_expect(err_logits == 0.0, "%s: logits differ by %g", layers[l] ? layers[l] : "input", err_logits);
    }
}

/* A head budget smaller than two images' backward memory: the batch runs in
 * chunks of one image, each the per-image computation exactly. */
Test(gradient_batch, chunks_of_one_under_a_small_budget) {
    cr_assert_eq(pixab_engine_set_head_budget(engine, 4096), PIXAB_OK);
    double err, err_logits;
    compare_gradients(engine, pixab_model_find_layer(model, "Mixed_6e"), &err, &err_logits);
    cr_expect(err == 0.0 && err_logits == 0.0, "chunks of one: max|d|/max|g| = %g, logits %g", err, err_logits);
    cr_assert_eq(pixab_engine_set_head_budget(engine, 0), PIXAB_OK);
}

Test(gradient_batch, refuses_more_images_than_the_engine_batch) {
    pixab_engine *two;
    float x[PIXELS], logits[16], dx[PIXELS];
    cr_assert_eq(pixab_engine_create(model, "cpu", 2, &two), PIXAB_OK, "%s", pixab_last_error());
    const seed_spec seeds[N] = {{0, 0}, {0, 0}, {0, 0}};
    memset(x, 0, sizeof x);
    cr_expect_eq(pixab_engine_gradient_batch(two, -1, x, 3, seed_batch, (void *)seeds, logits, dx), PIXAB_ERR_ARG);
    cr_expect_eq(pixab_engine_gradient_batch(two, -1, x, 0, seed_batch, (void *)seeds, logits, dx), PIXAB_ERR_ARG);
    pixab_engine_destroy(two);
}

/* pixab_explain_batch with the three gradient methods (one backward for the
 * images of each body pass, shared by the methods) against pixab_explain of
 * each image alone (a backward per method), per-image classes, both scores,
 * Mixed_7c and Mixed_6e; an engine of batch 2, so the 3 images are two groups.
 * Bit for bit, as the gradients above. */
Test(gradient_batch, gradient_maps_batched_equal_per_image) {
    const pixab_method ms[] = {PIXAB_METHOD_GRADCAM, PIXAB_METHOD_GRADCAMPP, PIXAB_METHOD_XGRADCAM,
                               PIXAB_METHOD_ACTIVATION};
    enum { M = sizeof ms / sizeof ms[0] };
    static const char *layers[] = {"Mixed_7c", "Mixed_6e"};
    const int cls[N] = {-1, 3, -1};
    pixab_engine *two;
    cr_assert_eq(pixab_engine_create(model, "cpu", 2, &two), PIXAB_OK, "%s", pixab_last_error());
    float worst = 0.0f, err[N * M], top[N * M];
    for (int l = 0; l < 2; l++)
        for (int sc = 0; sc < 2; sc++) {
            pixab_explain_opts o = {.layer = pixab_model_find_layer(model, layers[l]),
                                    .score = sc ? PIXAB_SCORE_SOFTMAX : PIXAB_SCORE_DEFAULT};
            explain_batch_vs_alone(two, engine, &inputs[0][0], N, ms, M, &o, cls, err, top);
            for (int i = 0; i < N * M; i++) {
                cr_expect_eq(top[i], 1.0f, "%s image %d %s: a map that is not all zeros", layers[l], i / M,
                             pixab_method_name(ms[i % M]));
                cr_expect(err[i] == 0.0f, "%s %s image %d %s: batched vs alone max|d| = %g", layers[l],
                          sc ? "softmax" : "logit", i / M, pixab_method_name(ms[i % M]), err[i]);
                worst = fmaxf(worst, err[i]);
            }
        }
    cr_log_info("gradient maps, batched vs alone: max|d| = %.3g", worst);
    pixab_engine_destroy(two);
}

/* test_adversarial.c — the evaluation suite's adversarial patches and
 * cascading randomisation (host/eval/adversarial.h, pixab_model_randomize) on the demo
 * model (models/pixab-demo.safetensors, 8 synthetic shape classes) and the
 * example images: targeted patch FGSM reaches its class, touches nothing
 * outside the patches and stays in the pixel range; several attacks run
 * together keep their own state and differ from each alone by rounding only;
 * AE1/AE2 patch geometry;
 * randomisation changes exactly the intended layers, reproducibly. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adversarial.h"
#include "model.h"
#include "pixab.h"

#define ROOT PIXAB_TEST_DATA "/../../"
#define DEMO ROOT "models/pixab-demo.safetensors"
#define IMAGES ROOT "examples/images/"

static pixab_model *model;
static pixab_engine *engine;
static const pixab_preproc *pre;
static int S;
static size_t N; /* floats per image */

static void setup(void) {
    cr_assert_eq(pixab_model_load(DEMO, &model), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_create(model, "cpu", 1, &engine), PIXAB_OK, "%s", pixab_last_error());
    pre = pixab_model_preproc(model);
    S = pre->size;
    N = (size_t)S * S * 3;
}

static void teardown(void) {
    pixab_engine_destroy(engine);
    pixab_model_free(model);
}

TestSuite(adversarial, .init = setup, .fini = teardown, .timeout = 300);

/* Example image i preprocessed into a new buffer (N floats). */
static float *example(int i) {
    char path[256];
    snprintf(path, sizeof path, IMAGES "%05d.png", i);
    pixab_image img;
    cr_assert_eq(pixab_image_load(path, &img), PIXAB_OK, "%s", pixab_last_error());
    float *x = malloc(sizeof(float) * N);
    cr_assert(x);
    cr_assert_eq(pixab_image_preprocess(&img, pre, x), PIXAB_OK, "%s", pixab_last_error());
    pixab_image_free(&img);
    return x;
}

static int top1(const float *x) {
    float logits[64];
    cr_assert(pixab_model_num_classes(model) <= 64);
    cr_assert_eq(pixab_engine_forward(engine, x, 1, logits), PIXAB_OK, "%s", pixab_last_error());
    int t = 0;
    for (int j = 1; j < pixab_model_num_classes(model); j++)
        if (logits[j] > logits[t]) t = j;
    return t;
}

static int in_boxes(const metrics_box *b, int n, int x, int y) {
    for (int i = 0; i < n; i++)
        if (x >= b[i].x0 && x < b[i].x1 && y >= b[i].y0 && y < b[i].y1) return 1;
    return 0;
}

/* Every value of x (N) inside the valid pixel range of its channel. */
static void expect_in_range(const float *x) {
    for (size_t i = 0; i < N; i++) {
        int c = (int)(i % 3);
        float lo = (0.0f - pre->mean[c]) / pre->std[c], hi = (1.0f - pre->mean[c]) / pre->std[c];
        /* Slack for the image's own values: preprocessing rounds differently. */
        if (x[i] < lo - 1e-5f || x[i] > hi + 1e-5f) cr_assert_fail("value %g at %zu outside [%g, %g]", x[i], i, lo, hi);
    }
}

/* x equals ref (bit for bit) outside the boxes; ref NULL: the zero image. */
static void expect_same_outside(const float *x, const float *ref, const metrics_box *b, int n) {
    for (int y = 0; y < S; y++)
        for (int xx = 0; xx < S; xx++) {
            if (in_boxes(b, n, xx, y)) continue;
            size_t p = ((size_t)y * S + xx) * 3;
            const float zero[3] = {0};
            if (memcmp(x + p, ref ? ref + p : zero, sizeof zero))
                cr_assert_fail("pixel (%d, %d) outside the patches changed", xx, y);
        }
}

static void expect_valid_boxes(const metrics_box *b, int n) {
    cr_assert(n >= 1 && n <= ADV_MAX_PATCHES, "patch count %d", n);
    for (int i = 0; i < n; i++) {
        int side = b[i].x1 - b[i].x0;
        cr_assert_eq(b[i].y1 - b[i].y0, side, "patch %d is not square", i);
        cr_assert(side >= 0.15 * S && side <= 0.20 * S, "patch side %d of %d", side, S);
        cr_assert(b[i].x0 >= 0 && b[i].y0 >= 0 && b[i].x1 <= S && b[i].y1 <= S, "patch %d outside", i);
        for (int j = 0; j < i; j++)
            cr_assert(b[i].x1 <= b[j].x0 || b[j].x1 <= b[i].x0 || b[i].y1 <= b[j].y0 || b[j].y1 <= b[i].y0,
                      "patches %d and %d overlap", i, j);
    }
}

Test(adversarial, fgsm_reaches_target_inside_patch_only) {
    const int classes = pixab_model_num_classes(model);
    int wins = 0;
    for (int i = 0; i < 4; i++) {
        float *x = example(i), *x0 = malloc(sizeof(float) * N);
        cr_assert(x0);
        memcpy(x0, x, sizeof(float) * N);
        const int before = top1(x), target = (before + 1 + 2 * i) % classes;
        metrics_box box;
        cr_assert_eq(adv_random_boxes(S, 1, (uint64_t)i, &box), PIXAB_OK, "%s", pixab_last_error());
        adv_result r;
        cr_assert_eq(adv_fgsm_patch(engine, pre, x, &box, 1, target, NULL, &r), PIXAB_OK, "%s", pixab_last_error());
        cr_log_info("image %d: class %d -> target %d: %s after %d steps, p(target) = %.3f", i, before, target,
                    r.success ? "reached" : "missed", r.steps, r.target_prob);
        wins += r.success;
        cr_expect(r.steps <= 100);
        cr_expect_eq(r.success, r.top1 == target);
        cr_expect_eq(top1(x), r.top1, "the reported top-1 is not the attacked image's");
        expect_same_outside(x, x0, &box, 1);
        expect_in_range(x);
        free(x);
        free(x0);
    }
    cr_assert(wins >= 3, "FGSM reached its target on %d of 4 images", wins);
}

/* Four attacks on example images, with 1 or 2 patches and a target other
 * than the top-1 class; alone[i] a copy of attack i's image. */
enum { ATTACKS = 4 };
static void make_attacks(adv_attack *at, metrics_box boxes[][2], float **alone) {
    const int classes = pixab_model_num_classes(model);
    for (int i = 0; i < ATTACKS; i++) {
        float *x = example(i);
        cr_assert_eq(adv_random_boxes(S, 2, (uint64_t)(7 + i), boxes[i]), PIXAB_OK, "%s", pixab_last_error());
        at[i] = (adv_attack){.x = x, .boxes = boxes[i], .n_boxes = 1 + i % 2, .target = (top1(x) + 1 + i) % classes};
        alone[i] = malloc(sizeof(float) * N);
        cr_assert(alone[i]);
        memcpy(alone[i], x, sizeof(float) * N);
    }
}

/* adv_fgsm_patches keeps each attack's own state: on an engine of batch 1
 * (a gradient at a time, so the arithmetic is the attack's alone), four
 * attacks that finish at different steps, one at the step limit, give
 * exactly what adv_fgsm_patch gives each. */
Test(adversarial, fgsm_batch_keeps_each_attack_apart) {
    const adv_fgsm_opts o = {.max_steps = 8};
    float *alone[ATTACKS];
    adv_attack at[ATTACKS];
    metrics_box boxes[ATTACKS][2];
    make_attacks(at, boxes, alone);
    cr_assert_eq(adv_fgsm_patches(engine, pre, at, ATTACKS, &o), PIXAB_OK, "%s", pixab_last_error());
    int limit = 0, early = 0;
    for (int i = 0; i < ATTACKS; i++) {
        adv_result r;
        cr_assert_eq(adv_fgsm_patch(engine, pre, alone[i], at[i].boxes, at[i].n_boxes, at[i].target, &o, &r), PIXAB_OK,
                     "%s", pixab_last_error());
        cr_expect(at[i].r.steps == r.steps && at[i].r.success == r.success && at[i].r.top1 == r.top1 &&
                      at[i].r.target_prob == r.target_prob,
                  "attack %d: %d steps, success %d, top-1 %d; alone %d, %d, %d", i, at[i].r.steps, at[i].r.success,
                  at[i].r.top1, r.steps, r.success, r.top1);
        cr_expect(!memcmp(at[i].x, alone[i], sizeof(float) * N), "attack %d: not the image of the attack alone", i);
        limit |= r.steps == o.max_steps;
        early |= r.steps < o.max_steps;
        free(at[i].x);
        free(alone[i]);
    }
    cr_expect(limit && early, "attacks ending both early and at the limit");
}

/* On an engine of batch 3 (a round is two gradient batches) every attack
 * runs exactly as alone, bit for bit, over several steps: the CPU backend
 * cuts its GEMMs per image, forward and backward, the same way at every
 * batch size (FGSM follows the gradient's signs, so any rounding difference
 * would send an attack elsewhere). */
Test(adversarial, fgsm_batch_equals_each_attack_alone) {
    const adv_fgsm_opts o = {.max_steps = 4};
    float *alone[ATTACKS];
    adv_attack at[ATTACKS];
    metrics_box boxes[ATTACKS][2];
    pixab_engine *three;
    cr_assert_eq(pixab_engine_create(model, "cpu", 3, &three), PIXAB_OK, "%s", pixab_last_error());
    make_attacks(at, boxes, alone);
    cr_assert_eq(adv_fgsm_patches(three, pre, at, ATTACKS, &o), PIXAB_OK, "%s", pixab_last_error());
    for (int i = 0; i < ATTACKS; i++) {
        adv_result r;
        cr_assert_eq(adv_fgsm_patch(engine, pre, alone[i], at[i].boxes, at[i].n_boxes, at[i].target, &o, &r), PIXAB_OK,
                     "%s", pixab_last_error());
        cr_expect(at[i].r.steps == r.steps && at[i].r.success == r.success, "attack %d", i);
        cr_expect(!memcmp(at[i].x, alone[i], sizeof(float) * N), "attack %d differs from the attack alone", i);
        free(at[i].x);
        free(alone[i]);
    }
    pixab_engine_destroy(three);
}

Test(adversarial, fgsm_stops_at_once_when_target_already_wins) {
    float *x = example(0), *x0 = malloc(sizeof(float) * N);
    cr_assert(x0);
    memcpy(x0, x, sizeof(float) * N);
    metrics_box box = {10, 20, 60, 70};
    adv_result r;
    cr_assert_eq(adv_fgsm_patch(engine, pre, x, &box, 1, top1(x), NULL, &r), PIXAB_OK, "%s", pixab_last_error());
    cr_expect(r.success);
    cr_expect_eq(r.steps, 0);
    cr_expect(!memcmp(x, x0, sizeof(float) * N));
    /* A step limit is honoured exactly. */
    adv_fgsm_opts o = {.eps = 1.0f / 255.0f, .max_steps = 2};
    cr_assert_eq(adv_fgsm_patch(engine, pre, x, &box, 1, (top1(x0) + 1) % 8, &o, &r), PIXAB_OK);
    cr_expect(r.steps <= 2);
    free(x);
    free(x0);
}

Test(adversarial, fgsm_rejects_bad_arguments) {
    float *x = example(0);
    metrics_box ok = {0, 0, 10, 10}, outside = {290, 0, 300, 10}, empty = {5, 5, 5, 9};
    adv_result r;
    cr_expect_eq(adv_fgsm_patch(engine, pre, x, &ok, 1, 8, NULL, &r), PIXAB_ERR_ARG);
    cr_expect_eq(adv_fgsm_patch(engine, pre, x, &ok, 1, -1, NULL, &r), PIXAB_ERR_ARG);
    cr_expect_eq(adv_fgsm_patch(engine, pre, x, &outside, 1, 0, NULL, &r), PIXAB_ERR_ARG);
    cr_expect_eq(adv_fgsm_patch(engine, pre, x, &empty, 1, 0, NULL, &r), PIXAB_ERR_ARG);
    cr_expect_eq(adv_fgsm_patch(engine, pre, x, &ok, 0, 0, NULL, &r), PIXAB_ERR_ARG);
    pixab_preproc other = *pre;
    other.size = 128;
    cr_expect_eq(adv_fgsm_patch(engine, &other, x, &ok, 1, 0, NULL, &r), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "128"), "%s", pixab_last_error());
    free(x);
}

Test(adversarial, random_boxes_are_valid_and_reproducible) {
    metrics_box a[ADV_MAX_PATCHES], b[ADV_MAX_PATCHES];
    int sizes[] = {299, 64, 500};
    for (int k = 0; k < 3; k++)
        for (int n = 1; n <= ADV_MAX_PATCHES; n++)
            for (uint64_t seed = 0; seed < 40; seed++) {
                int saved = S;
                S = sizes[k];
                cr_assert_eq(adv_random_boxes(S, n, seed, a), PIXAB_OK, "S %d n %d: %s", S, n, pixab_last_error());
                expect_valid_boxes(a, n);
                cr_assert_eq(adv_random_boxes(S, n, seed, b), PIXAB_OK);
                cr_assert(!memcmp(a, b, sizeof(metrics_box) * (size_t)n), "seed %llu not reproducible",
                          (unsigned long long)seed);
                S = saved;
            }
    cr_assert_eq(adv_random_boxes(299, 9, 1, a), PIXAB_OK);
    cr_assert_eq(adv_random_boxes(299, 9, 2, b), PIXAB_OK);
    cr_expect(memcmp(a, b, sizeof a), "different seeds gave the same patches");
    cr_expect_eq(adv_random_boxes(299, 0, 1, a), PIXAB_ERR_ARG);
    cr_expect_eq(adv_random_boxes(299, 10, 1, a), PIXAB_ERR_ARG);
    cr_expect_eq(adv_random_boxes(4, 1, 1, a), PIXAB_ERR_ARG); /* no integer side in [0.6, 0.8] */
}

Test(adversarial, ae1_patch_pasted_into_real_image) {
    float *real = example(1), *out = malloc(sizeof(float) * N), *patch = malloc(sizeof(float) * N);
    cr_assert(out && patch);
    const int target = (top1(real) + 3) % 8;
    adv_ae1 r;
    cr_assert_eq(adv_make_ae1(engine, pre, real, target, 0, 7, NULL, out, patch, &r), PIXAB_OK, "%s",
                 pixab_last_error());
    cr_log_info("AE1 %d patches, target %d: zero image %s after %d steps (p %.3f); pasted: top-1 %d (p %.3f)", r.n,
                target, r.on_zero.success ? "reached" : "missed", r.on_zero.steps, r.on_zero.target_prob,
                r.on_real.top1, r.on_real.target_prob);
    cr_expect_eq(r.target, target);
    expect_valid_boxes(r.boxes, r.n);
    expect_same_outside(patch, NULL, r.boxes, r.n);
    expect_same_outside(out, real, r.boxes, r.n);
    for (int i = 0; i < r.n; i++) /* inside: the patch, bit for bit */
        for (int y = r.boxes[i].y0; y < r.boxes[i].y1; y++) {
            size_t p = ((size_t)y * S + r.boxes[i].x0) * 3;
            cr_assert(!memcmp(out + p, patch + p, sizeof(float) * 3 * (size_t)(r.boxes[i].x1 - r.boxes[i].x0)));
        }
    expect_in_range(out);
    cr_expect_eq(top1(patch), r.on_zero.top1);
    cr_expect_eq(top1(out), r.on_real.top1);
    cr_expect_eq(r.on_real.success, r.on_real.top1 == target);
    cr_expect_eq(r.on_real.steps, 0);
    /* Reproducible, and the patch count follows the argument when given. */
    adv_ae1 r2;
    adv_fgsm_opts quick = {.max_steps = 1};
    cr_assert_eq(adv_make_ae1(engine, pre, real, target, 0, 7, &quick, out, NULL, &r2), PIXAB_OK);
    cr_expect_eq(r2.n, r.n);
    cr_expect(!memcmp(r2.boxes, r.boxes, sizeof(metrics_box) * (size_t)r.n));
    cr_assert_eq(adv_make_ae1(engine, pre, real, target, 9, 3, &quick, out, NULL, &r2), PIXAB_OK);
    cr_expect_eq(r2.n, 9);
    expect_valid_boxes(r2.boxes, r2.n);
    cr_expect_eq(adv_make_ae1(engine, pre, real, target, 10, 3, &quick, out, NULL, &r2), PIXAB_ERR_ARG);
    free(real);
    free(out);
    free(patch);
}

Test(adversarial, ae2_four_patches_of_four_classes) {
    float *out = malloc(sizeof(float) * N);
    cr_assert(out);
    adv_ae2 r;
    cr_assert_eq(adv_make_ae2(engine, pre, NULL, 11, NULL, out, &r), PIXAB_OK, "%s", pixab_last_error());
    int reached = 0;
    for (int i = 0; i < ADV_AE2_PATCHES; i++) {
        cr_log_info("AE2 patch %d, target %d: %s after %d steps (p %.3f); composite p %.3f", i, r.targets[i],
                    r.patch[i].success ? "reached" : "missed", r.patch[i].steps, r.patch[i].target_prob,
                    r.composite[i].target_prob);
        reached += r.patch[i].success;
        cr_assert(r.targets[i] >= 0 && r.targets[i] < 8);
        for (int j = 0; j < i; j++) cr_assert_neq(r.targets[i], r.targets[j], "targets repeat");
        cr_expect_eq(r.composite[i].top1, top1(out));
    }
    cr_log_info("AE2: %d of 4 patches reached their class; %d of 4 targets in the composite's top 4", reached,
                r.in_top4);
    cr_expect(reached >= 2, "only %d of 4 AE2 patches reached their class", reached);
    cr_expect(r.in_top4 >= 0 && r.in_top4 <= 4);
    expect_valid_boxes(r.boxes, ADV_AE2_PATCHES);
    expect_same_outside(out, NULL, r.boxes, ADV_AE2_PATCHES);
    expect_in_range(out);
    /* Given targets are kept; repeated ones are refused. */
    adv_fgsm_opts quick = {.max_steps = 1};
    int given[4] = {7, 0, 5, 2}, repeated[4] = {1, 2, 1, 3};
    cr_assert_eq(adv_make_ae2(engine, pre, given, 11, &quick, out, &r), PIXAB_OK, "%s", pixab_last_error());
    cr_expect(!memcmp(r.targets, given, sizeof given));
    cr_expect_eq(adv_make_ae2(engine, pre, repeated, 11, &quick, out, &r), PIXAB_ERR_ARG);
    free(out);
}

/* ---- cascading randomisation --------------------------------------------- */

/* Mean and population std of v (n). */
static void stats(const float *v, size_t n, double *mean, double *sd) {
    double s = 0.0, q = 0.0;
    for (size_t i = 0; i < n; i++) s += v[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++) q += (v[i] - *mean) * (v[i] - *mean);
    *sd = sqrt(q / (double)n);
}

/* Ops before layer `from` bit-identical to the original; weighted ops from it on
 * redrawn with the original tensor's mean and std. */
static void check_randomized(const pixab_model *r, int from) {
    const graph *g = &model->g, *h = &r->g;
    cr_assert(h->params != g->params, "the copy shares its weights");
    cr_assert_eq(h->n_params, g->n_params);
    const int first = graph_layer_begin(g, from);
    for (int i = 0; i < g->n_ops; i++) {
        const graph_op *o = &g->ops[i];
        if (o->kind != OP_CONV && o->kind != OP_FC) continue;
        const size_t nw = graph_op_weights(o);
        const float *w0 = g->params + o->w_off, *w1 = h->params + o->w_off;
        const float *b0 = g->params + o->b_off, *b1 = h->params + o->b_off;
        if (i < first) {
            cr_assert(!memcmp(w0, w1, sizeof(float) * nw) && !memcmp(b0, b1, sizeof(float) * (size_t)o->c_out),
                      "op %s below the randomised layers changed", o->name);
            continue;
        }
        cr_assert(memcmp(w0, w1, sizeof(float) * nw), "op %s kept its weights", o->name);
        double m0, s0, m1, s1;
        stats(w0, nw, &m0, &s0);
        stats(w1, nw, &m1, &s1);
        /* Sampling error of n draws: the mean within ~5 sd/sqrt(n), the std within ~5 sd/sqrt(2n). */
        cr_expect(fabs(m1 - m0) <= 5.0 * s0 / sqrt((double)nw) + 1e-6, "op %s: mean %g, want %g", o->name, m1, m0);
        cr_expect(fabs(s1 - s0) <= 5.0 * s0 / sqrt(2.0 * nw) + 1e-6, "op %s: std %g, want %g", o->name, s1, s0);
    }
}

Test(adversarial, randomize_changes_exactly_the_top_layers) {
    const graph *g = &model->g;
    float *orig = malloc(sizeof(float) * g->n_params);
    cr_assert(orig);
    memcpy(orig, g->params, sizeof(float) * g->n_params);
    const int fc = pixab_model_find_layer(model, "fc"), m7c = pixab_model_find_layer(model, "Mixed_7c"),
              m6e = pixab_model_find_layer(model, "Mixed_6e");
    cr_assert(fc >= 0 && m7c >= 0 && m6e >= 0);
    pixab_model *r_fc, *r_7c, *r_6e, *again, *other, *none;
    cr_assert_eq(pixab_model_randomize(model, fc, 42, &r_fc), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_model_randomize(model, m7c, 42, &r_7c), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_model_randomize(model, m6e, 42, &r_6e), PIXAB_OK, "%s", pixab_last_error());
    check_randomized(r_fc, fc);
    check_randomized(r_7c, m7c);
    check_randomized(r_6e, m6e);
    /* Deterministic per seed; another seed draws other weights. */
    cr_assert_eq(pixab_model_randomize(model, m7c, 42, &again), PIXAB_OK);
    cr_assert_eq(pixab_model_randomize(model, m7c, 43, &other), PIXAB_OK);
    cr_expect(!memcmp(again->g.params, r_7c->g.params, sizeof(float) * g->n_params), "same seed, other weights");
    cr_expect(memcmp(other->g.params, r_7c->g.params, sizeof(float) * g->n_params), "other seed, same weights");
    /* A cascade: fc's random weights are the same at every step. */
    const graph_op *fo = &g->ops[g->n_ops - 1];
    cr_assert_eq(fo->kind, OP_FC);
    cr_expect(!memcmp(r_fc->g.params + fo->w_off, r_6e->g.params + fo->w_off, sizeof(float) * graph_op_weights(fo)));
    /* The original is untouched; the copy carries its own preprocessing and names. */
    cr_expect(!memcmp(orig, g->params, sizeof(float) * g->n_params), "the original model changed");
    cr_expect(!memcmp(pixab_model_preproc(r_fc), pre, sizeof *pre));
    for (int c = 0; c < pixab_model_num_classes(model); c++) {
        const char *a = pixab_model_class_name(model, c), *b = pixab_model_class_name(r_fc, c);
        cr_assert((a == NULL) == (b == NULL));
        if (a) cr_expect(a != b && !strcmp(a, b), "class %d: '%s' vs '%s'", c, a, b);
    }
    /* n_layers: an unchanged copy; beyond: an error. */
    pixab_model *same;
    cr_assert_eq(pixab_model_randomize(model, g->n_layers, 1, &same), PIXAB_OK);
    cr_expect(!memcmp(same->g.params, g->params, sizeof(float) * g->n_params));
    cr_expect_eq(pixab_model_randomize(model, g->n_layers + 1, 1, &none), PIXAB_ERR_ARG);
    cr_expect_eq(pixab_model_randomize(model, -1, 1, &none), PIXAB_ERR_ARG);
    cr_expect_null(none);
    pixab_model_free(same);
    pixab_model_free(other);
    pixab_model_free(again);
    pixab_model_free(r_7c);
    pixab_model_free(r_6e);
    /* An engine on the copy runs the random weights, also after the original is gone. */
    float *x = example(2), l0[8], l1[8];
    cr_assert_eq(pixab_model_num_classes(model), 8);
    cr_assert_eq(pixab_engine_forward(engine, x, 1, l0), PIXAB_OK);
    pixab_engine_destroy(engine);
    pixab_model_free(model);
    engine = NULL;
    model = NULL;
    pixab_engine *er;
    cr_assert_eq(pixab_engine_create(r_fc, "cpu", 1, &er), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_forward(er, x, 1, l1), PIXAB_OK, "%s", pixab_last_error());
    cr_expect(memcmp(l0, l1, sizeof l0), "the randomised model gives the same logits");
    pixab_engine_destroy(er);
    pixab_model_free(r_fc);
    free(x);
    free(orig);
}

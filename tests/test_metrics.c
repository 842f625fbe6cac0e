/* test_metrics.c — the evaluation metrics (host/eval/metrics.h): each one on a
 * tiny case computed by hand (in the comments), then one real case against
 * tools/make_eval_goldens.py (PyTorch / scipy, float64, RISE's code for the
 * deletion and insertion games): the demo model on examples/images/00000.png
 * with two fixed 8 x 8 maps made by that script. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "pixab.h"
#include "golden.h"
#include "safetensors.h"

#define DATA PIXAB_TEST_DATA "/"
#define EXAMPLES PIXAB_TEST_DATA "/../../examples/images/"
#define MODELS PIXAB_TEST_DATA "/../../models/"
#define S 299
#define STEPS 20

#define expect_near(got, want, tol)                                                                         \
    cr_expect(fabs((double)(got) - (double)(want)) <= (tol), "%s = %.9g, want %.9g (tol %g)", #got,           \
              (double)(got), (double)(want), (double)(tol))

/* ---- boxes ------------------------------------------------------------------------ */

static int box_eq(metrics_box a, int x0, int y0, int x1, int y1) {
    return a.x0 == x0 && a.y0 == y0 && a.x1 == x1 && a.y1 == y1;
}

Test(metrics_pure, box_scale) {
    metrics_box b = {168, 75, 251, 157};
    cr_expect(box_eq(metrics_box_scale(b, S, S, S), 168, 75, 251, 157), "identity at S x S");
    /* 100 x 50 -> 200: x scale 2, [10,20) -> j >= 10*2 - 0.5 -> [20, 40); y scale 4, [5,10) -> [20, 40) */
    metrics_box r = metrics_box_scale((metrics_box){10, 5, 20, 10}, 100, 50, 200);
    cr_expect(box_eq(r, 20, 20, 40, 40), "got %d %d %d %d", r.x0, r.y0, r.x1, r.y1);
    /* 400 -> 100 (scale 1/4): [0,3) -> [ceil(-0.5), ceil(0.25)) = [0, 1);
     * [1,2) -> [ceil(-0.25), ceil(0)) = [0, 0): thinner than a pixel, keeps [0, 1);
     * [398,400) -> [ceil(99), ceil(99.5)) = [99, 100) */
    r = metrics_box_scale((metrics_box){0, 1, 3, 2}, 400, 400, 100);
    cr_expect(box_eq(r, 0, 0, 1, 1), "got %d %d %d %d", r.x0, r.y0, r.x1, r.y1);
    r = metrics_box_scale((metrics_box){398, 398, 400, 400}, 400, 400, 100);
    cr_expect(box_eq(r, 99, 99, 100, 100), "got %d %d %d %d", r.x0, r.y0, r.x1, r.y1);
    /* outside the image: clipped; an empty box stays empty */
    r = metrics_box_scale((metrics_box){-10, 0, 500, 400}, 400, 400, 100);
    cr_expect(box_eq(r, 0, 0, 100, 100), "got %d %d %d %d", r.x0, r.y0, r.x1, r.y1);
    r = metrics_box_scale((metrics_box){40, 40, 40, 80}, 400, 400, 100);
    cr_expect(r.x1 == r.x0 && r.y0 == 10 && r.y1 == 20, "got %d %d %d %d", r.x0, r.y0, r.x1, r.y1);
}

/* ---- map metrics ---------------------------------------------------------------------- */

Test(metrics_pure, compactness) {
    const float m[] = {0.0f, 0.5f, 1.0f, 0.5f}; /* (0 + .5 + 1 + .5) / 4 = 0.5 */
    expect_near(metrics_compactness(m, 4), 0.5, 1e-12);
}

Test(metrics_pure, pointing_game) {
    enum { N = 40 };
    static float m[N * N];
    memset(m, 0, sizeof m);
    m[10 * N + 20] = 1.0f; /* the first maximum: (x 20, y 10) */
    m[30 * N + 5] = 1.0f;  /* an equal one later in raster order: (5, 30) */
    metrics_box right = {30, 0, 40, 40};  /* dx = 30 - 20 = 10 */
    metrics_box lower = {0, 26, 10, 40};  /* holds (5, 30); from (20, 10): dx 11, dy 16, 377 > 15^2 */
    metrics_box at = {20, 10, 21, 11}, next = {21, 10, 22, 11};
    cr_expect_eq(metrics_pointing_game(m, N, &right, 1, 15), 1);
    cr_expect_eq(metrics_pointing_game(m, N, &right, 1, 9), 0);
    cr_expect_eq(metrics_pointing_game(m, N, &right, 1, 10), 1);
    cr_expect_eq(metrics_pointing_game(m, N, &lower, 1, 15), 0, "the first maximum in raster order counts");
    cr_expect_eq(metrics_pointing_game(m, N, &lower, 1, 20), 1, "sqrt(377) = 19.4 <= 20");
    metrics_box two[] = {lower, right};
    cr_expect_eq(metrics_pointing_game(m, N, two, 2, 15), 1, "any box");
    cr_expect_eq(metrics_pointing_game(m, N, &at, 1, 0), 1);
    cr_expect_eq(metrics_pointing_game(m, N, &next, 1, 0), 0);
    cr_expect_eq(metrics_pointing_game(m, N, &next, 1, 1), 1);
    cr_expect_eq(metrics_pointing_game(m, N, NULL, 0, 15), 0, "no boxes: a miss");
    for (int i = 0; i < N * N; i++) m[i] = NAN;
    cr_expect_eq(metrics_pointing_game(m, N, &right, 1, 100), 0, "all NaN: a miss");
}

Test(metrics_pure, object_localisation) {
    /* 4 x 4 map, total 1 + 2 + 3 + 4 = 10 */
    const float m[16] = {1, 2, 0, 0, /**/ 0, 3, 0, 0, /**/ 0, 0, 0, 0, /**/ 0, 0, 0, 4};
    metrics_box b[] = {{0, 0, 2, 2}, {1, 1, 2, 2}, {3, 3, 4, 4}};
    expect_near(metrics_object_localisation(m, 4, b, 1), 0.6, 1e-12);    /* 1 + 2 + 3 */
    expect_near(metrics_object_localisation(m, 4, b, 2), 0.6, 1e-12);    /* union: (1,1) once */
    expect_near(metrics_object_localisation(m, 4, b, 3), 1.0, 1e-12);    /* + 4 */
    expect_near(metrics_object_localisation(m, 4, b + 2, 1), 0.4, 1e-12);
    const float z[16] = {0};
    expect_near(metrics_object_localisation(z, 4, b, 3), 0.0, 0.0); /* all zero: 0 */
}

Test(metrics_pure, cosine_distance) {
    const float a[] = {1, 0}, b[] = {0, 1}, c[] = {1, 1}, na[] = {-1, 0}, z[] = {0, 0};
    expect_near(metrics_cosine_distance(a, b, 2), 1.0, 1e-12);                 /* orthogonal */
    expect_near(metrics_cosine_distance(c, a, 2), 1.0 - 1.0 / sqrt(2.0), 1e-7); /* 0.2928932 */
    expect_near(metrics_cosine_distance(c, c, 2), 0.0, 1e-7);
    expect_near(metrics_cosine_distance(a, na, 2), 2.0, 1e-12);
    expect_near(metrics_cosine_distance(z, z, 2), 0.0, 0.0); /* both zero: identical */
    expect_near(metrics_cosine_distance(z, a, 2), 1.0, 0.0); /* one zero: 1 */
}

Test(metrics_pure, spearman) {
    const float a[] = {1, 2, 3, 4}, up[] = {10, 20, 30, 40}, down[] = {4, 3, 2, 1}, t[] = {1, 2, 2, 3},
                k[] = {5, 5, 5, 5};
    expect_near(metrics_spearman(a, up, 4), 1.0, 1e-12);
    expect_near(metrics_spearman(a, down, 4), -1.0, 1e-12);
    /* ties: ranks of t = 1, 2.5, 2.5, 4; of a = 1..4; centred (mean 2.5): (-1.5, 0, 0, 1.5) and
     * (-1.5, -.5, .5, 1.5): 4.5 / sqrt(4.5 * 5) = 0.9486832981 (scipy.stats.spearmanr agrees) */
    expect_near(metrics_spearman(t, a, 4), 0.9486832981, 1e-9);
    expect_near(metrics_spearman(a, k, 4), 0.0, 0.0); /* constant: 0 */
}

Test(metrics_pure, average_drop_iic_auc) {
    /* AD = (0.4/0.8 + 0 + 0) / 3 * 100 = 16.667; IIC: only y 0.5 < o 0.6, 1/3 */
    const float y[] = {0.8f, 0.5f, 0.4f, 0.0f}, o[] = {0.4f, 0.6f, 0.4f, 0.0f};
    expect_near(metrics_average_drop(y, o, 3), 100.0 / 6.0, 1e-5);
    expect_near(metrics_increase_in_confidence(y, o, 3), 100.0 / 3.0, 1e-9);
    expect_near(metrics_average_drop(y, o, 4), 100.0 / 8.0, 1e-5); /* y == 0 adds 0 */
    /* (1 + .5 + 0 - 1/2 - 0/2) / 2 = 0.5;  (0 + 1 + 1 + 1 - 0 - 1/2) / 3 = 0.8333 */
    const float c1[] = {1.0f, 0.5f, 0.0f}, c2[] = {0.0f, 1.0f, 1.0f, 1.0f};
    expect_near(metrics_auc(c1, 2), 0.5, 1e-12);
    expect_near(metrics_auc(c2, 3), 2.5 / 3.0, 1e-12);
}

/* ---- #COP -------------------------------------------------------------------------------- */

Test(metrics_pure, channel_covers) {
    /* act (2, 2, 2); channel 1 = [[3, 7], [3, 7]] -> min-max [[0, 1], [0, 1]]. Upsampled 2 -> 10
     * (src = (d + .5)/5 - .5): columns 0, 0, 0, .2, .4, .6, .8, 1, 1, 1 -> covered (>= .5) at x >= 5. */
    const float act[8] = {9, 3, -1, 7, 9, 3, -1, 7};
    metrics_box b80 = {4, 0, 9, 10}; /* x 4..8: 4 of 5 columns = 80 % -> covers */
    metrics_box b60 = {3, 0, 8, 10}; /* x 3..7: 3 of 5 = 60 % */
    metrics_box right = {5, 2, 10, 3}, off = {10, 0, 12, 10};
    cr_expect_eq(metrics_channel_covers(act, 2, 2, 2, 1, 10, b80), 1);
    cr_expect_eq(metrics_channel_covers(act, 2, 2, 2, 1, 10, b60), 0);
    cr_expect_eq(metrics_channel_covers(act, 2, 2, 2, 1, 10, right), 1);
    cr_expect_eq(metrics_channel_covers(act, 2, 2, 2, 1, 10, off), 0, "no pixel inside the input");
    /* channel 0 = [[9, -1], [9, -1]]: the mirror image, covered at x <= 4 */
    cr_expect_eq(metrics_channel_covers(act, 2, 2, 2, 0, 10, b80), 0);
    cr_expect_eq(metrics_channel_covers(act, 2, 2, 2, 0, 10, (metrics_box){0, 0, 5, 10}), 1);
    const float flat[4] = {2, 2, 2, 2}; /* constant: all 0 after min-max, covers nothing */
    cr_expect_eq(metrics_channel_covers(flat, 2, 2, 1, 0, 10, (metrics_box){0, 0, 10, 10}), 0);
    cr_expect_eq(metrics_channel_covers(act, 2, 2, 2, 2, 10, b80), 0, "k out of range");
}

Test(metrics_pure, top_n) {
    const float w[] = {0.5f, 2.0f, 2.0f, NAN, -1.0f, 3.0f};
    int idx[6], want4[] = {5, 1, 2, 0}, want6[] = {5, 1, 2, 0, 4, 3}; /* ties by lower index, NaN last */
    cr_assert_eq(metrics_top_n(w, 6, 4, idx), 4);
    for (int i = 0; i < 4; i++) cr_expect_eq(idx[i], want4[i], "idx[%d] = %d", i, idx[i]);
    cr_assert_eq(metrics_top_n(w, 6, 100, idx), 6);
    for (int i = 0; i < 6; i++) cr_expect_eq(idx[i], want6[i], "idx[%d] = %d", i, idx[i]);
    cr_expect_eq(metrics_top_n(w, 6, 0, idx), 0);
    int top[100];
    float ww[2048];
    for (int i = 0; i < 2048; i++) ww[i] = (float)((i * 37) % 101); /* values 0..100, each ~20 times */
    cr_assert_eq(metrics_top_n(ww, 2048, 100, top), 100);
    for (int i = 1; i < 100; i++)
        cr_expect(ww[top[i - 1]] > ww[top[i]] || (ww[top[i - 1]] == ww[top[i]] && top[i - 1] < top[i]),
                  "order at %d", i);
    cr_expect_eq(ww[top[99]], 96.0f, "the 100 largest: 100 .. 96 appear 20-21 times each");
}

/* ---- with the demo model ------------------------------------------------------------------- */

static pixab_model *model;
static pixab_engine *engine;
static safetensors *gold;
static float input[S * S * 3];

static void setup(void) {
    cr_assert_eq(pixab_model_load(MODELS "pixab-demo.safetensors", &model), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_create(model, "cpu", 8, &engine), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(safetensors_open(DATA "eval_golden.safetensors", &gold), PIXAB_OK, "%s", pixab_last_error());
    pixab_image img;
    cr_assert_eq(pixab_image_load(EXAMPLES "00000.png", &img), PIXAB_OK, "%s", pixab_last_error());
    cr_assert(img.width == S && img.height == S);
    cr_assert_eq(pixab_image_preprocess(&img, pixab_model_preproc(model), input), PIXAB_OK);
    pixab_image_free(&img);
}

static void teardown(void) {
    if (gold) safetensors_close(gold);
    if (engine) pixab_engine_destroy(engine);
    if (model) pixab_model_free(model);
}

static void golden(const char *key, float *out, int64_t n) { golden_read(gold, key, out, n); }

static float golden1(const char *key) {
    float v;
    golden(key, &v, 1);
    return v;
}

static metrics_box golden_box(const char *key) {
    float b[4];
    golden(key, b, 4);
    return (metrics_box){(int)b[0], (int)b[1], (int)b[2], (int)b[3]};
}

/* The golden 8 x 8 map `key` upsampled to S x S. */
static void golden_map(const char *key, float *up) {
    float m[64];
    golden(key, m, 64);
    cr_assert_eq(pixab_map_upsample(m, 8, 8, S, S, up), PIXAB_OK);
}

/* Map b of the curves and of o_b: map8_c upsampled, then quantised to ninths
 * (large exact ties; the script checked that no value is near a rounding
 * boundary, so ulp-level differences of the upsampling cannot move one). */
static void golden_map_b(float *up) {
    golden_map("map8_c", up);
    for (int i = 0; i < S * S; i++) up[i] = nearbyintf(up[i] * 9.0f) / 9.0f;
}

TestSuite(metrics_model, .init = setup, .fini = teardown, .timeout = 300);

#define CURVE_TOL 1e-4
#define AUC_TOL 1e-4

/* A deletion or insertion curve and its AUC against the golden `key`. */
static void check_curve(const char *key, int insertion, const float *up, int cls) {
    float curve[STEPS + 1], want[STEPS + 1];
    double auc;
    char k[64];
    cr_assert_eq((insertion ? metrics_insertion : metrics_deletion)(engine, input, up, cls, STEPS, curve, &auc),
                 PIXAB_OK, "%s", pixab_last_error());
    snprintf(k, sizeof k, "%s/curve", key);
    golden(k, want, STEPS + 1);
    double err = 0.0;
    for (int i = 0; i <= STEPS; i++) err = fmax(err, fabs((double)curve[i] - want[i]));
    snprintf(k, sizeof k, "%s/auc", key);
    double auc_want = golden1(k);
    cr_log_info("%s: max|curve - golden| = %.2e, AUC %.6f vs %.6f (|d| %.2e)", key, err, auc, auc_want,
                fabs(auc - auc_want));
    cr_expect(err <= CURVE_TOL, "%s: curve differs by %g", key, err);
    expect_near(auc, auc_want, AUC_TOL);
}

Test(metrics_model, confidence_matches_golden) {
    static float up[S * S], up2[2 * S * S], in2[2 * S * S * 3];
    golden_map("map8", up);
    int cls = (int)golden1("class");
    float y, o;
    cr_assert_eq(metrics_confidence(engine, input, up, &cls, 1, &y, &o), PIXAB_OK, "%s", pixab_last_error());
    cr_log_info("y %.7f (golden %.7f), o %.7f (golden %.7f)", y, golden1("y"), o, golden1("o"));
    expect_near(y, golden1("y"), 1e-5);
    expect_near(o, golden1("o"), 1e-5);
    expect_near(metrics_average_drop(&y, &o, 1), golden1("ad"), 1e-3);
    expect_near(metrics_increase_in_confidence(&y, &o, 1), golden1("iic"), 0.0);
    expect_near(metrics_compactness(up, S * S), golden1("compactness"), 1e-6);
    /* two images at once (map a, map b), as the eval tasks batch them */
    memcpy(up2, up, sizeof up);
    golden_map_b(up2 + S * S);
    memcpy(in2, input, sizeof input);
    memcpy(in2 + S * S * 3, input, sizeof input);
    int cls2[2] = {cls, cls};
    float y2[2], o2[2];
    cr_assert_eq(metrics_confidence(engine, in2, up2, cls2, 2, y2, o2), PIXAB_OK, "%s", pixab_last_error());
    cr_log_info("map b: o %.7f (golden %.7f)", o2[1], golden1("o_b"));
    expect_near(y2[1], golden1("y"), 1e-5);
    expect_near(o2[0], golden1("o"), 1e-5);
    expect_near(o2[1], golden1("o_b"), 1e-5);
    expect_near(metrics_average_drop(y2 + 1, o2 + 1, 1), golden1("ad_b"), 1e-3);
    expect_near(metrics_increase_in_confidence(y2 + 1, o2 + 1, 1), golden1("iic_b"), 0.0);
}

Test(metrics_model, deletion_insertion_match_rise) {
    static float up[S * S], up_b[S * S];
    golden_map("map8", up);
    golden_map_b(up_b);
    int cls = (int)golden1("class");
    check_curve("deletion", 0, up, cls);
    check_curve("insertion", 1, up, cls);
    check_curve("deletion_b", 0, up_b, cls);
    check_curve("insertion_b", 1, up_b, cls);
}

Test(metrics_model, blur_matches_rise) {
    /* A delta through the blur gives the kernel (symmetric, so correlation = convolution). */
    enum { N = 21 };
    static float delta[N * N * 3], out[N * N * 3], big[S * S * 3];
    float kern[121], px[16], want[24];
    delta[(10 * N + 10) * 3 + 1] = 1.0f;
    metrics_blur(delta, N, out);
    golden("blur_kernel", kern, 121);
    double err = 0.0, off = 0.0;
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            int a = y - 5, b = x - 5;
            float k = a >= 0 && a < 11 && b >= 0 && b < 11 ? kern[a * 11 + b] : 0.0f;
            err = fmax(err, fabs((double)out[(y * N + x) * 3 + 1] - k));
            off = fmax(off, fabs((double)out[(y * N + x) * 3]) + fabs((double)out[(y * N + x) * 3 + 2]));
        }
    cr_log_info("blur kernel: max|d| = %.2e", err);
    cr_expect(err <= 1e-7, "kernel differs by %g", err);
    cr_expect_eq(off, 0.0, "channels are blurred separately");
    /* The real image, borders included (zero padding). */
    metrics_blur(input, S, big);
    golden("blur_pixels", px, 16);
    golden("blur_samples", want, 24);
    err = 0.0;
    for (int i = 0; i < 8; i++)
        for (int c = 0; c < 3; c++)
            err = fmax(err, fabs((double)big[((int)px[2 * i] * S + (int)px[2 * i + 1]) * 3 + c] - want[i * 3 + c]));
    cr_log_info("blur of the image at 8 pixels: max|d| = %.2e", err);
    cr_expect(err <= 1e-5, "blur differs by %g", err);
}

Test(metrics_model, pointing_game_localisation_doa_spearman_match_golden) {
    static float up[S * S];
    golden_map("map8", up);
    static const char *boxes[] = {"box", "box_near", "box_edge", "box_diag"};
    for (int i = 0; i < 4; i++) {
        metrics_box b = golden_box(boxes[i]);
        char k[32];
        snprintf(k, sizeof k, "pg/%s", boxes[i]);
        cr_expect_eq(metrics_pointing_game(up, S, &b, 1, METRICS_PG_TOLERANCE), (int)golden1(k), "%s", k);
    }
    metrics_box b = golden_box("box");
    double ol = metrics_object_localisation(up, S, &b, 1);
    cr_log_info("OL %.7f (golden %.7f)", ol, golden1("ol"));
    expect_near(ol, golden1("ol"), 1e-5);
    float a8[64], b8[64];
    golden("map8", a8, 64);
    golden("map8_b", b8, 64);
    expect_near(metrics_cosine_distance(a8, b8, 64), golden1("doa"), 1e-6);
    expect_near(metrics_spearman(a8, b8, 64), golden1("spearman"), 1e-6);
}

/* One step: the curve is (x, substrate) for deletion and (blur(x), x) for insertion;
 * chunks of a smaller engine give the same curve. */
Test(metrics_model, one_step_and_batching) {
    static float up[S * S], zero[S * S * 3], blurred[S * S * 3];
    golden_map_b(up);
    int cls = (int)golden1("class");
    float c1[2], logits[2 * 8];
    cr_assert_eq(metrics_deletion(engine, input, up, cls, 1, c1, NULL), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_forward(engine, zero, 1, logits), PIXAB_OK);
    pixab_softmax(logits, 1, 8);
    expect_near(c1[0], golden1("y"), 1e-5);
    expect_near(c1[1], logits[cls], 1e-6);
    cr_assert_eq(metrics_insertion(engine, input, up, cls, 1, c1, NULL), PIXAB_OK, "%s", pixab_last_error());
    metrics_blur(input, S, blurred);
    cr_assert_eq(pixab_engine_forward(engine, blurred, 1, logits), PIXAB_OK);
    pixab_softmax(logits, 1, 8);
    expect_near(c1[0], logits[cls], 1e-6);
    expect_near(c1[1], golden1("y"), 1e-5);

    pixab_engine *small;
    cr_assert_eq(pixab_engine_create(model, "cpu", 3, &small), PIXAB_OK, "%s", pixab_last_error());
    float a[STEPS + 1], b[STEPS + 1];
    double auc_a, auc_b;
    cr_assert_eq(metrics_deletion(engine, input, up, cls, STEPS, a, &auc_a), PIXAB_OK);
    cr_assert_eq(metrics_deletion(small, input, up, cls, STEPS, b, &auc_b), PIXAB_OK);
    for (int i = 0; i <= STEPS; i++) expect_near(a[i], b[i], 1e-6);
    expect_near(auc_a, auc_b, 1e-6);
    pixab_engine_destroy(small);
}

Test(metrics_model, bad_arguments) {
    static float up[S * S];
    float curve[STEPS + 1], y, o;
    int bad = 8;
    cr_expect_eq(metrics_deletion(engine, input, up, 8, STEPS, curve, NULL), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "class 8"), "%s", pixab_last_error());
    cr_expect_eq(metrics_insertion(engine, input, up, -1, STEPS, curve, NULL), PIXAB_ERR_ARG);
    cr_expect_eq(metrics_deletion(engine, input, up, 0, 0, curve, NULL), PIXAB_ERR_ARG);
    cr_expect_eq(metrics_insertion(engine, input, up, 0, S * S + 1, curve, NULL), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "steps"), "%s", pixab_last_error());
    cr_expect_eq(metrics_confidence(engine, input, up, &bad, 1, &y, &o), PIXAB_ERR_ARG);
    cr_expect_eq(metrics_confidence(engine, input, up, &bad, 0, &y, &o), PIXAB_ERR_ARG);
}

/* test_methods.c — every CAM method against goldens from independent
 * implementations (tools/make_cam_goldens.py: pytorch-grad-cam for the gradient
 * methods and Ablation-CAM, plain PyTorch from DESIGN.md §4 for Pixab-CAM,
 * Score-CAM and Activation-CAM), at Mixed_7c and Mixed_6e, softmax and logit
 * scores, the top-1 class and another (on tests/data/small53x37.png resized to
 * 299 x 299); and Pixab-CAM's / Ablation-CAM's fast (pooled) path against the
 * general (materialised) path. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cam.h"
#include "explain_compare.h"
#include "pixab.h"
#include "golden.h"
#include "safetensors.h"

#define DATA PIXAB_TEST_DATA "/"
#define MAP_TOL 1e-3f

static pixab_model *model;
static pixab_engine *engine;
static safetensors *gold;
static float input[299 * 299 * 3];

static void load(const char *model_path, const char *golden_path) {
    cr_assert_eq(pixab_model_load(model_path, &model), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_create(model, "cpu", 8, &engine), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(safetensors_open(golden_path, &gold), PIXAB_OK, "%s", pixab_last_error());
    pixab_image img;
    /* The goldens' image (tools/make_cam_goldens.py picks one with no head ReLU
     * input within 2e-5 of 0, where float32 rounding could flip a gradient). */
    cr_assert_eq(pixab_image_load(DATA "small53x37.png", &img), PIXAB_OK);
    cr_assert_eq(pixab_image_preprocess(&img, pixab_model_preproc(model), input), PIXAB_OK);
    pixab_image_free(&img);
}

static void setup(void) { load(DATA "inception_v3_w8.safetensors", DATA "cam_goldens_w8.safetensors"); }

static void teardown(void) {
    if (!model) return;
    safetensors_close(gold);
    pixab_engine_destroy(engine);
    pixab_model_free(model);
}

/* Golden tensor `key` into out (n floats). */
static void golden(const char *key, float *out, int64_t n) { golden_read(gold, key, out, n); }

/* One method over both layers, both scores, top-1 and another class, maps
 * within tol of the golden. */
static void check_method_tol(pixab_method m, float tol, int n_layers) {
    static const char *layers[] = {"Mixed_7c", "Mixed_6e"}, *scores[] = {"softmax", "logit"},
                      *tags[] = {"top1", "other"};
    const char *name = pixab_method_name(m);
    float worst = 0.0f;
    for (int l = 0; l < n_layers; l++)
        for (int s = 0; s < 2; s++)
            for (int t = 0; t < 2; t++) {
                char key[128];
                float cls_f, score_want, want[17 * 17];
                snprintf(key, sizeof key, "class/%s/%s/%s", layers[l], scores[s], tags[t]);
                golden(key, &cls_f, 1);
                snprintf(key, sizeof key, "score/%s/%s/%s", layers[l], scores[s], tags[t]);
                golden(key, &score_want, 1);
                pixab_explain_opts o = {.layer = pixab_model_find_layer(model, layers[l]),
                                        .cls = t == 0 ? -1 : (int)cls_f,
                                        .score = s == 0 ? PIXAB_SCORE_SOFTMAX : PIXAB_SCORE_LOGIT};
                pixab_map map;
                cr_assert_eq(pixab_explain(engine, input, &m, 1, &o, &map), PIXAB_OK, "%s", pixab_last_error());
                cr_expect_eq(map.cls, (int)cls_f, "%s %s %s: class %d, want %d", name, layers[l], tags[t], map.cls,
                             (int)cls_f);
                cr_expect(fabsf(map.score - score_want) <= 1e-4f * fmaxf(1.0f, fabsf(score_want)),
                          "score %g, want %g", map.score, score_want);
                snprintf(key, sizeof key, "%s/%s/%s/%s", name, layers[l], scores[s], tags[t]);
                golden(key, want, (int64_t)map.h * map.w);
                float err = 0.0f;
                for (int i = 0; i < map.h * map.w; i++) {
                    cr_expect(map.map[i] >= 0.0f && map.map[i] <= 1.0f);
                    float d = fabsf(map.map[i] - want[i]);
                    err = d > err || d != d ? d : err;
                }
                cr_log_info("%s %s %s %s: max|d| = %.2e", name, layers[l], scores[s], tags[t], err);
                cr_expect(err <= tol, "%s: max|d| = %g > %g", key, err, tol);
                worst = err > worst ? err : worst;
                pixab_map_free(&map);
            }
    cr_log_info("%s: worst max|d| = %.2e", name, worst);
}


TestSuite(methods, .init = setup, .fini = teardown, .timeout = 300);

static void check_method(pixab_method m) { check_method_tol(m, MAP_TOL, 2); }

/* Score-CAM min-max normalises every upsampled channel, which divides by the
 * channel's range: for channels of small range, activation rounding (float32
 * forward: ~3e-4 at Mixed_7c here) moves masks visibly. Measured against the
 * float64 golden: 1.4e-3 at Mixed_7c, 6e-4 at Mixed_6e; PyTorch's own float32
 * run is 6e-4 from it. Hence a looser bound for this method alone. */
#define SCORECAM_TOL 2e-3f

Test(methods, pixab_matches_golden) { check_method(PIXAB_METHOD_PIXAB); }
Test(methods, ablation_matches_pytorch_grad_cam) { check_method(PIXAB_METHOD_ABLATION); }
Test(methods, activation_matches_golden) { check_method(PIXAB_METHOD_ACTIVATION); }
Test(methods, gradcam_matches_pytorch_grad_cam) { check_method(PIXAB_METHOD_GRADCAM); }
Test(methods, gradcampp_matches_pytorch_grad_cam) { check_method(PIXAB_METHOD_GRADCAMPP); }
Test(methods, xgradcam_matches_pytorch_grad_cam) { check_method(PIXAB_METHOD_XGRADCAM); }
Test(methods, scorecam_matches_golden) { check_method_tol(PIXAB_METHOD_SCORECAM, SCORECAM_TOL, 2); }

/* Fast (pooled, one GEMM) and general (materialised tensors, real head) paths. */
Test(methods, fast_and_general_paths_agree) {
    int layer = pixab_model_find_layer(model, "Mixed_7c"), K, H, W;
    pixab_model_layer_shape(model, layer, &K, &H, &W);
    float *act = malloc(sizeof(float) * (size_t)K * H * W), logits[10];
    cr_assert_eq(engine_forward_keep(engine, input, 1, layer, act, logits), PIXAB_OK, "%s", pixab_last_error());
    static const int bh[] = {1, 1, 2, 2, 3}, bw[] = {1, 2, 1, 2, 3};
    cam_ctx c = {.e = engine, .layer = layer, .H = H, .W = W, .K = K, .classes = 10, .cls = 6,
                 .input = input, .size = 299, .act = act, .logits = logits, .n_boxes = 5, .box_h = bh, .box_w = bw};
    cr_assert(cam_head_is_gap(&c));
    for (int s = 0; s < 2; s++) {
        c.score = s ? PIXAB_SCORE_LOGIT : PIXAB_SCORE_SOFTMAX;
        float fast[64], general[64], fast_a[2048], general_a[2048], scale = 0.0f, err = 0.0f, scale_a = 0.0f,
                                                                    err_a = 0.0f;
        cr_assert(H * W <= 64 && K <= 2048);
        float *maps[] = {fast, general, fast_a, general_a};
        cr_assert_eq(cam_pixab(&c, 1, 1, &maps[0]), PIXAB_OK);
        cr_assert_eq(cam_pixab(&c, 1, 0, &maps[1]), PIXAB_OK);
        cr_assert_eq(cam_ablation(&c, 1, 1, &maps[2]), PIXAB_OK);
        cr_assert_eq(cam_ablation(&c, 1, 0, &maps[3]), PIXAB_OK);
        for (int i = 0; i < H * W; i++) {
            scale = fmaxf(scale, fabsf(general[i]));
            err = fmaxf(err, fabsf(fast[i] - general[i]));
        }
        for (int k = 0; k < K; k++) { /* Ablation-CAM's channel weights */
            scale_a = fmaxf(scale_a, fabsf(general_a[k]));
            err_a = fmaxf(err_a, fabsf(fast_a[k] - general_a[k]));
        }
        cr_log_info("score %d: pixab fast vs general max|d| = %.2e of %.2e; ablation %.2e of %.2e", s, err, scale,
                    err_a, scale_a);
        cr_expect(scale > 0.0f && err <= 1e-4f * scale, "pixab paths differ: %g of %g", err, scale);
        cr_expect(scale_a > 0.0f && err_a <= 1e-4f * scale_a, "ablation paths differ: %g of %g", err_a, scale_a);
    }
    free(act);
}

/* Heads the engine must refuse: nothing kept, the pooled shortcut where the
 * head is not GAP + FC, a masked channel out of range, a class out of range. */
Test(methods, engine_refuses_bad_heads) {
    pixab_engine *fresh;
    float map[17 * 17], scores[4];
    cr_assert_eq(pixab_engine_create(model, "cpu", 1, &fresh), PIXAB_OK, "%s", pixab_last_error());
    const head_desc boxes = {.items = HEAD_ITEMS_BOXES, .pooled = 1, .n_boxes = 1, .box_h = (const int[]){1},
                             .box_w = (const int[]){1}, .cls = 0, .output = HEAD_OUT_PIXAB_MAP};
    cr_expect_eq(engine_run_head(fresh, &boxes, map), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "no activation kept"), "%s", pixab_last_error());
    const int layer = pixab_model_find_layer(model, "Mixed_6e");
    int K, H, W;
    pixab_model_layer_shape(model, layer, &K, &H, &W);
    float *act = malloc(sizeof(float) * (size_t)K * H * W), logits[10];
    cr_assert(H * W <= 17 * 17);
    cr_assert_eq(engine_forward_keep(fresh, input, 1, layer, act, logits), PIXAB_OK, "%s", pixab_last_error());
    cr_expect_not(engine_head_is_gap(fresh, layer));
    cr_expect_eq(engine_run_head(fresh, &boxes, map), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "not GAP + FC"), "%s", pixab_last_error());
    head_desc masked = {.items = HEAD_ITEMS_MASKED, .n_channels = 1, .channels = (const int[]){K}, .cls = 0,
                        .output = HEAD_OUT_SCORES};
    cr_expect_eq(engine_head_items(fresh, &masked), 2);
    cr_expect_eq(engine_run_head(fresh, &masked, scores), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "channel"), "%s", pixab_last_error());
    masked.channels = (const int[]){0};
    masked.cls = 10;
    cr_expect_eq(engine_run_head(fresh, &masked, scores), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "class 10 of 10"), "%s", pixab_last_error());
    free(act);
    pixab_engine_destroy(fresh);
}

/* Score-CAM's masked inputs run the engine's batch at a time: a batch of 3
 * (partial last chunk) gives the map of the batch of 8, bit for bit (the CPU
 * backend computes an image the same way at every batch size). */
Test(methods, scorecam_independent_of_engine_batch) {
    pixab_engine *small;
    pixab_method m = PIXAB_METHOD_SCORECAM;
    pixab_map a, b;
    pixab_explain_opts o = {.layer = pixab_model_find_layer(model, "Mixed_7c"), .cls = -1};
    cr_assert_eq(pixab_engine_create(model, "cpu", 3, &small), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_explain(engine, input, &m, 1, &o, &a), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_explain(small, input, &m, 1, &o, &b), PIXAB_OK, "%s", pixab_last_error());
    float err = 0.0f, top = 0.0f;
    for (int i = 0; i < a.h * a.w; i++) err = fmaxf(err, fabsf(a.map[i] - b.map[i])), top = fmaxf(top, a.map[i]);
    cr_expect_eq(top, 1.0f, "a normalised map that is not all zeros");
    cr_expect(err == 0.0f, "Score-CAM at batch 3 vs 8: max|d| = %g", err);
    pixab_map_free(&a);
    pixab_map_free(&b);
    pixab_engine_destroy(small);
}

/* pixab_explain_batch: one body forward for several images (with per-image
 * classes, in groups of the engine's batch) gives each image the maps of
 * pixab_explain on it alone, bit for bit: the CPU backend cuts its GEMMs per
 * image, the same way at every batch size. */
Test(methods, batch_equals_one_image_at_a_time) {
    enum { N = 3, M = PIXAB_METHOD_COUNT - 1 }; /* all but Score-CAM (its batches: the test below) */
    static float inputs[N][299 * 299 * 3];
    for (size_t i = 0; i < 299 * 299 * 3; i++) {
        inputs[0][i] = input[i];
        inputs[1][i] = input[299 * 299 * 3 - 1 - i]; /* the image turned half a turn, channels reversed */
        inputs[2][i] = 0.5f * input[i];
    }
    pixab_method ms[M];
    for (int j = 0, m = 0; m < PIXAB_METHOD_COUNT; m++)
        if (m != PIXAB_METHOD_SCORECAM) ms[j++] = (pixab_method)m;
    const int cls[N] = {-1, 3, -1};
    pixab_explain_opts o = {.layer = pixab_model_find_layer(model, "Mixed_7c")};
    pixab_engine *two; /* a batch of 3 is two body passes: 2 + 1 */
    cr_assert_eq(pixab_engine_create(model, "cpu", 2, &two), PIXAB_OK, "%s", pixab_last_error());
    float err[N * M]; /* the classes agree: image 1's is 3 */
    explain_batch_vs_alone(two, engine, &inputs[0][0], N, ms, M, &o, cls, err, NULL);
    for (int i = 0; i < N * M; i++)
        cr_expect(err[i] == 0.0f, "image %d %s: batched vs alone max|d| = %g", i / M, pixab_method_name(ms[i % M]),
                  err[i]);
    pixab_engine_destroy(two);
}

/* The general path (Mixed_7b: the head is Mixed_7c, GAP and FC,
 * materialised) with head chunks smaller than an image's items: the items of
 * the images of a batch share chunks (engine_run_heads) and each image still
 * gets, bit for bit, the maps it gets alone. Two budgets: a plan batch that is
 * a multiple of the engine's item alignment (16) and one that is not. */
Test(methods, general_path_heads_share_chunks_across_images) {
    enum { N = 3, M = 2 };
    static float inputs[N][299 * 299 * 3];
    for (size_t i = 0; i < 299 * 299 * 3; i++) {
        inputs[0][i] = input[i];
        inputs[1][i] = input[299 * 299 * 3 - 1 - i];
        inputs[2][i] = 0.5f * input[i];
    }
    const pixab_method ms[M] = {PIXAB_METHOD_PIXAB, PIXAB_METHOD_ABLATION};
    const int cls[N] = {-1, 3, -1};
    pixab_explain_opts o = {.layer = pixab_model_find_layer(model, "Mixed_7b"), .n_boxes = 1, .box_h = {1}, .box_w = {1}};
    static const size_t budgets[] = {(size_t)16 << 20, (size_t)2 << 20}; /* about 50 and 6 items of this head */
    for (int b = 0; b < 2; b++) {
        pixab_engine *three, *one;
        cr_assert_eq(pixab_engine_create(model, "cpu", N, &three), PIXAB_OK, "%s", pixab_last_error());
        cr_assert_eq(pixab_engine_create(model, "cpu", 1, &one), PIXAB_OK, "%s", pixab_last_error());
        cr_assert_eq(pixab_engine_set_head_budget(three, budgets[b]), PIXAB_OK);
        cr_assert_eq(pixab_engine_set_head_budget(one, budgets[b]), PIXAB_OK);
        float err[N * M], top[N * M];
        explain_batch_vs_alone(three, one, &inputs[0][0], N, ms, M, &o, cls, err, top);
        for (int i = 0; i < N * M; i++) {
            if (cls[i / M] < 0) cr_expect_eq(top[i], 1.0f, "a top-1 map that is all zeros");
            cr_expect(err[i] == 0.0f, "budget %zu: image %d %s: batched vs alone max|d| = %g", budgets[b], i / M,
                      pixab_method_name(ms[i % M]), err[i]);
        }
        pixab_engine_destroy(three);
        pixab_engine_destroy(one);
    }
}

Test(methods, several_methods_share_one_call) {
    pixab_method ms[] = {PIXAB_METHOD_ACTIVATION, PIXAB_METHOD_PIXAB, PIXAB_METHOD_GRADCAM};
    pixab_map maps[3];
    pixab_explain_opts o = {.layer = pixab_model_find_layer(model, "Mixed_7c"), .cls = -1};
    cr_assert_eq(pixab_explain(engine, input, ms, 3, &o, maps), PIXAB_OK, "%s", pixab_last_error());
    cr_expect_eq(maps[1].score_kind, PIXAB_SCORE_SOFTMAX, "Pixab-CAM defaults to softmax");
    cr_expect_eq(maps[2].score_kind, PIXAB_SCORE_LOGIT, "Grad-CAM defaults to the logit");
    for (int i = 0; i < 3; i++) {
        cr_expect(maps[i].h == 8 && maps[i].w == 8 && maps[i].method == ms[i]);
        pixab_map_free(&maps[i]);
    }
}

Test(methods, bad_options) {
    pixab_method m = PIXAB_METHOD_PIXAB;
    pixab_map map;
    pixab_explain_opts o = {.layer = pixab_model_find_layer(model, "Mixed_7c"), .cls = 10};
    cr_expect_eq(pixab_explain(engine, input, &m, 1, &o, &map), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "class 10 out of range"), "%s", pixab_last_error());
    o.cls = -1;
    o.layer = pixab_model_find_layer(model, "fc");
    cr_expect_eq(pixab_explain(engine, input, &m, 1, &o, &map), PIXAB_ERR_ARG);
    cr_expect_eq(pixab_method_from_name("lime"), -1);
    cr_expect(strstr(pixab_last_error(), "unknown method 'lime'"));
    cr_expect_eq(pixab_parse_boxes("1x1,2x", &o), PIXAB_ERR_ARG);
    cr_expect_eq(pixab_parse_boxes("0x1", &o), PIXAB_ERR_ARG);
    cr_expect_eq(pixab_parse_boxes("1x1,1x2,2x1,2x2", &o), PIXAB_OK);
    cr_expect(o.n_boxes == 4 && o.box_h[2] == 2 && o.box_w[2] == 1);
}

/* Every name table of the API round-trips, and an unknown name lists the choices. */
Test(methods, names_round_trip) {
    for (int m = 0; m < PIXAB_METHOD_COUNT; m++)
        cr_expect_eq(pixab_method_from_name(pixab_method_name((pixab_method)m)), m);
    for (int p = 0; p < PIXAB_PRECISION_COUNT; p++)
        cr_expect_eq(pixab_precision_from_name(pixab_precision_name((pixab_precision)p)), p);
    cr_expect_eq(pixab_score_from_name("softmax"), PIXAB_SCORE_SOFTMAX);
    cr_expect_eq(pixab_score_from_name("logit"), PIXAB_SCORE_LOGIT);
    cr_expect_str_eq(pixab_score_name(PIXAB_SCORE_LOGIT), "logit");
    cr_expect_eq(pixab_score_from_name("prob"), -1);
    cr_expect_str_eq(pixab_last_error(), "unknown score 'prob' (expected softmax or logit)");
    cr_expect_eq(pixab_precision_from_name("fp8"), -1);
    cr_expect_str_eq(pixab_last_error(), "unknown precision 'fp8' (expected fp32, tf32, fp16 or bf16)");
    cr_expect_str_eq(pixab_status_name(PIXAB_ERR_NOMEM), "out of memory");
}

Test(methods, map_upsample_is_identity_at_same_size_and_bilinear_otherwise) {
    float m[6] = {0, 1, 2, 3, 4, 5}, out[6], up[4 * 6];
    cr_assert_eq(pixab_map_upsample(m, 2, 3, 2, 3, out), PIXAB_OK);
    for (int i = 0; i < 6; i++) cr_expect_eq(out[i], m[i]);
    cr_assert_eq(pixab_map_upsample(m, 2, 3, 4, 6, up), PIXAB_OK);
    /* Half-pixel centres: output row 0 and column 0 clamp to the source's first. */
    cr_expect_float_eq(up[0], 0.0f, 1e-6);
    cr_expect_float_eq(up[1], 0.25f, 1e-6); /* src x = 0.25 */
    cr_expect_float_eq(up[6], 0.75f, 1e-6); /* src y = 0.25: 0.75 * 0 + 0.25 * 3 */
}

/* Full width: tools/make_goldens.py and make_cam_goldens.py --full write the
 * model and goldens into the build tree (never committed); skipped without. */
#define FULL PIXAB_BUILD_DIR "/full/"
static void setup_full(void) {
    if (!access(FULL "inception_v3_full.safetensors", R_OK) && !access(FULL "cam_goldens_full.safetensors", R_OK))
        load(FULL "inception_v3_full.safetensors", FULL "cam_goldens_full.safetensors");
}

TestSuite(full_width, .init = setup_full, .fini = teardown, .timeout = 600);

Test(full_width, methods_at_Mixed_7c_match_goldens) {
    if (!model) cr_skip_test("no %scam_goldens_full.safetensors: see tools/README.md", FULL);
    const char *which = safetensors_meta(gold, "pixab.methods"); /* "pixab,ablation,gradcam" */
    cr_assert(which);
    for (const char *p = which; *p;) {
        size_t len = strcspn(p, ",");
        char name[32] = {0};
        memcpy(name, p, len < sizeof name - 1 ? len : sizeof name - 1);
        int m = pixab_method_from_name(name);
        cr_assert_geq(m, 0, "%s", pixab_last_error());
        check_method_tol((pixab_method)m, m == PIXAB_METHOD_SCORECAM ? SCORECAM_TOL : MAP_TOL, 1);
        p += len + (p[len] == ',');
    }
}

/* The backward pass reaches the input (FGSM needs it): d logit / d input
 * against PyTorch's float64 gradient, through its norm and its projections
 * on four fixed pseudo-random directions (the whole gradient is 1 MB). ReLU and
 * max-pool kinks that float32 rounding lands on the other side of move it by
 * a little (PyTorch's own float32 gradient is 0.1% off in max norm): the norm
 * within 0.1%, each projection within 0.1% of the Cauchy-Schwarz bound. */
static void seed_top1(void *ctx, const float *logits, int classes, float *d) {
    int c = 0;
    for (int j = 1; j < classes; j++) c = logits[j] > logits[c] ? j : c;
    for (int j = 0; j < classes; j++) d[j] = j == c ? 1.0f : 0.0f;
}

Test(methods, input_gradient_matches_pytorch) {
    const size_t n = 299 * 299 * 3;
    float *g = malloc(sizeof(float) * n), logits[10], norm_want, proj_want[4];
    golden("input_grad/logit/top1/norm", &norm_want, 1);
    golden("input_grad/logit/top1/proj", proj_want, 4);
    cr_assert_eq(pixab_engine_gradient(engine, -1, input, seed_top1, NULL, logits, g), PIXAB_OK, "%s", pixab_last_error());
    double norm = 0.0;
    for (size_t i = 0; i < n; i++) norm += (double)g[i] * g[i];
    norm = sqrt(norm);
    cr_log_info("input gradient norm %.6g (PyTorch float64 %.6g)", norm, norm_want);
    cr_expect(fabs(norm - norm_want) <= 1e-3 * norm_want, "norm %g vs %g", norm, norm_want);
    for (int j = 0; j < 4; j++) {
        double proj = 0.0;
        for (size_t i = 0; i < n; i++) proj += (double)g[i] * ((double)((i * 2654435761u + 97u * j) % 2001) / 1000.0 - 1.0);
        cr_log_info("projection %d: %.6g (PyTorch float64 %.6g)", j, proj, proj_want[j]);
        cr_expect(fabs(proj - proj_want[j]) <= 1e-3 * norm_want * sqrt((double)n / 3.0),
                  "projection %d: %g vs %g", j, proj, proj_want[j]);
    }
    free(g);
}

/* Guided backpropagation and the guided maps of Grad-CAM (logit) and
 * Pixab-CAM (softmax) at Mixed_7c, for the top-1 class and another, against
 * tools/make_guided_goldens.py (PyTorch float64, a custom autograd ReLU;
 * G from the CAM goldens' maps): each (299, 299, 3) result through its
 * norm, its projections on the four directions above and two of its rows.
 * Tolerances as the plain input gradient's: the norm within 0.1%, each
 * projection within 0.1% of the Cauchy-Schwarz bound; the rows within 0.1%
 * of the rows' largest value (measured: 1.2e-5 for GB, 5.1e-4 for G, whose
 * maps differ from the goldens' by rounding). */
static double guided_direction(size_t i, int j) { return (double)((i * 2654435761u + 97u * j) % 2001) / 1000.0 - 1.0; }

static void check_guided_summary(safetensors *gg, const char *prefix, const float *v) {
    const size_t n = 299 * 299 * 3, row = 299 * 3;
    static const int rows[2] = {100, 200};
    char key[96];
    float norm_want, proj_want[4], *rows_want = malloc(sizeof(float) * 2 * row);
    cr_assert(rows_want);
    snprintf(key, sizeof key, "%s/norm", prefix), golden_read(gg, key, &norm_want, 1);
    snprintf(key, sizeof key, "%s/proj", prefix), golden_read(gg, key, proj_want, 4);
    snprintf(key, sizeof key, "%s/rows", prefix), golden_read(gg, key, rows_want, 2 * (int64_t)row);
    double norm = 0.0, row_max = 0.0, row_err = 0.0;
    for (size_t i = 0; i < n; i++) norm += (double)v[i] * v[i];
    norm = sqrt(norm);
    cr_log_info("%s: norm %.6g (PyTorch float64 %.6g)", prefix, norm, norm_want);
    cr_expect(fabs(norm - norm_want) <= 1e-3 * norm_want, "%s: norm %g vs %g", prefix, norm, norm_want);
    for (int j = 0; j < 4; j++) {
        double proj = 0.0;
        for (size_t i = 0; i < n; i++) proj += (double)v[i] * guided_direction(i, j);
        cr_expect(fabs(proj - proj_want[j]) <= 1e-3 * norm_want * sqrt((double)n / 3.0),
                  "%s: projection %d: %g vs %g", prefix, j, proj, proj_want[j]);
    }
    for (int r = 0; r < 2; r++)
        for (size_t i = 0; i < row; i++) {
            row_max = fmax(row_max, fabs(rows_want[r * row + i]));
            row_err = fmax(row_err, fabs(v[rows[r] * row + i] - rows_want[r * row + i]));
        }
    cr_log_info("%s: rows max |d| %.3g of max |v| %.3g", prefix, row_err, row_max);
    cr_expect(row_max > 0.0 && row_err <= 1e-3 * row_max, "%s: rows differ by %g (max %g)", prefix, row_err, row_max);
    free(rows_want);
}

Test(methods, guided_backprop_and_guided_maps_match_pytorch) {
    static const char *tags[2] = {"top1", "other"};
    static const struct { pixab_method m; pixab_score score; } ms[2] = {{PIXAB_METHOD_GRADCAM, PIXAB_SCORE_LOGIT},
                                                                       {PIXAB_METHOD_PIXAB, PIXAB_SCORE_SOFTMAX}};
    const size_t n = 299 * 299 * 3;
    safetensors *gg;
    cr_assert_eq(safetensors_open(DATA "guided_goldens_w8.safetensors", &gg), PIXAB_OK, "%s", pixab_last_error());
    float *gb = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
    cr_assert(gb && g);
    for (int t = 0; t < 2; t++) {
        float cls_f;
        char key[64];
        snprintf(key, sizeof key, "class/%s", tags[t]);
        golden_read(gg, key, &cls_f, 1);
        const int cls = (int)cls_f;
        cr_assert_eq(pixab_guided_backprop(engine, input, 1, &cls, gb), PIXAB_OK, "%s", pixab_last_error());
        snprintf(key, sizeof key, "gb/%s", tags[t]);
        check_guided_summary(gg, key, gb);
        for (int k = 0; k < 2; k++) {
            pixab_explain_opts o = {.layer = pixab_model_find_layer(model, "Mixed_7c"), .cls = cls,
                                    .score = ms[k].score};
            pixab_map map;
            cr_assert_eq(pixab_explain(engine, input, &ms[k].m, 1, &o, &map), PIXAB_OK, "%s", pixab_last_error());
            cr_assert_eq(pixab_guided_map(gb, 299, map.map, map.h, map.w, g), PIXAB_OK, "%s", pixab_last_error());
            snprintf(key, sizeof key, "guided/%s/%s", pixab_method_name(ms[k].m), tags[t]);
            check_guided_summary(gg, key, g);
            pixab_map_free(&map);
        }
    }
    const int bad = 10;
    cr_expect_eq(pixab_guided_backprop(engine, input, 1, &bad, gb), PIXAB_ERR_ARG);
    free(gb), free(g);
    safetensors_close(gg);
}

/* pixab_explain_images: 8-bit images of different sizes preprocessed by the
 * engine give the maps pixab_explain_batch gives for the inputs
 * pixab_image_preprocess makes, bit for bit (the same per-pixel code, the
 * same batch); an image without pixels, or a preprocessing of another size,
 * is an error that leaves no map allocated. */
Test(methods, images_preprocessed_by_the_engine_give_the_same_maps) {
    enum { N = 2, M = 3 };
    static float inputs[N][299 * 299 * 3];
    pixab_image imgs[N];
    const pixab_preproc *pre = pixab_model_preproc(model);
    cr_assert_eq(pixab_image_load(DATA "small53x37.png", &imgs[0]), PIXAB_OK);
    cr_assert_eq(pixab_image_load(DATA "test299.png", &imgs[1]), PIXAB_OK);
    for (int i = 0; i < N; i++) cr_assert_eq(pixab_image_preprocess(&imgs[i], pre, inputs[i]), PIXAB_OK);
    const pixab_method ms[M] = {PIXAB_METHOD_PIXAB, PIXAB_METHOD_ABLATION, PIXAB_METHOD_GRADCAM};
    pixab_explain_opts o = {.layer = pixab_model_find_layer(model, "Mixed_7c"), .cls = -1};
    pixab_map want[N * M], got[N * M];
    cr_assert_eq(pixab_explain_batch(engine, &inputs[0][0], N, ms, M, &o, NULL, want), PIXAB_OK, "%s",
                 pixab_last_error());
    cr_assert_eq(pixab_explain_images(engine, imgs, N, pre, ms, M, &o, NULL, got), PIXAB_OK, "%s", pixab_last_error());
    for (int i = 0; i < N * M; i++) {
        cr_expect(got[i].cls == want[i].cls && got[i].score == want[i].score, "map %d: class or score differs", i);
        cr_expect(!memcmp(got[i].map, want[i].map, sizeof(float) * (size_t)want[i].h * want[i].w), "map %d differs", i);
        pixab_map_free(&want[i]);
        pixab_map_free(&got[i]);
    }
    pixab_preproc other = *pre;
    other.size = 300;
    cr_expect_eq(pixab_explain_images(engine, imgs, N, &other, ms, M, &o, NULL, got), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "300x300"), "%s", pixab_last_error());
    pixab_image empty = {0, 0, NULL};
    pixab_image with_empty[N] = {imgs[0], empty};
    cr_expect_eq(pixab_explain_images(engine, with_empty, N, pre, ms, M, &o, NULL, got), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "image 1"), "%s", pixab_last_error());
    for (int i = 0; i < N * M; i++) cr_expect(!got[i].map && !got[i].weights, "map %d left allocated", i);
    for (int i = 0; i < N; i++) pixab_image_free(&imgs[i]);
}

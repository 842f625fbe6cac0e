/* test_forward.c — the Inception-V3 forward pass on the CPU backend against
 * PyTorch goldens (tools/make_goldens.py: torchvision's Inception3 at 1/8
 * width), batching, the body/head split, and the model loader's errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"
#include "model.h"
#include "pixab.h"
#include "safetensors.h"

#define DATA PIXAB_TEST_DATA "/"
#define MODEL DATA "inception_v3_w8.safetensors"
#define GOLDENS DATA "inception_v3_w8.goldens.safetensors"

/* A golden tensor (1, C, H, W) or (1, K) as float32, NCHW as PyTorch wrote it. */
static float *golden(const safetensors *st, const char *name, int64_t *shape, int *ndim) {
    const st_tensor *t = safetensors_find(st, name);
    cr_assert(t, "golden '%s' missing", name);
    float *v = malloc(sizeof(float) * (size_t)safetensors_numel(t));
    cr_assert(v);
    cr_assert_eq(safetensors_to_f32(t, v), PIXAB_OK);
    *ndim = t->ndim;
    memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
    return v;
}

/* (1, C, H, W) -> (H, W, C) */
static float *nchw_to_nhwc(const float *x, int C, int H, int W) {
    float *y = malloc(sizeof(float) * (size_t)C * H * W);
    cr_assert(y);
    for (int c = 0; c < C; c++)
        for (int p = 0; p < H * W; p++) y[(size_t)p * C + c] = x[(size_t)c * H * W + p];
    return y;
}

static float max_abs(const float *x, size_t n) {
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

static float max_diff(const float *a, const float *b, size_t n) {
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN counts as a miss */
    }
    return m;
}

typedef struct {
    pixab_model *m;
    pixab_engine *e;
    safetensors *gold;
    float *input; /* (299, 299, 3) */
} fixture;

static fixture load(const char *model, const char *goldens, int batch) {
    fixture f;
    cr_assert_eq(pixab_model_load(model, &f.m), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_create(f.m, "cpu", batch, &f.e), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(safetensors_open(goldens, &f.gold), PIXAB_OK, "%s", pixab_last_error());
    int64_t shape[8];
    int nd;
    float *x = golden(f.gold, "input", shape, &nd);
    cr_assert_eq(nd, 4);
    f.input = nchw_to_nhwc(x, (int)shape[1], (int)shape[2], (int)shape[3]);
    free(x);
    return f;
}

static void unload(fixture *f) {
    free(f->input);
    safetensors_close(f->gold);
    pixab_engine_destroy(f->e);
    pixab_model_free(f->m);
}

/* Logits within 1e-4 * max|logit| of PyTorch's. */
static void check_logits(const char *model, const char *goldens) {
    fixture f = load(model, goldens, 1);
    int64_t shape[8];
    int nd, K = pixab_model_num_classes(f.m);
    float *want = golden(f.gold, "logits", shape, &nd);
    cr_assert_eq(shape[1], K);
    float *got = malloc(sizeof(float) * (size_t)K);
    cr_assert_eq(pixab_engine_forward(f.e, f.input, 1, got), PIXAB_OK, "%s", pixab_last_error());
    float err = max_diff(got, want, (size_t)K), tol = 1e-4f * max_abs(want, (size_t)K);
    cr_log_info("%s: logits max|d| = %.3g (tolerance %.3g, max|logit| %.3g)", model, err, tol, max_abs(want, K));
    cr_expect(err <= tol, "logits max|d| = %g > %g", err, tol);
    free(got);
    free(want);
    unload(&f);
}

Test(forward, logits_match_pytorch) { check_logits(MODEL, GOLDENS); }

Test(forward, f16_checkpoint_logits_match_pytorch) {
    check_logits(DATA "inception_v3_w8_f16.safetensors", DATA "inception_v3_w8_f16.goldens.safetensors");
}

static void check_layers(const char *model, const char *goldens) {
    fixture f = load(model, goldens, 1);
    const char *layers[] = {"maxpool2", "Conv2d_4a_3x3", "Mixed_5b", "Mixed_6a", "Mixed_6e", "Mixed_7c"};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        int l = pixab_model_find_layer(f.m, layers[i]), C, H, W, nd;
        cr_assert_geq(l, 0, "%s", pixab_last_error());
        cr_assert_eq(pixab_model_layer_shape(f.m, l, &C, &H, &W), PIXAB_OK);
        int64_t shape[8];
        float *raw = golden(f.gold, layers[i], shape, &nd);
        cr_assert(nd == 4 && shape[1] == C && shape[2] == H && shape[3] == W, "%s: shape (%d,%d,%d) vs golden",
                  layers[i], C, H, W);
        float *want = nchw_to_nhwc(raw, C, H, W), *got = malloc(sizeof(float) * (size_t)C * H * W);
        cr_assert_eq(pixab_engine_body(f.e, f.input, 1, l, got), PIXAB_OK, "%s", pixab_last_error());
        size_t n = (size_t)C * H * W;
        float err = max_diff(got, want, n), tol = 1e-4f * max_abs(want, n);
        cr_log_info("%s (%dx%dx%d): max|d| = %.3g (tolerance %.3g)", layers[i], C, H, W, err, tol);
        cr_expect(err <= tol, "%s: max|d| = %g > %g", layers[i], err, tol);
        free(raw);
        free(want);
        free(got);
    }
    unload(&f);
}

Test(forward, intermediate_layers_match_pytorch) { check_layers(MODEL, GOLDENS); }

/* Full width: tools/check_full_width.sh makes the model and goldens in the
 * build tree (about 120 MB, never committed) and runs these; skipped without. */
#define FULL PIXAB_BUILD_DIR "/full/inception_v3_full"
Test(full_width, logits_and_layers_match_pytorch) {
    if (access(FULL ".safetensors", R_OK) || access(FULL ".goldens.safetensors", R_OK))
        cr_skip_test("no %s.safetensors: run tools/check_full_width.sh", FULL);
    check_logits(FULL ".safetensors", FULL ".goldens.safetensors");
    check_layers(FULL ".safetensors", FULL ".goldens.safetensors");
}

Test(forward, reduced_model_shapes) {
    pixab_model *m;
    cr_assert_eq(pixab_model_load(MODEL, &m), PIXAB_OK, "%s", pixab_last_error());
    static const struct { const char *name; int c, hw; } want[] = {
        {"Conv2d_1a_3x3", 4, 149}, {"Conv2d_2a_3x3", 4, 147}, {"Conv2d_2b_3x3", 8, 147}, {"maxpool1", 8, 73},
        {"Conv2d_3b_1x1", 10, 73}, {"Conv2d_4a_3x3", 24, 71}, {"maxpool2", 24, 35},     {"Mixed_5b", 32, 35},
        {"Mixed_5c", 36, 35},      {"Mixed_5d", 36, 35},      {"Mixed_6a", 96, 17},      {"Mixed_6b", 96, 17},
        {"Mixed_6c", 96, 17},      {"Mixed_6d", 96, 17},      {"Mixed_6e", 96, 17},
        {"Mixed_7a", 160, 8},      {"Mixed_7b", 256, 8},      {"Mixed_7c", 256, 8},      {"avgpool", 256, 1},
        {"fc", 10, 1},
    };
    cr_assert_eq(pixab_model_num_layers(m), (int)(sizeof want / sizeof want[0]));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int c, h, w;
        cr_expect_str_eq(pixab_model_layer_name(m, (int)i), want[i].name);
        cr_assert_eq(pixab_model_layer_shape(m, (int)i, &c, &h, &w), PIXAB_OK);
        cr_expect(c == want[i].c && h == want[i].hw && w == want[i].hw, "%s: got %dx%dx%d", want[i].name, c, h, w);
    }
    cr_expect_eq(pixab_model_preproc(m)->size, 299);
    cr_expect_float_eq(pixab_model_preproc(m)->mean[1], 0.5f, 1e-7);
    cr_expect_not_null(pixab_model_class_name(m, 0));
    pixab_model_free(m);
}

/* Every weight and bias starts on a 512-byte boundary (256 bytes in the CUDA
 * backend's 16-bit copy), in F32 and F16 checkpoints alike; the gaps are zero. */
Test(forward, weights_aligned) {
    static const char *paths[] = {MODEL, DATA "inception_v3_w8_f16.safetensors"};
    for (int p = 0; p < 2; p++) {
        pixab_model *m;
        cr_assert_eq(pixab_model_load(paths[p], &m), PIXAB_OK, "%s", pixab_last_error());
        const graph *g = &m->g;
        unsigned char *used = calloc(g->n_params, 1);
        cr_assert(used);
        int n_weighted = 0;
        for (int i = 0; i < g->n_ops; i++) {
            const graph_op *o = &g->ops[i];
            if (o->kind != OP_CONV && o->kind != OP_FC) continue;
            n_weighted++;
            cr_expect_eq(o->w_off % GRAPH_PARAM_ALIGN, 0, "%s: weights at %zu", o->name, o->w_off);
            cr_expect_eq(o->b_off % GRAPH_PARAM_ALIGN, 0, "%s: bias at %zu", o->name, o->b_off);
            memset(used + o->w_off, 1, graph_op_weights(o));
            memset(used + o->b_off, 1, (size_t)o->c_out);
        }
        cr_expect_eq(n_weighted, 95, "94 convolutions and the FC layer");
        for (size_t k = 0; k < g->n_params; k++)
            if (!used[k]) cr_assert_eq(g->params[k], 0.0f, "gap value %zu is not zero", k);
        free(used);
        pixab_model_free(m);
    }
}

/* A batch gives each image the result it gets alone; body then head gives the forward. */
Test(forward, batch_and_split_agree_with_single_forward) {
    fixture f = load(MODEL, GOLDENS, 3);
    const size_t S = 299 * 299 * 3;
    int K = pixab_model_num_classes(f.m);
    float *x = malloc(sizeof(float) * S * 3), *batch = malloc(sizeof(float) * K * 3), *one = malloc(sizeof(float) * K);
    for (size_t i = 0; i < S; i++) {
        x[i] = f.input[i];
        x[S + i] = f.input[S - 1 - i];            /* a different image */
        x[2 * S + i] = 0.5f * f.input[i] - 0.25f; /* and another */
    }
    cr_assert_eq(pixab_engine_forward(f.e, x, 3, batch), PIXAB_OK, "%s", pixab_last_error());
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(pixab_engine_forward(f.e, x + k * S, 1, one), PIXAB_OK);
        /* bit for bit: the CPU backend computes an image the same way at every batch size */
        cr_expect(max_diff(one, batch + k * K, K) == 0.0f, "image %d differs in a batch", k);
    }
    int l = pixab_model_find_layer(f.m, "Mixed_6e"), C, H, W;
    pixab_model_layer_shape(f.m, l, &C, &H, &W);
    float *act = malloc(sizeof(float) * (size_t)C * H * W * 3), *split = malloc(sizeof(float) * K * 3);
    cr_assert_eq(pixab_engine_body(f.e, x, 3, l, act), PIXAB_OK);
    cr_assert_eq(pixab_engine_head(f.e, act, 3, l, split), PIXAB_OK);
    cr_expect(max_diff(split, batch, 3 * (size_t)K) == 0.0f);
    free(x), free(batch), free(one), free(act), free(split);
    unload(&f);
}

Test(forward, preprocess_of_test_image_matches_pytorch_input) {
    fixture f = load(MODEL, GOLDENS, 1);
    pixab_image img;
    cr_assert_eq(pixab_image_load(DATA "test299.png", &img), PIXAB_OK, "%s", pixab_last_error());
    float *x = malloc(sizeof(float) * 299 * 299 * 3);
    cr_assert_eq(pixab_image_preprocess(&img, pixab_model_preproc(f.m), x), PIXAB_OK);
    cr_expect(max_diff(x, f.input, 299 * 299 * 3) <= 1e-6f);
    free(x);
    pixab_image_free(&img);
    unload(&f);
}

Test(forward, other_input_size_runs) {
    pixab_model *m;
    pixab_engine *e;
    cr_assert_eq(pixab_model_load(MODEL, &m), PIXAB_OK);
    pixab_preproc p = *pixab_model_preproc(m);
    p.size = 75; /* the smallest size torchvision's Inception3 accepts */
    cr_assert_eq(pixab_model_set_preproc(m, &p), PIXAB_OK, "%s", pixab_last_error());
    int c, h, w;
    pixab_model_layer_shape(m, pixab_model_find_layer(m, "Mixed_7c"), &c, &h, &w);
    cr_expect(h == 1 && w == 1);
    p.size = 74;
    cr_expect_eq(pixab_model_set_preproc(m, &p), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "too small"), "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_create(m, "cpu", 2, &e), PIXAB_OK);
    float x[75 * 75 * 3 * 2], logits[20];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)((i * 7919) % 255) / 127.5f - 1.0f;
    cr_expect_eq(pixab_engine_forward(e, x, 2, logits), PIXAB_OK);
    for (int i = 0; i < 20; i++) cr_expect(isfinite(logits[i]));
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

Test(forward, bad_arguments) {
    pixab_model *m;
    pixab_engine *e;
    cr_assert_eq(pixab_model_load(MODEL, &m), PIXAB_OK);
    cr_expect_eq(pixab_model_find_layer(m, "Mixed_9z"), -1);
    cr_expect(strstr(pixab_last_error(), "unknown layer 'Mixed_9z'"), "%s", pixab_last_error());
    cr_expect_eq(pixab_engine_create(m, "tpu", 1, &e), PIXAB_ERR_ARG);
    cr_expect(strstr(pixab_last_error(), "unknown device 'tpu'"));
    cr_expect_eq(pixab_engine_create(m, "cuda:x", 1, &e), PIXAB_ERR_ARG);
    cr_expect_eq(pixab_engine_create(m, "cpu", 0, &e), PIXAB_ERR_ARG);
    if (pixab_cuda_device_count() == 0) {
        cr_expect_neq(pixab_engine_create(m, "cuda", 1, &e), PIXAB_OK);
        cr_expect(strstr(pixab_last_error(), "cuda"), "%s", pixab_last_error());
    }
    cr_assert_eq(pixab_engine_create(m, "auto", 2, &e), PIXAB_OK);
    float x[1], y[1];
    cr_expect_eq(pixab_engine_forward(e, x, 3, y), PIXAB_ERR_ARG);
    cr_expect_eq(pixab_engine_body(e, x, 1, 99, y), PIXAB_ERR_ARG);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

/* ---- checkpoint variants: the loader names the key that is wrong ---------- */

/* Write a copy of MODEL with one tensor dropped, or one tensor's first dim
 * changed (its data cut to match), to a temp file; returns its path. */
static char *variant(const char *drop, const char *reshape) {
    safetensors *st;
    cr_assert_eq(safetensors_open(MODEL, &st), PIXAB_OK);
    size_t cap = 1 << 20, len = 0, data_len = 0;
    char *hdr = malloc(cap);
    len += (size_t)sprintf(hdr + len, "{");
    for (int i = 0; i < safetensors_count(st); i++) {
        const st_tensor *t = safetensors_at(st, i);
        if (drop && !strcmp(t->name, drop)) continue;
        int64_t shape0 = t->ndim ? t->shape[0] : 1, bytes = (int64_t)(t->end - t->begin);
        if (reshape && !strcmp(t->name, reshape)) bytes = bytes / shape0 * (shape0 - 1), shape0 -= 1;
        len += (size_t)sprintf(hdr + len, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", len > 1 ? "," : "", t->name,
                               safetensors_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++)
            len += (size_t)sprintf(hdr + len, "%s%lld", d ? "," : "", (long long)(d ? t->shape[d] : shape0));
        len += (size_t)sprintf(hdr + len, "],\"data_offsets\":[%zu,%zu]}", data_len, data_len + (size_t)bytes);
        data_len += (size_t)bytes;
        cr_assert(len < cap - 4096);
    }
    len += (size_t)sprintf(hdr + len, "}");
    char *path = strdup("/tmp/pixab_variant_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    uint64_t n = len;
    fwrite(&n, 8, 1, f);
    fwrite(hdr, 1, len, f);
    for (int i = 0; i < safetensors_count(st); i++) {
        const st_tensor *t = safetensors_at(st, i);
        if (drop && !strcmp(t->name, drop)) continue;
        size_t bytes = t->end - t->begin;
        if (reshape && !strcmp(t->name, reshape)) bytes = bytes / (size_t)t->shape[0] * (size_t)(t->shape[0] - 1);
        fwrite(t->data, 1, bytes, f);
    }
    fclose(f);
    free(hdr);
    safetensors_close(st);
    return path;
}

static void expect_load_error(const char *path, pixab_status want, const char *words) {
    pixab_model *m = NULL;
    cr_expect_eq(pixab_model_load(path, &m), want, "%s", pixab_last_error());
    cr_expect_null(m);
    cr_expect(strstr(pixab_last_error(), words), "error '%s' lacks '%s'", pixab_last_error(), words);
}

Test(loader, missing_tensor_is_named) {
    char *p = variant("Mixed_6c.branch7x7dbl_3.bn.running_var", NULL);
    expect_load_error(p, PIXAB_ERR_SHAPE, "Mixed_6c.branch7x7dbl_3.bn.running_var");
    unlink(p), free(p);
    p = variant("fc.weight", NULL);
    expect_load_error(p, PIXAB_ERR_SHAPE, "fc.weight");
    unlink(p), free(p);
}

Test(loader, wrong_shape_is_named) {
    /* One output channel fewer in a branch: its BN no longer matches. */
    char *p = variant(NULL, "Mixed_5b.branch5x5_2.conv.weight");
    expect_load_error(p, PIXAB_ERR_SHAPE, "Mixed_5b.branch5x5_2.bn.weight");
    unlink(p), free(p);
    /* A BN vector too short. */
    p = variant(NULL, "Conv2d_1a_3x3.bn.bias");
    expect_load_error(p, PIXAB_ERR_SHAPE, "Conv2d_1a_3x3.bn.bias");
    unlink(p), free(p);
}

Test(loader, aux_and_counters_are_optional) {
    char *p = variant("AuxLogits.fc.weight", NULL);
    pixab_model *m;
    cr_expect_eq(pixab_model_load(p, &m), PIXAB_OK, "%s", pixab_last_error());
    pixab_model_free(m);
    unlink(p), free(p);
}

Test(loader, not_a_checkpoint) {
    expect_load_error(DATA "test299.png", PIXAB_ERR_FORMAT, "test299.png");
    expect_load_error(DATA "does-not-exist.safetensors", PIXAB_ERR_IO, "does-not-exist.safetensors");
}

/* A copy of the test model with value v written at element `index` of tensor
 * `name` (F32 in the file), loaded: the error, or "" when it loads. */
static const char *load_with_value(const char *name, int64_t index, float v) {
    static char err[512];
    FILE *f = fopen(MODEL, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)size);
    cr_assert(buf && fread(buf, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    safetensors *st;
    cr_assert_eq(safetensors_parse(buf, (size_t)size, &st), PIXAB_OK, "%s", pixab_last_error());
    const st_tensor *t = safetensors_find(st, name);
    cr_assert(t && t->dtype == ST_F32 && index < safetensors_numel(t));
    const size_t at = (size_t)((const unsigned char *)t->data - buf) + 4 * (size_t)index;
    safetensors_close(st);
    memcpy(buf + at, &v, 4);
    char path[] = "/tmp/pixab_nonfinite_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0 && write(fd, buf, (size_t)size) == size);
    close(fd);
    free(buf);
    pixab_model *m = NULL;
    pixab_status s = pixab_model_load(path, &m);
    snprintf(err, sizeof err, "%s", s ? pixab_last_error() : "");
    pixab_model_free(m);
    unlink(path);
    return err;
}

/* A NaN or an infinity in any weight is refused at load, naming the tensor. */
Test(forward, non_finite_weights_are_refused) {
    cr_expect(strstr(load_with_value("fc.weight", 5, NAN), "tensor 'fc.weight' holds a non-finite value (NaN at index 5)"),
              "%s", load_with_value("fc.weight", 5, NAN));
    const char *e = load_with_value("Mixed_6b.branch7x7_2.bn.running_var", 0, INFINITY);
    cr_expect(strstr(e, "tensor 'Mixed_6b.branch7x7_2.bn.running_var'") && strstr(e, "+inf at index 0"), "%s", e);
    e = load_with_value("Conv2d_1a_3x3.conv.weight", 7, -INFINITY);
    cr_expect(strstr(e, "tensor 'Conv2d_1a_3x3.conv.weight'") && strstr(e, "-inf at index 7"), "%s", e);
    cr_expect_str_eq(load_with_value("fc.weight", 5, 1e30f), "", "large but finite: loads");
}

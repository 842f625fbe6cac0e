/* test_onnx.c — ONNX models exported by torch.onnx (tools/make_onnx_goldens.py:
 * Inception-V3 and VGG-11-BN at 1/8 width) against PyTorch's logits, the
 * methods on them, layers by ONNX name, the CLI with -w MODEL.onnx, and the
 * loader's refusals: truncated files and small bad models built here with the
 * protobuf-c code the build generates (unsupported ops, external data, ...). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"
#include "golden.h"
#include "pixab.h"
#include "safetensors.h"

#define DATA PIXAB_TEST_DATA "/"
#define INCEPTION DATA "inception_v3_w8.onnx"
#define VGG DATA "vgg11_bn_w8.onnx"
#define TINY_RESNET DATA "tiny_resnet.onnx"
#define TINY_MOBILENET DATA "tiny_mobilenet.onnx"
#define TINY_VGG DATA "tiny_vgg.onnx"
#define TINY_GUIDED DATA "tiny_guided.onnx"
/* test_methods.c's tolerances for maps in [0, 1] against PyTorch */
#define MAP_TOL 1e-3f
#define SCORECAM_TOL 2e-3f

#ifdef PIXAB_WITH_ONNX
#include "onnx.pb-c.h"

static float max_abs_diff(const float *a, const float *b, int n, float *max_b) {
    float m = 0.0f;
    *max_b = 0.0f;
    for (int i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN counts as a miss */
        if (fabsf(b[i]) > *max_b) *max_b = fabsf(b[i]);
    }
    return m;
}

/* (1, 3, S, S) golden input -> (S, S, 3) */
static float *golden_input_nhwc(const char *path, int S) {
    safetensors *st;
    cr_assert_eq(safetensors_open(path, &st), PIXAB_OK, "%s", pixab_last_error());
    const size_t n = (size_t)3 * S * S;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    cr_assert(x && y);
    golden_read(st, "input", x, (int64_t)n);
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < S * S; p++) y[(size_t)p * 3 + c] = x[(size_t)c * S * S + p];
    safetensors_close(st);
    free(x);
    return y;
}

/* Logits within 1e-4 * max|logit| of PyTorch's (test_forward.c's tolerance). */
static void check_logits(const char *model, const char *input_goldens, int S) {
    char gpath[512];
    snprintf(gpath, sizeof gpath, "%s.goldens.safetensors", model);
    pixab_model *m;
    pixab_engine *e;
    cr_assert_eq(pixab_model_load(model, &m), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_model_preproc(m)->size, S);
    cr_assert_eq(pixab_engine_create(m, "cpu", 1, &e), PIXAB_OK, "%s", pixab_last_error());
    const int K = pixab_model_num_classes(m);
    cr_assert_eq(K, 10);
    float *x = golden_input_nhwc(input_goldens, S), got[10], want[10], max_w;
    safetensors *st;
    cr_assert_eq(safetensors_open(gpath, &st), PIXAB_OK, "%s", pixab_last_error());
    golden_read(st, "logits", want, K);
    safetensors_close(st);
    cr_assert_eq(pixab_engine_forward(e, x, 1, got), PIXAB_OK, "%s", pixab_last_error());
    float err = max_abs_diff(got, want, K, &max_w), tol = 1e-4f * max_w;
    cr_log_info("%s: logits max|d| = %.3g (tolerance %.3g)", model, err, tol);
    cr_expect(err <= tol, "%s: logits max|d| = %g > %g", model, err, tol);
    free(x);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

Test(onnx, inception_logits_match_pytorch) {
    /* The same image as make_goldens.py's input, normalised with mean = std = 0.5. */
    check_logits(INCEPTION, DATA "inception_v3_w8.goldens.safetensors", 299);
}

Test(onnx, vgg_logits_match_pytorch) { check_logits(VGG, VGG ".goldens.safetensors", 64); }

/* pixab, ablation and gradcam at `layer`: finite maps in [0, 1] of the layer's size. */
static void check_explain(const char *model, const char *layer_name) {
    pixab_model *m;
    pixab_engine *e;
    cr_assert_eq(pixab_model_load(model, &m), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_create(m, "cpu", 1, &e), PIXAB_OK, "%s", pixab_last_error());
    pixab_image img;
    cr_assert_eq(pixab_image_load(DATA "test299.png", &img), PIXAB_OK, "%s", pixab_last_error());
    const pixab_preproc *p = pixab_model_preproc(m);
    float *x = malloc(sizeof(float) * 3 * (size_t)p->size * p->size);
    cr_assert(x);
    cr_assert_eq(pixab_image_preprocess(&img, p, x), PIXAB_OK, "%s", pixab_last_error());
    pixab_explain_opts o = {.layer = layer_name ? pixab_model_find_layer(m, layer_name) : pixab_model_default_layer(m),
                            .cls = -1};
    cr_assert_geq(o.layer, 0, "%s", pixab_last_error());
    int C, H, W;
    cr_assert_eq(pixab_model_layer_shape(m, o.layer, &C, &H, &W), PIXAB_OK);
    pixab_method methods[] = {PIXAB_METHOD_PIXAB, PIXAB_METHOD_ABLATION, PIXAB_METHOD_GRADCAM};
    pixab_map maps[3];
    cr_assert_eq(pixab_explain(e, x, methods, 3, &o, maps), PIXAB_OK, "%s", pixab_last_error());
    for (int k = 0; k < 3; k++) {
        cr_expect(maps[k].h == H && maps[k].w == W, "%s: map %dx%d, layer %dx%d", pixab_method_name(methods[k]),
                  maps[k].h, maps[k].w, H, W);
        float lo = 1.0f, hi = 0.0f;
        for (int i = 0; i < H * W; i++) {
            float v = maps[k].map[i];
            cr_assert(isfinite(v) && v >= 0.0f && v <= 1.0f, "%s[%d] = %g", pixab_method_name(methods[k]), i, v);
            lo = v < lo ? v : lo, hi = v > hi ? v : hi;
        }
        cr_expect(hi == 1.0f && lo == 0.0f, "%s: the map is constant", pixab_method_name(methods[k]));
        pixab_map_free(&maps[k]);
    }
    free(x);
    pixab_image_free(&img);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

Test(onnx, inception_methods_at_default_layer) { check_explain(INCEPTION, NULL); }
Test(onnx, inception_methods_at_an_earlier_layer) { check_explain(INCEPTION, "/Mixed_7b/Concat_output_0"); }
/* Inside a block: the head keeps the block's other branches (side inputs) */
Test(onnx, inception_methods_inside_a_block) { check_explain(INCEPTION, "/Mixed_7c/branch3x3dbl_2/Relu_output_0"); }
Test(onnx, vgg_methods_at_default_and_earlier_layer) {
    check_explain(VGG, NULL);
    check_explain(VGG, "/features/features.20/Relu_output_0");
}

Test(onnx, tiny_resnet_logits_match_pytorch) { check_logits(TINY_RESNET, TINY_RESNET ".goldens.safetensors", 33); }
Test(onnx, tiny_mobilenet_logits_match_pytorch) {
    check_logits(TINY_MOBILENET, TINY_MOBILENET ".goldens.safetensors", 32);
}

/* Every method's map at layer `name` (golden tag `tag`) against PyTorch's
 * (tools/make_onnx_goldens.py: float64, the method's default score, top-1);
 * head_budget: bytes (0: the default), small ones run the heads in many chunks. */
/* Guided backpropagation guides every ReLU, also those the importer cannot
 * fold into a convolution (one after a max pool, one on a tensor an Add also
 * reads): the whole GB of two classes against float64 PyTorch with every
 * ReLU guided (tools/make_guided_goldens.py --tiny-onnx), and the logits. */
Test(onnx, guided_backprop_guides_standalone_relus) {
    enum { S = 24, N = S * S * 3, K = 10 };
    static const char *tags[2] = {"top1", "other"};
    pixab_model *m;
    pixab_engine *e;
    safetensors *st;
    cr_assert_eq(pixab_model_load(TINY_GUIDED, &m), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_create(m, "cpu", 1, &e), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(safetensors_open(DATA "tiny_guided_goldens.safetensors", &st), PIXAB_OK, "%s", pixab_last_error());
    static float x[N], want[N], got[N];
    float logits[K], want_logits[K], max_w, cls_f;
    golden_read(st, "input", x, N);
    golden_read(st, "logits", want_logits, K);
    cr_assert_eq(pixab_engine_forward(e, x, 1, logits), PIXAB_OK, "%s", pixab_last_error());
    float err = max_abs_diff(logits, want_logits, K, &max_w);
    cr_expect(err <= 1e-4f * max_w, "logits max|d| = %g of %g", err, max_w);
    for (int t = 0; t < 2; t++) {
        char key[32];
        snprintf(key, sizeof key, "class/%s", tags[t]);
        golden_read(st, key, &cls_f, 1);
        snprintf(key, sizeof key, "gb/%s", tags[t]);
        golden_read(st, key, want, N);
        const int cls = (int)cls_f;
        cr_assert_eq(pixab_guided_backprop(e, x, 1, &cls, got), PIXAB_OK, "%s", pixab_last_error());
        err = max_abs_diff(got, want, N, &max_w);
        cr_log_info("tiny_guided %s: GB max|d| = %.3g of max %.3g", tags[t], err, max_w);
        cr_expect(max_w > 0.0f && err <= 1e-4f * max_w, "%s: GB max|d| = %g of max %g", tags[t], err, max_w);
    }
    safetensors_close(st);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

static void check_maps_budget(const char *model, int S, const char *tag, const char *name, size_t head_budget) {
    char gpath[512];
    snprintf(gpath, sizeof gpath, "%s.goldens.safetensors", model);
    pixab_model *m;
    pixab_engine *e;
    cr_assert_eq(pixab_model_load(model, &m), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_create(m, "cpu", 1, &e), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_engine_set_head_budget(e, head_budget), PIXAB_OK);
    float *x = golden_input_nhwc(gpath, S), cls_f;
    safetensors *st;
    cr_assert_eq(safetensors_open(gpath, &st), PIXAB_OK, "%s", pixab_last_error());
    char key[160];
    snprintf(key, sizeof key, "class/%s", tag);
    golden_read(st, key, &cls_f, 1);
    pixab_explain_opts o = {.layer = pixab_model_find_layer(m, name), .cls = -1};
    cr_assert_geq(o.layer, 0, "%s", pixab_last_error());
    pixab_method methods[PIXAB_METHOD_COUNT];
    pixab_map maps[PIXAB_METHOD_COUNT];
    for (int k = 0; k < PIXAB_METHOD_COUNT; k++) methods[k] = (pixab_method)k;
    cr_assert_eq(pixab_explain(e, x, methods, PIXAB_METHOD_COUNT, &o, maps), PIXAB_OK, "%s", pixab_last_error());
    for (int k = 0; k < PIXAB_METHOD_COUNT; k++) {
        const int hw = maps[k].h * maps[k].w;
        float *want = malloc(sizeof(float) * (size_t)hw), err = 0.0f;
        cr_assert(want);
        snprintf(key, sizeof key, "%s/%s", pixab_method_name(methods[k]), tag);
        golden_read(st, key, want, hw);
        for (int i = 0; i < hw; i++) {
            const float d = fabsf(maps[k].map[i] - want[i]);
            err = d > err || d != d ? d : err;
        }
        const float tol = methods[k] == PIXAB_METHOD_SCORECAM ? SCORECAM_TOL : MAP_TOL;
        cr_log_info("%s %s: max|d| = %.2e", model, key, err);
        cr_expect_eq(maps[k].cls, (int)cls_f, "%s: class %d, want %d", key, maps[k].cls, (int)cls_f);
        cr_expect(err <= tol, "%s %s: max|d| = %g > %g", model, key, err, tol);
        free(want);
        pixab_map_free(&maps[k]);
    }
    safetensors_close(st);
    free(x);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

static void check_maps(const char *model, int S, const char *tag, const char *name) {
    check_maps_budget(model, S, tag, name, 0);
}

Test(onnx, tiny_resnet_maps_match_pytorch) {
    check_maps(TINY_RESNET, 33, "default", "/block2/relu2/Relu_output_0");
    check_maps(TINY_RESNET, 33, "earlier", "/block1/relu2/Relu_output_0");
}

/* Layers inside a residual block: the skip (here a projection the layer
 * does not feed) is kept from the body and broadcast over the ablation batch. */
Test(onnx, tiny_resnet_maps_inside_a_block) {
    check_maps(TINY_RESNET, 33, "inside", "/block2/relu1/Relu_output_0");
    /* heads of a few items at a time: the side inputs filled for every chunk */
    check_maps_budget(TINY_RESNET, 33, "inside", "/block2/relu1/Relu_output_0", 100000);
}

Test(onnx, tiny_mobilenet_maps_match_pytorch) {
    check_maps(TINY_MOBILENET, 32, "default", "/last/last.2/HardSwish_output_0");
    check_maps(TINY_MOBILENET, 32, "earlier", "/ir1/Add_output_0");
}

/* torchvision's VGG classifier shape: Flatten of 2x2 features, Gemm (a
 * convolution over the whole map), ReLU, Gemm, ReLU, Gemm. */
Test(onnx, tiny_vgg_flattened_classifier_matches_pytorch) {
    check_logits(TINY_VGG, TINY_VGG ".goldens.safetensors", 32);
    check_maps(TINY_VGG, 32, "default", "/avgpool/AveragePool_output_0");
    check_maps(TINY_VGG, 32, "earlier", "/features/features.7/MaxPool_output_0");
}

Test(onnx, tiny_mobilenet_maps_inside_a_block) {
    check_maps(TINY_MOBILENET, 32, "inside", "/ir3/expand/expand.2/Clip_output_0");
}

static int has_layer(const pixab_model *m, const char *name) { return pixab_model_find_layer(m, name) >= 0; }

Test(onnx, layers_by_onnx_name) {
    pixab_model *m;
    cr_assert_eq(pixab_model_load(INCEPTION, &m), PIXAB_OK, "%s", pixab_last_error());
    int n = pixab_model_num_layers(m), d = pixab_model_default_layer(m), C, H, W;
    for (int l = 0; l < n; l++) {
        cr_assert_eq(pixab_model_layer_shape(m, l, &C, &H, &W), PIXAB_OK);
        cr_log_info("%2d %-40s %dx%dx%d", l, pixab_model_layer_name(m, l), C, H, W);
    }
    /* every spatial tensor: the stem's 7, each block's concatenation and the
     * branch tensors it does not write straight into (65), pooled, logits */
    cr_expect_eq(n, 7 + 65 + 2);
    cr_expect_str_eq(pixab_model_layer_name(m, 0), "/Conv2d_1a_3x3/Relu_output_0");
    cr_expect_str_eq(pixab_model_layer_name(m, 6), "/maxpool2/MaxPool_output_0");
    cr_expect_str_eq(pixab_model_layer_name(m, d), "/Mixed_7c/Concat_output_0");
    cr_expect(has_layer(m, "/Mixed_5b/Concat_output_0") && has_layer(m, "/Mixed_6e/Concat_output_0"));
    cr_expect(!has_layer(m, "/Mixed_5b/branch1x1/Relu_output_0"), "written into the concatenation: no tensor");
    cr_expect(has_layer(m, "/Mixed_5b/branch3x3dbl_1/Relu_output_0"), "inside a block: a layer too");
    cr_expect_str_eq(pixab_model_layer_op(m, pixab_model_find_layer(m, "/Mixed_5b/Concat_output_0")), "concat");
    cr_expect_str_eq(pixab_model_layer_name(m, n - 2), "/avgpool/GlobalAveragePool_output_0");
    cr_expect_str_eq(pixab_model_layer_name(m, n - 1), "logits");
    cr_assert_eq(pixab_model_layer_shape(m, d, &C, &H, &W), PIXAB_OK);
    cr_expect(C == 256 && H == 8 && W == 8, "default layer %dx%dx%d", C, H, W);
    cr_expect_eq(pixab_model_find_layer(m, "Mixed_7c"), -1);
    cr_expect(strstr(pixab_last_error(), "unknown layer 'Mixed_7c'"), "%s", pixab_last_error());
    /* metadata_props */
    const pixab_preproc *p = pixab_model_preproc(m);
    cr_expect(p->size == 299 && p->mean[0] == 0.5f && p->std[2] == 0.5f);
    cr_expect_str_eq(pixab_model_class_name(m, 3), "class3");
    pixab_model_free(m);

    /* VGG: no metadata: ImageNet defaults, the input's static size */
    cr_assert_eq(pixab_model_load(VGG, &m), PIXAB_OK, "%s", pixab_last_error());
    p = pixab_model_preproc(m);
    cr_expect(p->size == 64 && p->mean[0] == 0.485f && p->std[2] == 0.225f);
    cr_expect_null(pixab_model_class_name(m, 0));
    n = pixab_model_num_layers(m);
    d = pixab_model_default_layer(m);
    cr_expect_eq(n, 8 + 5 + 2, "conv+BN+ReLU x 8, max pools x 5, pooled, logits: %d", n);
    cr_expect_str_eq(pixab_model_layer_name(m, d), "/features/features.28/MaxPool_output_0");
    cr_assert_eq(pixab_model_layer_shape(m, d, &C, &H, &W), PIXAB_OK);
    cr_expect(C == 64 && H == 2 && W == 2, "default layer %dx%dx%d", C, H, W);
    pixab_model_free(m);
}

Test(onnx, cli_takes_onnx_models) {
    scratch_make("onnx_cli");
    run_result r = runf("classify -w '%s' --device cpu --top 2 '%s'", INCEPTION, DATA "test299.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"labels\":[\"class4\""), "%s", r.out);
    /* -l left at its default: the model's own default layer */
    r = runf("explain -w '%s' --device cpu -m pixab,gradcam --no-png -o '%s' '%s'", VGG, tp("out"),
             DATA "test299.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(exists(tp("out/test299.pixab.npy")) && exists(tp("out/test299.gradcam.npy")));
    size_t len; /* the default layer's 2 x 2 map (explain.c's results line names the -l given) */
    char *npy = read_file(tp("out/test299.gradcam.npy"), &len);
    int found = 0;
    for (size_t i = 0; npy && i + 15 < len && i < 256 && !found; i++) found = !memcmp(npy + i, "'shape': (2, 2)", 15);
    cr_expect(found, "the map is not 2 x 2");
    free(npy);
    r = runf("bench -w '%s' --device cpu --runs 1 -m pixab", VGG);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"layer\":\"/features/features.28/MaxPool_output_0\""), "%s", r.out);
    r = runf("explain -w '%s' --device cpu -l nope --no-png -o '%s' '%s'", VGG, tp("out"), DATA "test299.png");
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "unknown layer 'nope'") && strstr(r.err, "/features/features.28/MaxPool_output_0"),
              "%s", r.err);
    scratch_remove();
}

/* ---- bad files ------------------------------------------------------------ */

static void *kept[256];
static int n_kept;
static void *keep(void *p) {
    cr_assert(p && n_kept < 256);
    return kept[n_kept++] = p;
}
static void free_kept(void) {
    while (n_kept) free(kept[--n_kept]);
}

/* A kept copy of n int64s. */
static int64_t *keep_ints(const int64_t *v, int n) {
    int64_t *p = keep(malloc(sizeof(int64_t) * (size_t)n));
    memcpy(p, v, sizeof(int64_t) * (size_t)n);
    return p;
}

static Onnx__AttributeProto *attr_new(const char *name, Onnx__AttributeProto__AttributeType type) {
    Onnx__AttributeProto *a = keep(malloc(sizeof *a));
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = type;
    return a;
}

static Onnx__AttributeProto *attr_ints(const char *name, int n, const int64_t *v) {
    Onnx__AttributeProto *a = attr_new(name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)n;
    a->ints = keep_ints(v, n);
    return a;
}

static Onnx__AttributeProto *attr_int(const char *name, int64_t v) {
    Onnx__AttributeProto *a = attr_new(name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
    return a;
}

static Onnx__NodeProto *node(const char *op, const char *name, const char *in0, const char *in1, const char *in2,
                             const char *out, int n_attr, Onnx__AttributeProto **attrs) {
    Onnx__NodeProto *n = keep(malloc(sizeof *n));
    onnx__node_proto__init(n);
    n->op_type = (char *)op;
    n->name = (char *)name;
    n->input = keep(calloc(3, sizeof(char *)));
    const char *in[3] = {in0, in1, in2};
    for (int k = 0; k < 3 && in[k]; k++) n->input[n->n_input++] = (char *)in[k];
    n->n_output = 1;
    n->output = keep(malloc(sizeof(char *)));
    n->output[0] = (char *)out;
    n->n_attribute = (size_t)n_attr;
    n->attribute = n_attr ? keep(malloc(sizeof *attrs * (size_t)n_attr)) : NULL;
    if (n_attr) memcpy(n->attribute, attrs, sizeof *attrs * (size_t)n_attr);
    return n;
}

static Onnx__TensorProto *init_tensor(const char *name, int nd, const int64_t *dims) {
    Onnx__TensorProto *t = keep(malloc(sizeof *t));
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_dims = (size_t)nd;
    t->dims = keep_ints(dims, nd);
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)dims[i];
    t->n_float_data = n;
    t->float_data = keep(malloc(sizeof(float) * n));
    for (size_t i = 0; i < n; i++) t->float_data[i] = (float)((int)((i * 7) % 11) - 5) / 16.0f; /* exact in f16 */
    return t;
}

/* t's floats as FLOAT16 (int32_data holds the bits; normal numbers and zero only). */
static void to_float16(Onnx__TensorProto *t) {
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    t->n_int32_data = t->n_float_data;
    t->int32_data = keep(malloc(sizeof(int32_t) * t->n_float_data));
    for (size_t i = 0; i < t->n_float_data; i++) {
        uint32_t b;
        memcpy(&b, &t->float_data[i], 4);
        t->int32_data[i] = !(b & 0x7fffffffu) ? 0
                                               : (int32_t)(((b >> 16) & 0x8000u) | ((((b >> 23) & 0xffu) - 112u) << 10) |
                                                           ((b >> 13) & 0x3ffu));
    }
    t->n_float_data = 0;
}

typedef enum {
    BAD_NONE, GOOD_FLOAT16, GOOD_CEIL, GOOD_ASYM_PADS, GOOD_AVG_EXCL_PAD, BAD_TANH, BAD_EXTERNAL, BAD_GROUP, BAD_OPSET,
    BAD_CONCAT_SHARED, BAD_FLATTEN_SPATIAL, BAD_ADD_SHAPES
} bad_kind;

/* x (1, 3, 8, 8) -> Conv 3x3 (4) -> Relu -> [the bad part] -> GlobalAveragePool
 * -> Flatten -> Gemm (2): a tiny classifier, valid for BAD_NONE. */
static void write_model(const char *path, bad_kind bad) {
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    opset.domain = (char *)"";
    opset.has_version = 1;
    opset.version = bad == BAD_OPSET ? 9 : 13;
    Onnx__OperatorSetIdProto *opsets[] = {&opset};
    model.has_ir_version = 1;
    model.ir_version = 7;
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.graph = &g;

    Onnx__TensorProto *inits[] = {init_tensor("w", 4, (int64_t[]){4, 3, 3, 3}), init_tensor("b", 1, (int64_t[]){4}),
                                  init_tensor("fw", 2, (int64_t[]){2, 4}), init_tensor("fb", 1, (int64_t[]){2})};
    if (bad == GOOD_FLOAT16)
        for (int i = 0; i < 4; i++) to_float16(inits[i]);
    if (bad == BAD_EXTERNAL) {
        inits[0]->has_data_location = 1;
        inits[0]->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        inits[0]->n_float_data = 0;
    }
    g.n_initializer = 4;
    g.initializer = inits;

    Onnx__AttributeProto *conv_attrs[2] = {
        attr_ints("pads", 4, bad == GOOD_ASYM_PADS ? (int64_t[]){0, 0, 1, 1} : (int64_t[]){1, 1, 1, 1}),
        attr_int("group", bad == BAD_GROUP ? 2 : 1)};
    Onnx__NodeProto *nodes[8];
    int n = 0;
    nodes[n++] = node("Conv", "conv1", "x", "w", "b", "c", 2, conv_attrs);
    nodes[n++] = node(bad == BAD_TANH ? "Tanh" : "Relu", "act1", "c", NULL, NULL, "r", 0, NULL);
    const char *feat = "r";
    if (bad == GOOD_CEIL) {
        Onnx__AttributeProto *a[] = {attr_ints("kernel_shape", 2, (int64_t[]){3, 3}),
                                     attr_ints("strides", 2, (int64_t[]){2, 2}), attr_int("ceil_mode", 1)};
        nodes[n++] = node("MaxPool", "pool1", "r", NULL, NULL, "p", 3, a);
        feat = "p";
    } else if (bad == GOOD_AVG_EXCL_PAD) {
        Onnx__AttributeProto *a[] = {attr_ints("kernel_shape", 2, (int64_t[]){3, 3}),
                                     attr_ints("pads", 4, (int64_t[]){1, 1, 1, 1}), attr_int("count_include_pad", 0)};
        nodes[n++] = node("AveragePool", "pool1", "r", NULL, NULL, "p", 3, a);
        feat = "p";
    } else if (bad == BAD_CONCAT_SHARED) {
        Onnx__AttributeProto *a[] = {attr_int("axis", 1)};
        nodes[n++] = node("Concat", "cat1", "r", "r", NULL, "p", 1, a);
        inits[2]->dims[1] = 8; /* fw (2, 8) */
        inits[2]->n_float_data = 16;
        inits[2]->float_data = keep(calloc(16, sizeof(float)));
        feat = "p";
    }
    if (bad == BAD_ADD_SHAPES) { /* a spatial tensor plus a pooled one */
        nodes[n++] = node("GlobalAveragePool", "gap0", feat, NULL, NULL, "g0", 0, NULL);
        nodes[n++] = node("Add", "add1", feat, "g0", NULL, "p", 0, NULL);
        feat = "p";
    }
    if (bad == BAD_FLATTEN_SPATIAL) {
        nodes[n++] = node("Flatten", "flat1", feat, NULL, NULL, "f", 0, NULL);
    } else {
        nodes[n++] = node("GlobalAveragePool", "gap", feat, NULL, NULL, "gp", 0, NULL);
        nodes[n++] = node("Flatten", "flat1", "gp", NULL, NULL, "f", 0, NULL);
    }
    Onnx__AttributeProto *gemm_attrs[] = {attr_int("transB", 1)};
    nodes[n++] = node("Gemm", "fc", "f", "fw", "fb", "y", 1, gemm_attrs);
    g.n_node = (size_t)n;
    g.node = nodes;

    /* the input (1, 3, 8, 8) float and the output */
    Onnx__TensorShapeProto__Dimension dims[4], *dimp[4];
    for (int k = 0; k < 4; k++) {
        onnx__tensor_shape_proto__dimension__init(&dims[k]);
        dims[k].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        dims[k].dim_value = k == 0 ? 1 : k == 1 ? 3 : 8;
        dimp[k] = &dims[k];
    }
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 4;
    shape.dim = dimp;
    Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt.has_elem_type = 1;
    tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt.shape = &shape;
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tt;
    Onnx__ValueInfoProto in = ONNX__VALUE_INFO_PROTO__INIT, out = ONNX__VALUE_INFO_PROTO__INIT;
    in.name = (char *)"x";
    in.type = &type;
    out.name = (char *)"y";
    Onnx__ValueInfoProto *ins[] = {&in}, *outs[] = {&out};
    g.n_input = 1;
    g.input = ins;
    g.n_output = 1;
    g.output = outs;

    size_t size = onnx__model_proto__get_packed_size(&model);
    uint8_t *buf = malloc(size);
    cr_assert(buf);
    cr_assert_eq(onnx__model_proto__pack(&model, buf), size);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(buf, 1, size, f), size);
    fclose(f);
    free(buf);
    free_kept();
}

/* Loading fails with `status` and one line holding every `want` (NULL-ended). */
static void expect_refused(const char *path, pixab_status status, const char *want1, const char *want2) {
    pixab_model *m = (pixab_model *)1;
    pixab_status s = pixab_model_load(path, &m);
    const char *e = pixab_last_error();
    cr_log_info("%s", e);
    cr_expect_eq(s, status, "status %d, expected %d: %s", s, status, e);
    cr_expect_null(m);
    cr_expect(!strchr(e, '\n'), "more than one line: %s", e);
    cr_expect(strstr(e, want1), "'%s' not in: %s", want1, e);
    if (want2) cr_expect(strstr(e, want2), "'%s' not in: %s", want2, e);
}

Test(onnx_bad, tiny_valid_model_loads) {
    scratch_make("onnx_tiny");
    write_model(tp("tiny.onnx"), BAD_NONE);
    pixab_model *m;
    cr_assert_eq(pixab_model_load(tp("tiny.onnx"), &m), PIXAB_OK, "%s", pixab_last_error());
    cr_expect_eq(pixab_model_num_classes(m), 2);
    cr_expect_eq(pixab_model_preproc(m)->size, 8);
    cr_expect_str_eq(pixab_model_layer_name(m, pixab_model_default_layer(m)), "r");
    pixab_model_free(m);
    scratch_remove();
}

/* The same weights stored as float16 give the very same logits. */
Test(onnx_bad, float16_initializers) {
    scratch_make("onnx_f16");
    write_model(tp("f32.onnx"), BAD_NONE);
    write_model(tp("f16.onnx"), GOOD_FLOAT16);
    float x[8 * 8 * 3], y[2][2];
    for (int i = 0; i < 8 * 8 * 3; i++) x[i] = (float)(i % 13) / 6.0f - 1.0f;
    const char *path[2] = {tp("f32.onnx"), tp("f16.onnx")};
    for (int k = 0; k < 2; k++) {
        pixab_model *m;
        pixab_engine *e;
        cr_assert_eq(pixab_model_load(path[k], &m), PIXAB_OK, "%s", pixab_last_error());
        cr_assert_eq(pixab_engine_create(m, "cpu", 1, &e), PIXAB_OK, "%s", pixab_last_error());
        cr_assert_eq(pixab_engine_forward(e, x, 1, y[k]), PIXAB_OK, "%s", pixab_last_error());
        pixab_engine_destroy(e);
        pixab_model_free(m);
    }
    cr_expect(y[0][0] == y[1][0] && y[0][1] == y[1][1] && y[0][0] != y[0][1], "f32 (%g, %g) vs f16 (%g, %g)",
              y[0][0], y[0][1], y[1][0], y[1][1]);
    scratch_remove();
}

/* Ceil-mode pools, asymmetric conv pads and an average pool that leaves its
 * padding out: they load, with the output sizes ONNX defines, and run
 * (their values: the PyTorch goldens of the small nets above). */
Test(onnx_bad, pool_and_pad_variants_load) {
    scratch_make("onnx_variants");
    static const struct { bad_kind kind; int h; } cases[] = {{GOOD_CEIL, 4}, {GOOD_ASYM_PADS, 7}, {GOOD_AVG_EXCL_PAD, 8}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_model(tp("v.onnx"), cases[i].kind);
        pixab_model *m;
        pixab_engine *e;
        cr_assert_eq(pixab_model_load(tp("v.onnx"), &m), PIXAB_OK, "%s", pixab_last_error());
        int C, H, W;
        cr_assert_eq(pixab_model_layer_shape(m, pixab_model_default_layer(m), &C, &H, &W), PIXAB_OK);
        cr_expect(H == cases[i].h && W == cases[i].h, "case %zu: default layer %dx%d, expected %d", i, H, W,
                  cases[i].h);
        float x[8 * 8 * 3], y[2];
        for (int k = 0; k < 8 * 8 * 3; k++) x[k] = (float)(k % 13) / 6.0f - 1.0f;
        cr_assert_eq(pixab_engine_create(m, "cpu", 1, &e), PIXAB_OK, "%s", pixab_last_error());
        cr_assert_eq(pixab_engine_forward(e, x, 1, y), PIXAB_OK, "%s", pixab_last_error());
        cr_expect(isfinite(y[0]) && isfinite(y[1]));
        pixab_engine_destroy(e);
        pixab_model_free(m);
    }
    scratch_remove();
}

Test(onnx_bad, refused_with_one_line_naming_the_node) {
    scratch_make("onnx_bad");
    static const struct { bad_kind bad; pixab_status s; const char *want1, *want2; } cases[] = {
        {BAD_TANH, PIXAB_ERR_UNSUPPORTED, "'act1' (Tanh)", "op type 'Tanh' is not supported"},
        {BAD_EXTERNAL, PIXAB_ERR_UNSUPPORTED, "'w'", "external file"},
        {BAD_GROUP, PIXAB_ERR_FORMAT, "'conv1' (Conv)", "group 2 does not divide 3 input channels"},
        {BAD_OPSET, PIXAB_ERR_UNSUPPORTED, "opset 9", NULL},
        {BAD_ADD_SHAPES, PIXAB_ERR_UNSUPPORTED, "'add1' (Add)", "differ in shape"},
        {BAD_CONCAT_SHARED, PIXAB_ERR_UNSUPPORTED, "'cat1' (Concat)", "read elsewhere"},
        /* one Gemm over the flattened 8x8 map: no classifier after its features */
        {BAD_FLATTEN_SPATIAL, PIXAB_ERR_UNSUPPORTED, "not a CNN classifier", "Flatten + Gemm"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_model(tp("bad.onnx"), cases[i].bad);
        expect_refused(tp("bad.onnx"), cases[i].s, cases[i].want1, cases[i].want2);
    }
    scratch_remove();
}

Test(onnx_bad, truncated_and_empty_files) {
    scratch_make("onnx_trunc");
    size_t len;
    char *bytes = read_file(INCEPTION, &len);
    cr_assert(bytes && len > 1000);
    const size_t cuts[] = {len - 1, len / 2, 100, 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        FILE *f = fopen(tp("cut.onnx"), "wb");
        cr_assert(f);
        cr_assert_eq(fwrite(bytes, 1, cuts[i], f), cuts[i]);
        fclose(f);
        expect_refused(tp("cut.onnx"), PIXAB_ERR_FORMAT, "ONNX", NULL);
    }
    free(bytes);
    write_text(tp("empty.onnx"), "");
    expect_refused(tp("empty.onnx"), PIXAB_ERR_FORMAT, "empty", NULL);
    expect_refused(tp("missing.onnx"), PIXAB_ERR_IO, "missing.onnx", NULL);
    scratch_remove();
}

#else
Test(onnx, built_without_onnx) { cr_skip_test("built with -DPIXAB_ONNX=OFF"); }
#endif

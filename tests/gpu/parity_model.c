/* parity_model.c — the GPU parity suite on a whole checkpoint: engines
 * "cpu" and "cuda:0" side by side.
 * - every Mixed_* output and the logits at batch 2, the logits at batch 64;
 * - gradients of the top logit at Mixed_7c, Mixed_6e and the input, of one
 *   image and of a batch of MODEL_BATCH (pixab_engine_gradient_batch), and
 *   guided backpropagation to the input (pixab_guided_backprop);
 * - every method's map (Mixed_7c and Mixed_6e, softmax and logit, the top-1
 *   and another class), Pixab-CAM and Ablation-CAM also through the general
 *   path, and that path again with a head budget small enough to run it in
 *   many chunks;
 * - on a trained checkpoint (check_precision_model), every method at tf32,
 *   fp16 and bf16 against the fp32 CPU map: max|Δ| and 1 - Spearman
 *   (`limits` below says why those, and why not on the random test
 *   checkpoints);
 * - device allocations failing one at a time (cuda_backend_fail_alloc):
 *   engine creation fails with PIXAB_ERR_NOMEM and nothing else, an
 *   explanation either absorbs the failure (the engine halves its head
 *   batch) or reports PIXAB_ERR_NOMEM, and the engine works afterwards.
 * `full` (a full-width checkpoint, the CPU side being slow there): the
 * methods and the general path at Mixed_7c only (softmax, top-1; no
 * Score-CAM: 2048 full forward passes on the CPU), no chunked head, no fault
 * injection. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cam.h"
#include "cuda_backend.h"
#include "cuda_device.h"
#include "engine.h"
#include "parity.h"

#define MODEL_BATCH 2
#define BIG_BATCH 64

/* Maps below fp32 against the fp32 CPU map (values in [0, 1]), measured by
 * tools/precision_tolerance.py: torchvision's Inception3 with every
 * convolution and FC doing the backend's rounding (inputs and weights to 16
 * bits or tf32 truncation, 16-bit results, tf32 backward), the methods of
 * DESIGN.md (bench/results/precision_tolerance.txt).
 * On the random-weight test checkpoints that rounding alone moves Mixed_7c
 * by 33% (tf32) and the maps by up to 0.9: chaotic, a test of nothing. On the
 * trained demo model (4 images, both layers) it moves Mixed_7c by 0.6% (tf32),
 * 0.06% (fp16), 0.6% (bf16), and the maps by at most (max|d|, 1 - Spearman)
 * tf32 0.037, 0.014; fp16 0.0045, 0.00046; bf16 0.043, 0.0072. Limits: about
 * twice that. Grad-CAM++ is ill-conditioned (its alpha's denominator
 * 2 g^2 + sum(A) g^3 nearly cancels where g is small): on a photograph tf32
 * moved its map by 0.56 (1 - Spearman 0.20) and bf16 by 0.34 (0.092), so
 * below fp32 its rows only hold it to those, doubled. */
typedef struct {
    int precision;
    double abs, rank;          /* max|d|, 1 - Spearman */
    double abs_gpp, rank_gpp;  /* the same for Grad-CAM++ */
} precision_limits;

static const precision_limits limits[] = {
    {PIXAB_PRECISION_TF32, 0.08, 0.03, 1.0, 0.4},
    {PIXAB_PRECISION_FP16, 0.01, 0.001, 0.03, 0.001},
    {PIXAB_PRECISION_BF16, 0.09, 0.015, 0.7, 0.2},
};
/* --self-test: the CPU has fp32 only, and agrees with itself. */
static const precision_limits self_test_limits[] = {{PIXAB_PRECISION_FP32, 1e-12, 1e-12, 1e-12, 1e-12}};

static const char *const layers[] = {"Mixed_7c", "Mixed_6e"};

static void seed_one_hot(void *ctx, const float *logits, int classes, float *dlogits) {
    (void)logits;
    memset(dlogits, 0, sizeof(float) * (size_t)classes);
    dlogits[*(const int *)ctx] = 1.0f;
}

static int argmax(const float *v, int n) {
    int k = 0;
    for (int i = 1; i < n; i++) k = v[i] > v[k] ? i : k;
    return k;
}

/* The CPU's top-1 class of one image, and (second, if not NULL) its second;
 * -1 when the forward fails. */
static int cpu_ranked(pixab_engine *ec, const float *input, int classes, int *second) {
    float *lg = malloc(sizeof(float) * (size_t)classes);
    int top = -1;
    if (lg && !pixab_engine_forward(ec, input, 1, lg)) {
        top = argmax(lg, classes);
        lg[top] = -INFINITY;
        if (second) *second = argmax(lg, classes);
    }
    free(lg);
    return top;
}

/* Each image's top-class seed, image `image` of a batch: ctx = the classes. */
static void seed_one_hot_batch(void *ctx, int image, const float *logits, int classes, float *dlogits) {
    seed_one_hot((int *)ctx + image, logits, classes, dlogits);
}

/* Gradient of the top class's logit w.r.t. layer `layer`'s activation (-1:
 * the input) of n <= MODEL_BATCH images: n = 1 through pixab_engine_gradient,
 * more through pixab_engine_gradient_batch (each image its own class). */
static void check_gradient(const char *tag, pixab_model *m, pixab_engine *ec, pixab_engine *eg, int layer,
                           const float *input, int n) {
    char what[112];
    int c = 3, h = pixab_model_preproc(m)->size, w = h, classes = pixab_model_num_classes(m), cls[MODEL_BATCH];
    if (layer >= 0) pixab_model_layer_shape(m, layer, &c, &h, &w);
    size_t all = (size_t)c * h * w * (size_t)n;
    float *act = malloc(sizeof(float) * all), *dc = malloc(sizeof(float) * all), *dg = malloc(sizeof(float) * all);
    float *lc = malloc(sizeof(float) * (size_t)classes * n), *lg = malloc(sizeof(float) * (size_t)classes * n);
    double err = INFINITY;
    snprintf(what, sizeof what, "%s: d top logit / d %s%s", tag, layer < 0 ? "input" : pixab_model_layer_name(m, layer),
             n > 1 ? ", a batch of images" : "");
    if (!act || !dc || !dg || !lc || !lg || n > MODEL_BATCH) goto done;
    /* The same activations on both (the CPU's), the classes the CPU predicts. */
    if (layer < 0)
        memcpy(act, input, sizeof(float) * all);
    else if (pixab_engine_body(ec, input, n, layer, act))
        goto fail;
    if (pixab_engine_head(ec, act, n, layer, lc)) goto fail;
    for (int i = 0; i < n; i++) cls[i] = argmax(lc + (size_t)classes * i, classes);
    if (n == 1 ? pixab_engine_gradient(ec, layer, act, seed_one_hot, cls, lc, dc) ||
                     pixab_engine_gradient(eg, layer, act, seed_one_hot, cls, lg, dg)
               : pixab_engine_gradient_batch(ec, layer, act, n, seed_one_hot_batch, cls, lc, dc) ||
                     pixab_engine_gradient_batch(eg, layer, act, n, seed_one_hot_batch, cls, lg, dg))
        goto fail;
    err = parity_rel_err(dg, dc, dc, all);
    goto done;
fail:
    fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
done:
    parity_record(what, err, TOL_MODEL);
    free(act), free(dc), free(dg), free(lc), free(lg);
}

/* Guided backpropagation (pixab_guided_backprop) of n <= MODEL_BATCH images,
 * each of the class the CPU predicts, on both engines. */
static void check_guided(const char *tag, pixab_model *m, pixab_engine *ec, pixab_engine *eg, const float *input,
                         int n) {
    char what[112];
    const int S = pixab_model_preproc(m)->size, classes = pixab_model_num_classes(m);
    const size_t all = (size_t)S * S * 3 * (size_t)n;
    int cls[MODEL_BATCH];
    float *dc = malloc(sizeof(float) * all), *dg = malloc(sizeof(float) * all);
    float *lc = malloc(sizeof(float) * (size_t)classes * n);
    double err = INFINITY;
    snprintf(what, sizeof what, "%s: guided backpropagation to the input%s", tag, n > 1 ? ", a batch of images" : "");
    if (dc && dg && lc && n <= MODEL_BATCH && !pixab_engine_forward(ec, input, n, lc)) {
        for (int i = 0; i < n; i++) cls[i] = argmax(lc + (size_t)classes * i, classes);
        if (pixab_guided_backprop(ec, input, n, cls, dc) || pixab_guided_backprop(eg, input, n, cls, dg))
            fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
        else
            err = parity_rel_err(dg, dc, dc, all);
    }
    parity_record(what, err, TOL_MODEL);
    free(dc), free(dg), free(lc);
}

/* One method's map on the CUDA engine against the CPU's (`ref`, made here
 * when NULL): max|Δ| relative to max|CPU|, or with rank_tol absolute and
 * 1 - Spearman; inf when either fails. */
static void compare_map(const char *what, pixab_engine *ec, pixab_engine *eg, const float *input, pixab_method method,
                        const pixab_explain_opts *o, const pixab_map *ref, double tol, double rank_tol) {
    pixab_map mc, mg;
    memset(&mc, 0, sizeof mc), memset(&mg, 0, sizeof mg);
    double err = INFINITY, rank = INFINITY;
    if ((!ref && pixab_explain(ec, input, &method, 1, o, &mc)) || pixab_explain(eg, input, &method, 1, o, &mg)) {
        fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
    } else {
        const pixab_map *c = ref ? ref : &mc;
        const size_t n = (size_t)c->h * c->w;
        err = rank_tol > 0.0 ? parity_max_abs(mg.map, c->map, n) : parity_rel_err(mg.map, c->map, c->map, n);
        rank = 1.0 - parity_spearman(mg.map, c->map, n);
    }
    if (rank_tol > 0.0) {
        parity_recordf(err, tol, "%s max|d|", what);
        parity_recordf(isnan(rank) ? INFINITY : rank, rank_tol, "%s 1-Spearman", what);
    } else {
        parity_record(what, err, tol);
    }
    pixab_map_free(&mc), pixab_map_free(&mg);
}

/* Every method's map, CUDA vs CPU: both layers, both scores, the top-1 and
 * another class (the CPU's second-ranked); `full`: Mixed_7c, softmax, top-1. */
static void check_methods(const char *tag, pixab_model *m, pixab_engine *ec, pixab_engine *eg, const float *input,
                          int full) {
    int second = -1;
    if (cpu_ranked(ec, input, pixab_model_num_classes(m), &second) < 0) return;
    for (int l = 0; l < (full ? 1 : 2); l++)
        for (int sc = 0; sc < (full ? 1 : 2); sc++)
            for (int c = 0; c < (full ? 1 : 2); c++)
                for (int me = 0; me < PIXAB_METHOD_COUNT; me++) {
                    if (full && me == PIXAB_METHOD_SCORECAM) continue;
                    pixab_explain_opts o;
                    memset(&o, 0, sizeof o);
                    o.layer = pixab_model_find_layer(m, layers[l]);
                    o.cls = c ? second : -1;
                    o.score = sc ? PIXAB_SCORE_LOGIT : PIXAB_SCORE_SOFTMAX;
                    if (o.layer < 0) continue;
                    char what[112];
                    snprintf(what, sizeof what, "%s: %s %s %s %s", tag, pixab_method_name((pixab_method)me), layers[l],
                             sc ? "logit" : "softmax", c ? "other" : "top1");
                    compare_map(what, ec, eg, input, (pixab_method)me, &o, NULL,
                                me == PIXAB_METHOD_SCORECAM ? TOL_SCORECAM : TOL_MAP, 0.0);
                }
}

/* Pixab-CAM's map and Ablation-CAM's weights through the general
 * (materialised) path; with `budget` > 0 the CUDA head is held to that many
 * bytes, so the batch runs in several chunks (the row names how many). */
static void check_general_path(const char *tag, pixab_model *m, pixab_engine *ec, pixab_engine *eg,
                               const float *input, const char *layer_name, size_t budget) {
    int layer = pixab_model_find_layer(m, layer_name), K, H, W;
    if (layer < 0 || pixab_model_layer_shape(m, layer, &K, &H, &W)) return;
    const int classes = pixab_model_num_classes(m), items = 2 + 8 * H * W;
    char chunks[48] = "";
    if (budget) { /* chunks = items / (images the budget holds) */
        const graph *g = engine_graph(eg);
        size_t *off = malloc(sizeof(size_t) * (size_t)g->n_tensors), per = 0;
        if (off) per = graph_plan_memory(g, 1, g->layers[layer].end_op, 1, off);
        free(off);
        size_t batch = per ? budget / sizeof(float) / per : 0;
        snprintf(chunks, sizeof chunks, ", head in %zu chunks", batch ? (items + batch - 1) / batch : (size_t)0);
        if (pixab_engine_set_head_budget(eg, budget)) return;
    }
    float *act = malloc(sizeof(float) * (size_t)K * H * W), *lg = malloc(sizeof(float) * (size_t)classes);
    float *pc = malloc(sizeof(float) * (size_t)H * W), *pg = malloc(sizeof(float) * (size_t)H * W);
    float *wc = malloc(sizeof(float) * (size_t)K), *wg = malloc(sizeof(float) * (size_t)K);
    static const int bh[] = {1, 1, 2, 2}, bw[] = {1, 2, 1, 2};
    double err = INFINITY, err_a = INFINITY;
    if (act && lg && pc && pg && wc && wg && !pixab_engine_forward(ec, input, 1, lg)) {
        cam_ctx cc = {.e = ec, .layer = layer, .H = H, .W = W, .K = K, .classes = classes, .cls = argmax(lg, classes),
                      .score = PIXAB_SCORE_SOFTMAX, .input = input, .size = pixab_model_preproc(m)->size,
                      .act = act, .logits = lg, .n_boxes = 4, .box_h = bh, .box_w = bw};
        cam_ctx cg = cc;
        cg.e = eg;
        if (engine_forward_keep(ec, input, 1, layer, act, lg) || cam_pixab(&cc, 1, 0, &pc) ||
            cam_ablation(&cc, 1, 0, &wc) || engine_forward_keep(eg, input, 1, layer, act, lg) ||
            cam_pixab(&cg, 1, 0, &pg) || cam_ablation(&cg, 1, 0, &wg))
            fprintf(stderr, "gpu_parity: %s: general path %s%s: %s\n", tag, layer_name, chunks, pixab_last_error());
        else
            err = parity_rel_err(pg, pc, pc, (size_t)H * W), err_a = parity_rel_err(wg, wc, wc, (size_t)K);
    }
    parity_recordf(err, TOL_MAP, "%s: pixab general path %s%s", tag, layer_name, chunks);
    parity_recordf(err_a, TOL_MAP, "%s: ablation weights, general path %s%s", tag, layer_name, chunks);
    if (budget) pixab_engine_set_head_budget(eg, 0);
    free(act), free(lg), free(pc), free(pg), free(wc), free(wg);
}

/* Every method below fp32 against the fp32 CPU map (made once), the CPU's top-1 class. */
static void check_precision_maps(const char *tag, pixab_model *m, pixab_engine *ec, pixab_engine *eg,
                                 const float *input) {
    const int top = cpu_ranked(ec, input, pixab_model_num_classes(m), NULL);
    if (top < 0) return;
    pixab_explain_opts opts[2];
    pixab_map ref[2][PIXAB_METHOD_COUNT];
    memset(ref, 0, sizeof ref);
    for (int l = 0; l < 2; l++) {
        memset(&opts[l], 0, sizeof opts[l]);
        opts[l].layer = pixab_model_find_layer(m, layers[l]);
        opts[l].cls = top;
        opts[l].score = PIXAB_SCORE_SOFTMAX;
        for (int me = 0; me < PIXAB_METHOD_COUNT && opts[l].layer >= 0; me++) {
            pixab_method method = (pixab_method)me;
            if (pixab_explain(ec, input, &method, 1, &opts[l], &ref[l][me])) {
                fprintf(stderr, "gpu_parity: %s: fp32 CPU map: %s\n", tag, pixab_last_error());
                opts[l].layer = -1;
            }
        }
    }
    const precision_limits *lims = parity_self_test ? self_test_limits : limits;
    const size_t n_lims = parity_self_test ? 1 : sizeof limits / sizeof limits[0];
    for (size_t p = 0; p < n_lims; p++) {
        const precision_limits *lim = &lims[p];
        const char *pname = pixab_precision_name((pixab_precision)lim->precision);
        if (pixab_engine_set_precision(eg, (pixab_precision)lim->precision)) {
            fprintf(stderr, "gpu_parity: %s: %s: %s\n", tag, pname, pixab_last_error());
            parity_recordf(INFINITY, 0.0, "%s: set precision %s", tag, pname);
            continue;
        }
        for (int l = 0; l < 2; l++)
            for (int me = 0; me < PIXAB_METHOD_COUNT; me++) {
                char what[112];
                snprintf(what, sizeof what, "%s: %s %s %s vs fp32", tag, pname, pixab_method_name((pixab_method)me),
                         layers[l]);
                const int gpp = me == PIXAB_METHOD_GRADCAMPP;
                if (opts[l].layer < 0)
                    parity_recordf(INFINITY, 0.0, "%s", what);
                else
                    compare_map(what, ec, eg, input, (pixab_method)me, &opts[l], &ref[l][me],
                                gpp ? lim->abs_gpp : lim->abs, gpp ? lim->rank_gpp : lim->rank);
            }
    }
    if (pixab_engine_set_precision(eg, PIXAB_PRECISION_FP32))
        parity_recordf(INFINITY, 0.0, "%s: back to fp32: %s", tag, pixab_last_error());
    for (int l = 0; l < 2; l++)
        for (int me = 0; me < PIXAB_METHOD_COUNT; me++) pixab_map_free(&ref[l][me]);
}

/* Device allocations failing one at a time. Engine creation: NOMEM and
 * nothing else, until there are fewer allocations than the failure's index.
 * Explanations (Pixab-CAM at Mixed_6e through the general path, so a head
 * plan with its own arena and workspaces): each call absorbs the failure
 * (the engine halves its head batch) or returns NOMEM, and the same engine
 * then gives the CPU's map. */
static void check_alloc_failures(const char *tag, pixab_model *m, pixab_engine *ec, const float *input) {
    int wrong = 0, k, creates = 0;
    pixab_engine *e = NULL;
    for (k = 1; k <= 200; k++) {
        cuda_backend_fail_alloc(k);
        pixab_status s = pixab_engine_create(m, parity_gpu_device, MODEL_BATCH, &e);
        const int fired = cuda_backend_fail_alloc(0);
        if (!s && !fired) break; /* fewer than k allocations: all tried */
        if (!s) { /* a failure absorbed inside create is fine too */
            pixab_engine_destroy(e);
            e = NULL;
        } else if (s != PIXAB_ERR_NOMEM) {
            wrong++;
            fprintf(stderr, "gpu_parity: create with allocation %d failing: %s (%s)\n", k, pixab_status_name(s),
                    pixab_last_error());
        }
        creates++;
    }
    parity_recordf(e ? wrong : INFINITY, 0.0, "%s: engine create, each of %d allocations failing: not NOMEM", tag,
                   creates);
    if (!e) return;
    pixab_explain_opts o;
    memset(&o, 0, sizeof o);
    o.layer = pixab_model_find_layer(m, "Mixed_6e");
    o.cls = -1;
    o.score = PIXAB_SCORE_SOFTMAX;
    pixab_method method = PIXAB_METHOD_PIXAB;
    pixab_map want;
    memset(&want, 0, sizeof want);
    if (o.layer < 0 || pixab_explain(ec, input, &method, 1, &o, &want)) {
        pixab_engine_destroy(e);
        return;
    }
    int absorbed = 0;
    for (k = 1; k <= 16; k++) {
        pixab_map got, again;
        memset(&got, 0, sizeof got), memset(&again, 0, sizeof again);
        /* A fresh head plan each time (the budget changes), a large one so that halving has room. */
        pixab_engine_set_head_budget(e, ((size_t)256 << 20) + (size_t)k);
        cuda_backend_fail_alloc(k);
        pixab_status s = pixab_explain(e, input, &method, 1, &o, &got);
        const int fired = cuda_backend_fail_alloc(0);
        double err = INFINITY;
        const size_t n = (size_t)want.h * want.w;
        if (!s) {
            absorbed += fired;
            err = parity_rel_err(got.map, want.map, want.map, n);
        } else if (s == PIXAB_ERR_NOMEM && !pixab_explain(e, input, &method, 1, &o, &again)) {
            err = parity_rel_err(again.map, want.map, want.map, n);
        } else {
            fprintf(stderr, "gpu_parity: explain with allocation %d failing: %s (%s)\n", k, pixab_status_name(s),
                    pixab_last_error());
        }
        parity_recordf(err, TOL_MAP, "%s: pixab Mixed_6e, allocation %d failing: %s", tag, k,
                       s ? "NOMEM, then the same engine" : fired ? "absorbed" : "(not reached)");
        pixab_map_free(&got), pixab_map_free(&again);
    }
    parity_recordf(absorbed ? 0.0 : 1.0, 0.0, "%s: a failed head allocation absorbed by halving (%d times)", tag,
                   absorbed);
    pixab_map_free(&want);
    pixab_engine_destroy(e);
}

/* Every Mixed_* output and the logits at batch MODEL_BATCH; the logits at BIG_BATCH. */
static void check_layers(const char *tag, pixab_model *m, pixab_engine *ec, pixab_engine *eg, const float *input) {
    const int L = pixab_model_num_layers(m), classes = pixab_model_num_classes(m);
    size_t most = (size_t)classes * BIG_BATCH;
    for (int l = 0; l < L; l++) {
        int c, h, w;
        if (!pixab_model_layer_shape(m, l, &c, &h, &w) && (size_t)c * h * w * MODEL_BATCH > most)
            most = (size_t)c * h * w * MODEL_BATCH;
    }
    float *ac = malloc(sizeof(float) * most), *ag = malloc(sizeof(float) * most);
    if (!ac || !ag) goto done;
    for (int l = 0; l < L; l++) {
        const char *name = pixab_model_layer_name(m, l);
        if (strncmp(name, "Mixed_", 6) && l != L - 1) continue;
        int c, h, w;
        pixab_model_layer_shape(m, l, &c, &h, &w);
        char what[112];
        snprintf(what, sizeof what, "%s: %s (n=%d)", tag, l == L - 1 ? "logits" : name, MODEL_BATCH);
        if (pixab_engine_body(ec, input, MODEL_BATCH, l, ac) || pixab_engine_body(eg, input, MODEL_BATCH, l, ag)) {
            fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
            parity_record(what, INFINITY, TOL_MODEL);
            continue;
        }
        parity_record(what, parity_rel_err(ag, ac, ac, (size_t)c * h * w * MODEL_BATCH), TOL_MODEL);
    }
    double err = INFINITY;
    if (!pixab_engine_forward(ec, input, BIG_BATCH, ac) && !pixab_engine_forward(eg, input, BIG_BATCH, ag))
        err = parity_rel_err(ag, ac, ac, (size_t)classes * BIG_BATCH);
    else
        fprintf(stderr, "gpu_parity: %s: batch %d: %s\n", tag, BIG_BATCH, pixab_last_error());
    parity_recordf(err, TOL_MODEL, "%s: logits (n=%d)", tag, BIG_BATCH);
    /* The same batch uploaded from the engine's page-locked memory (what explain uses): the same logits. */
    float *pinned = NULL;
    const size_t S = (size_t)pixab_engine_input_size(eg), in_bytes = sizeof(float) * 3 * S * S * BIG_BATCH;
    err = INFINITY;
    if (!pixab_engine_host_alloc(eg, in_bytes, (void **)&pinned)) {
        memcpy(pinned, input, in_bytes);
        if (!pixab_engine_forward(eg, pinned, BIG_BATCH, ac))
            err = parity_rel_err(ac, ag, ag, (size_t)classes * BIG_BATCH);
        pixab_engine_host_free(eg, pinned);
    }
    if (err == INFINITY) fprintf(stderr, "gpu_parity: %s: page-locked input: %s\n", tag, pixab_last_error());
    parity_recordf(err, 1e-6, "%s: logits (n=%d) from page-locked memory vs pageable", tag, BIG_BATCH);
done:
    free(ac), free(ag);
}

void check_model(const char *path, const char *tag, int full) {
    pixab_model *m = NULL;
    pixab_engine *ec = NULL, *eg = NULL;
    float *input = NULL;
    if (pixab_model_load(path, &m) || pixab_engine_create(m, "cpu", BIG_BATCH, &ec) ||
        pixab_engine_create(m, parity_gpu_device, BIG_BATCH, &eg)) {
        fprintf(stderr, "gpu_parity: %s (%s): %s\n", tag, path, pixab_last_error());
        parity_recordf(INFINITY, TOL_MODEL, "%s: engines", tag);
        goto done;
    }
    parity_recordf(strcmp(pixab_engine_device(eg), parity_gpu_device) != 0, 0.0, "%s: device '%s' runs as %s", tag,
                   parity_gpu_device, pixab_engine_device(eg));
    if (!(input = parity_model_input(pixab_model_preproc(m)->size, BIG_BATCH))) goto done;
    check_layers(tag, m, ec, eg, input);
    /* Backward through the head from two targets (max pools full of post-ReLU
     * ties on the way), and through the whole network from the input. */
    static const int grad_batch[] = {1, MODEL_BATCH};
    for (int b = 0; b < 2; b++) {
        for (int t = 0; t < 2; t++) {
            int l = pixab_model_find_layer(m, layers[t]);
            if (l >= 0) check_gradient(tag, m, ec, eg, l, input, grad_batch[b]);
        }
        check_gradient(tag, m, ec, eg, -1, input, grad_batch[b]);
        check_guided(tag, m, ec, eg, input, grad_batch[b]);
    }
    check_methods(tag, m, ec, eg, input, full);
    for (int l = 0; l < (full ? 1 : 2); l++) check_general_path(tag, m, ec, eg, input, layers[l], 0);
    if (!full) check_general_path(tag, m, ec, eg, input, "Mixed_6e", (size_t)4 << 20);
    if (!full && !parity_self_test) check_alloc_failures(tag, m, ec, input); /* none injected on the CPU */
done:
    free(input);
    pixab_engine_destroy(ec);
    pixab_engine_destroy(eg);
    pixab_model_free(m);
}

/* The image preprocessed on the GPU (pixab_explain_images: only its 8-bit
 * pixels uploaded, what explain does on CUDA) against the CPU's host
 * preprocessing: Pixab-CAM's and Grad-CAM's maps. */
static void check_images_path(pixab_model *m, pixab_engine *ec, pixab_engine *eg, const pixab_image *img,
                              const float *input) {
    const pixab_method ms[2] = {PIXAB_METHOD_PIXAB, PIXAB_METHOD_GRADCAM};
    const pixab_explain_opts o = {.layer = pixab_model_find_layer(m, "Mixed_7c"), .cls = -1};
    for (int i = 0; i < 2; i++) {
        pixab_map mc, mg;
        memset(&mc, 0, sizeof mc), memset(&mg, 0, sizeof mg);
        double err = INFINITY;
        if (pixab_explain(ec, input, &ms[i], 1, &o, &mc) ||
            pixab_explain_images(eg, img, 1, pixab_model_preproc(m), &ms[i], 1, &o, NULL, &mg))
            fprintf(stderr, "gpu_parity: demo: preprocessed on the device: %s\n", pixab_last_error());
        else
            err = parity_rel_err(mg.map, mc.map, mc.map, (size_t)mc.h * mc.w);
        parity_recordf(err, TOL_MAP, "demo: %s, the image preprocessed on the device", pixab_method_name(ms[i]));
        pixab_map_free(&mc), pixab_map_free(&mg);
    }
}

void check_precision_model(const char *path, const char *image) {
    pixab_model *m = NULL;
    pixab_engine *ec = NULL, *eg = NULL;
    pixab_image img = {0, 0, NULL};
    float *input = NULL;
    if (pixab_model_load(path, &m) || pixab_engine_create(m, "cpu", 1, &ec) ||
        pixab_engine_create(m, parity_gpu_device, 1, &eg)) {
        fprintf(stderr, "gpu_parity: demo (%s): %s\n", path, pixab_last_error());
        parity_recordf(INFINITY, 0.0, "demo: engines");
        goto done;
    }
    const pixab_preproc *pre = pixab_model_preproc(m);
    if (!image) {
        input = parity_model_input(pre->size, 1);
    } else if (!pixab_image_load(image, &img) && (input = malloc(sizeof(float) * 3 * (size_t)pre->size * pre->size)) &&
               pixab_image_preprocess(&img, pre, input)) {
        free(input);
        input = NULL;
    }
    if (!input) {
        fprintf(stderr, "gpu_parity: demo input %s: %s\n", image ? image : "(synthetic)", pixab_last_error());
        parity_recordf(INFINITY, 0.0, "demo: input");
        goto done;
    }
    check_precision_maps("demo", m, ec, eg, input);
    if (img.rgb) check_images_path(m, ec, eg, &img, input);
done:
    free(input);
    pixab_image_free(&img);
    pixab_engine_destroy(ec);
    pixab_engine_destroy(eg);
    pixab_model_free(m);
}

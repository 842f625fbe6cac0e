/* tasks.c — the evaluation suite's tasks (see tasks.h): explanations through
 * pixab_explain_batch (an image's classes, AE2's four targets, the sanity
 * check's images: one batch each), metrics from metrics.h, adversarial examples from
 * adversarial.h, randomised models from pixab_model_randomize. Every metric is scored
 * with the softmax probability, whatever score the maps used. */
#include "tasks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adversarial.h"
#include "error.h"
#include "rng.h"

pixab_status eval_ctx_init(eval_ctx *c) {
    size_t n = (size_t)c->n_methods * (size_t)(c->n_steps + 1);
    c->deletion = calloc(n, sizeof(double));
    c->insertion = calloc(n, sizeof(double));
    c->curve_n = 0;
    c->wsol = calloc((size_t)c->n_methods, sizeof *c->wsol);
    if (!c->deletion || !c->insertion || !c->wsol) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for the curves");
    return PIXAB_OK;
}

void eval_ctx_free(eval_ctx *c) {
    free(c->deletion);
    free(c->insertion);
    free(c->wsol);
    c->deletion = c->insertion = NULL;
    c->wsol = NULL;
}

static int input_size(const eval_ctx *c) { return pixab_model_preproc(c->m)->size; }

/* Maps of every method for class cls (-1: top-1) and their upsampled
 * versions sal (n_methods, S, S). */
typedef struct {
    pixab_map maps[PIXAB_METHOD_COUNT];
    float *sal;
    int n;
} explained;

static void explained_free(explained *x) {
    for (int k = 0; k < x->n; k++) pixab_map_free(&x->maps[k]);
    free(x->sal);
    memset(x, 0, sizeof *x);
}

/* Every method's maps for n inputs (n, S, S, 3) at once (pixab_explain_batch:
 * one body pass and one backward for a batch of them), input i for class
 * cls[i] (-1: its top-1): x[i] (n of them). */
static pixab_status explain_n(eval_ctx *c, pixab_engine *e, const float *inputs, int n, const int *cls, explained *x) {
    const int S = input_size(c), M = c->n_methods;
    memset(x, 0, sizeof *x * (size_t)n);
    pixab_map *maps = malloc(sizeof *maps * (size_t)n * M);
    if (!maps) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for maps");
    pixab_status s = pixab_explain_batch(e, inputs, n, c->methods, M, &c->opts, cls, maps);
    for (int i = 0; i < n && !s; i++) {
        memcpy(x[i].maps, maps + (size_t)i * M, sizeof *maps * (size_t)M);
        x[i].n = M;
    }
    free(maps);
    for (int i = 0; i < n && !s; i++) {
        if (!(x[i].sal = malloc(sizeof(float) * (size_t)S * S * M)))
            s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for upsampled maps");
        for (int k = 0; k < M && !s; k++)
            s = pixab_map_upsample(x[i].maps[k].map, x[i].maps[k].h, x[i].maps[k].w, S, S,
                                   x[i].sal + (size_t)k * S * S);
    }
    if (s)
        for (int i = 0; i < n; i++) explained_free(&x[i]);
    return s;
}

static pixab_status explain_all(eval_ctx *c, pixab_engine *e, const float *input, int cls, explained *x) {
    return explain_n(c, e, input, 1, &cls, x);
}

/* n copies of one input (S, S, 3), for a batch of its classes; NULL when out of memory. */
static float *copies(const eval_ctx *c, const float *input, int n) {
    const size_t floats = (size_t)input_size(c) * input_size(c) * 3;
    float *x = malloc(sizeof(float) * floats * (size_t)n);
    for (int i = 0; i < n && x; i++) memcpy(x + floats * i, input, sizeof(float) * floats);
    return x;
}

static const char *method(const eval_ctx *c, int k) { return pixab_method_name(c->methods[k]); }

/* PG and OL of every method's map against boxes, under `task`. */
static pixab_status add_localisation(eval_ctx *c, const explained *x, const char *task, const metrics_box *boxes,
                                     int n_boxes) {
    const int S = input_size(c);
    pixab_status s = PIXAB_OK;
    for (int k = 0; k < c->n_methods && !s; k++) {
        const float *sal = x->sal + (size_t)k * S * S;
        s = eval_table_add(c->table, method(c, k), task, "PG",
                           metrics_pointing_game(sal, S, boxes, n_boxes, METRICS_PG_TOLERANCE));
        if (!s) s = eval_table_add(c->table, method(c, k), task, "OL", metrics_object_localisation(sal, S, boxes, n_boxes));
    }
    return s;
}

/* AD, IIC, compactness, deletion and insertion of the top-1 maps. */
static pixab_status add_faithfulness(eval_ctx *c, const float *input, const explained *x) {
    const int S = input_size(c), M = c->n_methods, np = c->n_steps + 1;
    const size_t in_floats = (size_t)S * S * 3;
    float *inputs = malloc(sizeof(float) * in_floats * M), *curve = malloc(sizeof(float) * (size_t)np);
    float y[PIXAB_METHOD_COUNT], o[PIXAB_METHOD_COUNT];
    int cls[PIXAB_METHOD_COUNT];
    pixab_status s = PIXAB_OK;
    if (!inputs || !curve) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for the faithfulness metrics");
        goto done;
    }
    for (int k = 0; k < M; k++) {
        memcpy(inputs + in_floats * k, input, sizeof(float) * in_floats);
        cls[k] = x->maps[k].cls;
    }
    if ((s = metrics_confidence(c->e, inputs, x->sal, cls, M, y, o))) goto done;
    for (int k = 0; k < M && !s; k++) {
        const float *sal = x->sal + (size_t)k * S * S;
        double auc;
        if ((s = eval_table_add(c->table, method(c, k), "MOD", "AD", metrics_average_drop(&y[k], &o[k], 1))) ||
            (s = eval_table_add(c->table, method(c, k), "MOD", "IIC", metrics_increase_in_confidence(&y[k], &o[k], 1))) ||
            (s = eval_table_add(c->table, method(c, k), "MOD", "compactness", metrics_compactness(sal, S * S))))
            break;
        for (int which = 0; which < 2 && !s; which++) {
            s = which ? metrics_insertion(c->e, input, sal, cls[k], c->n_steps, curve, &auc)
                      : metrics_deletion(c->e, input, sal, cls[k], c->n_steps, curve, &auc);
            if (!s) s = eval_table_add(c->table, method(c, k), "MOD", which ? "insertion_auc" : "deletion_auc", auc);
            double *sum = (which ? c->insertion : c->deletion) + (size_t)k * np;
            for (int i = 0; i < np && !s; i++) sum[i] += curve[i];
        }
    }
    if (!s) c->curve_n++;
done:
    free(inputs);
    free(curve);
    return s;
}

pixab_status eval_mod(eval_ctx *c, const float *input, const metrics_box *boxes, const int *classes, int n_objects) {
    /* One batch: the top-1 class (found by a forward pass), then every other
     * class present, once each. */
    const int n_classes = pixab_model_num_classes(c->m);
    int *cls = malloc(sizeof(int) * (size_t)(n_objects + 1));
    float *logits = malloc(sizeof(float) * (size_t)n_classes), *inputs = NULL;
    metrics_box *mine = malloc(sizeof *mine * (size_t)(n_objects ? n_objects : 1));
    explained *x = calloc((size_t)n_objects + 1, sizeof *x);
    int n = 1;
    pixab_status s = cls && logits && mine && x ? PIXAB_OK : pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    if (!s) s = pixab_engine_forward(c->e, input, 1, logits);
    if (!s) {
        cls[0] = 0;
        for (int k = 1; k < n_classes; k++) cls[0] = logits[k] > logits[cls[0]] ? k : cls[0];
        for (int i = 0; i < n_objects; i++) {
            int seen = 0;
            for (int j = 0; j < n; j++) seen |= cls[j] == classes[i];
            if (!seen) cls[n++] = classes[i];
        }
        if (!(inputs = copies(c, input, n))) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    }
    if (!s && !(s = explain_n(c, c->e, inputs, n, cls, x))) s = add_faithfulness(c, input, &x[0]);
    /* Every class present (once), against its own boxes. */
    for (int i = 0; i < n_objects && !s; i++) {
        int seen = 0, nb = 0, at = 0;
        for (int j = 0; j < i; j++) seen |= classes[j] == classes[i];
        if (seen) continue;
        for (int j = i; j < n_objects; j++)
            if (classes[j] == classes[i]) mine[nb++] = boxes[j];
        while (cls[at] != classes[i]) at++;
        s = add_localisation(c, &x[at], "MOD", mine, nb);
    }
    for (int j = 0; j < n && x; j++) explained_free(&x[j]);
    free(x);
    free(cls);
    free(logits);
    free(inputs);
    free(mine);
    return s;
}

pixab_status eval_wsol(eval_ctx *c, const float *input, int img_w, int img_h, const metrics_box *boxes,
                       const int *classes, int n_objects) {
    /* One batch: every class present, once each. */
    int *cls = malloc(sizeof(int) * (size_t)(n_objects ? n_objects : 1)), n = 0;
    metrics_box *mine = malloc(sizeof *mine * (size_t)(n_objects ? n_objects : 1));
    float *sal = malloc(sizeof(float) * (size_t)img_w * (size_t)img_h), *inputs = NULL;
    explained *x = calloc((size_t)(n_objects ? n_objects : 1), sizeof *x);
    pixab_status s = cls && mine && sal && x ? PIXAB_OK : pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n_objects && !s; i++) {
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= cls[j] == classes[i];
        if (!seen) cls[n++] = classes[i];
    }
    if (!s && n && !(inputs = copies(c, input, n))) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    if (!s && n) s = explain_n(c, c->e, inputs, n, cls, x);
    for (int j = 0; j < n && !s; j++) {
        int nb = 0;
        for (int i = 0; i < n_objects; i++)
            if (classes[i] == cls[j]) mine[nb++] = boxes[i];
        for (int k = 0; k < c->n_methods && !s; k++) {
            const pixab_map *mp = &x[j].maps[k];
            double iou = 0.0;
            s = pixab_map_upsample(mp->map, mp->h, mp->w, img_h, img_w, sal);
            if (!s) s = wsol_observe(sal, img_w, img_h, c->wsol_threshold, mine, nb, &c->wsol[k], &iou);
            if (!s) s = eval_table_add(c->table, method(c, k), "wsol", "loc_acc", iou >= WSOL_IOU_HIT);
            if (!s) s = eval_table_add(c->table, method(c, k), "wsol", "miou", iou);
        }
    }
    for (int j = 0; j < n && x; j++) explained_free(&x[j]);
    free(x), free(cls), free(mine), free(sal), free(inputs);
    return s;
}

pixab_status eval_wsol_finish(eval_ctx *c) {
    pixab_status s = PIXAB_OK;
    for (int k = 0; k < c->n_methods && !s; k++) {
        const wsol_tally *t = &c->wsol[k];
        float best;
        const double acc = wsol_max_box_acc(t, &best);
        if (!t->n) continue;
        long hits = (long)llround(acc * (double)t->n);
        for (long i = 0; i < t->n && !s; i++) s = eval_table_add(c->table, method(c, k), "wsol", "maxboxacc", i < hits);
        if (!s) s = eval_table_add(c->table, method(c, k), "wsol", "maxboxacc_threshold", best);
    }
    return s;
}

static adv_fgsm_opts fgsm_opts(const eval_ctx *c) { return (adv_fgsm_opts){.max_steps = c->fgsm_steps}; }

pixab_status eval_dap1(eval_ctx *c, const float *input, const int *classes, int n_objects, uint64_t seed) {
    const int S = input_size(c), n_classes = pixab_model_num_classes(c->m);
    /* The target: a class absent from the image, drawn from the seed. */
    int *absent = malloc(sizeof(int) * (size_t)n_classes), n_absent = 0;
    if (!absent) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    for (int k = 0; k < n_classes; k++) {
        int present = 0;
        for (int j = 0; j < n_objects; j++) present |= classes[j] == k;
        if (!present) absent[n_absent++] = k;
    }
    rng r = rng_make(seed, 1);
    int target = n_absent ? absent[rng_int(&r, 0, n_absent - 1)] : -1;
    free(absent);
    if (target < 0) return PIXAB_OK; /* every class is in the image: no AE1 */
    float *adv = malloc(sizeof(float) * (size_t)S * S * 3);
    if (!adv) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    adv_ae1 ae;
    adv_fgsm_opts fo = fgsm_opts(c);
    pixab_status s = adv_make_ae1(c->e, pixab_model_preproc(c->m), input, target, 0, seed, &fo, adv, NULL, &ae);
    if (!s && !(s = eval_table_add(c->table, "fgsm", "DAP1", "success_zero", ae.on_zero.success)) &&
        !(s = eval_table_add(c->table, "fgsm", "DAP1", "success_pasted", ae.on_real.success)) &&
        !(s = eval_table_add(c->table, "fgsm", "DAP1", "steps", ae.on_zero.steps))) {
        explained x;
        if (!(s = explain_all(c, c->e, adv, target, &x))) {
            s = add_localisation(c, &x, "DAP1", ae.boxes, ae.n);
            explained_free(&x);
        }
    }
    free(adv);
    return s;
}

/* #COP of one channel-weight map: of the top-N channels by weight, those
 * covering the target's patch and at least one other. cover: (K, 4) cache,
 * -1 = not yet known. */
static int count_cop(const float *act, int H, int W, int K, int S, const float *weights, const adv_ae2 *ae, int target,
                     signed char *cover, int *top) {
    int n_top = metrics_top_n(weights, K, METRICS_TOP_N_DEFAULT, top), count = 0;
    for (int t = 0; t < n_top; t++) {
        int k = top[t], other = 0;
        for (int p = 0; p < ADV_AE2_PATCHES; p++)
            if (cover[k * ADV_AE2_PATCHES + p] < 0)
                cover[k * ADV_AE2_PATCHES + p] =
                    (signed char)metrics_channel_covers(act, H, W, K, k, S, ae->boxes[p]);
        for (int p = 0; p < ADV_AE2_PATCHES; p++) other |= p != target && cover[k * ADV_AE2_PATCHES + p];
        count += cover[k * ADV_AE2_PATCHES + target] && other;
    }
    return count;
}

pixab_status eval_dap2(eval_ctx *c, uint64_t seed) {
    const int S = input_size(c), layer = c->opts.layer;
    int K, H, W;
    pixab_status s = pixab_model_layer_shape(c->m, layer, &K, &H, &W);
    if (s) return s;
    float *adv = malloc(sizeof(float) * (size_t)S * S * 3), *act = malloc(sizeof(float) * (size_t)H * W * K);
    signed char *cover = malloc((size_t)K * ADV_AE2_PATCHES);
    int *top = malloc(sizeof(int) * (size_t)K);
    pixab_map activation = {0};
    adv_ae2 ae;
    adv_fgsm_opts fo = fgsm_opts(c);
    if (!adv || !act || !cover || !top) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for AE2");
        goto done;
    }
    memset(cover, -1, (size_t)K * ADV_AE2_PATCHES);
    if ((s = adv_make_ae2(c->e, pixab_model_preproc(c->m), NULL, seed, &fo, adv, &ae)) ||
        (s = eval_table_add(c->table, "fgsm", "DAP2", "success_top4", ae.in_top4 == ADV_AE2_PATCHES)) ||
        (s = pixab_engine_body(c->e, adv, 1, layer, act)))
        goto done;
    /* Activation-CAM's map, the DOA reference (class independent). */
    pixab_method am = PIXAB_METHOD_ACTIVATION;
    pixab_explain_opts o = c->opts;
    if ((s = pixab_explain(c->e, adv, &am, 1, &o, &activation))) goto done;
    /* The four targets' maps: one batch of the composite four times. */
    explained x[ADV_AE2_PATCHES];
    float *inputs = copies(c, adv, ADV_AE2_PATCHES);
    if (!inputs) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for AE2");
    if (!s) s = explain_n(c, c->e, inputs, ADV_AE2_PATCHES, ae.targets, x);
    free(inputs);
    if (s) goto done;
    for (int i = 0; i < ADV_AE2_PATCHES && !s; i++) {
        if ((s = eval_table_add(c->table, "fgsm", "DAP2", "success_patch", ae.patch[i].success))) break;
        s = add_localisation(c, &x[i], "DAP2", &ae.boxes[i], 1);
        for (int k = 0; k < c->n_methods && !s; k++) {
            const pixab_map *mp = &x[i].maps[k];
            if (mp->method != PIXAB_METHOD_ACTIVATION)
                s = eval_table_add(c->table, method(c, k), "DAP2", "DOA",
                                   metrics_cosine_distance(mp->map, activation.map, mp->h * mp->w));
            if (!s && mp->weights)
                s = eval_table_add(c->table, method(c, k), "DAP2", "COP",
                                   count_cop(act, H, W, K, S, mp->weights, &ae, i, cover, top));
        }
    }
    for (int i = 0; i < ADV_AE2_PATCHES; i++) explained_free(&x[i]);
done:
    pixab_map_free(&activation);
    free(adv);
    free(act);
    free(cover);
    free(top);
    return s;
}

int eval_sanity_steps(const pixab_model *m, int *layers, int cap) {
    int last = pixab_model_find_layer(m, "Mixed_5b"), n = 0;
    if (last < 0) last = 0;
    for (int l = pixab_model_num_layers(m) - 1; l >= last && n < cap; l--)
        if (pixab_model_layer_num_params(m, l)) layers[n++] = l;
    pixab_clear_error();
    return n;
}

pixab_status eval_sanity(eval_ctx *c, const float *inputs, int n, const char *device, int batch, uint64_t seed) {
    const int M = c->n_methods;
    int steps[EVAL_MAX_SANITY], n_steps = eval_sanity_steps(c->m, steps, EVAL_MAX_SANITY);
    explained *orig = calloc((size_t)n, sizeof *orig), *x = calloc((size_t)n, sizeof *x);
    int *cls = malloc(sizeof(int) * (size_t)n);
    pixab_status s = orig && x && cls ? PIXAB_OK : pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    /* The trained model's maps, then each randomised model's: all n images one batch. */
    for (int i = 0; i < n && !s; i++) cls[i] = -1;
    if (!s) s = explain_n(c, c->e, inputs, n, cls, orig);
    for (int i = 0; i < n && !s; i++) cls[i] = orig[i].maps[0].cls;
    for (int st = 0; st < n_steps && !s; st++) {
        pixab_model *rm = NULL;
        pixab_engine *re = NULL;
        char metric[48];
        snprintf(metric, sizeof metric, "spearman_%s", pixab_model_layer_name(c->m, steps[st]));
        if (!(s = pixab_model_randomize(c->m, steps[st], seed, &rm)) && !(s = pixab_engine_create(rm, device, batch, &re)) &&
            !(s = explain_n(c, re, inputs, n, cls, x))) {
            for (int i = 0; i < n && !s; i++)
                for (int k = 0; k < M && !s; k++) {
                    const pixab_map *a = &orig[i].maps[k], *b = &x[i].maps[k];
                    s = eval_table_add(c->table, method(c, k), "sanity", metric,
                                       metrics_spearman(a->map, b->map, a->h * a->w));
                }
            for (int i = 0; i < n; i++) explained_free(&x[i]);
        }
        if (s) pixab_fail_context(s, "randomised from %s", pixab_model_layer_name(c->m, steps[st]));
        pixab_engine_destroy(re);
        pixab_model_free(rm);
    }
    for (int i = 0; i < n && orig; i++) explained_free(&orig[i]);
    free(orig);
    free(x);
    free(cls);
    return s;
}

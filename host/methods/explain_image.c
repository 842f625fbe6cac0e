/* explain_image.c — pixab_explain_batch and pixab_explain: one body forward
 * for a batch of images to the target layer, each image's class and score
 * chosen, one batched backward pass shared by the gradient methods of all of
 * them, then each requested method (the table of cam_methods below) on its
 * activation, each map ReLU'd and min-max normalised (public API, pixab.h);
 * pixab_explain_images the same from 8-bit images preprocessed on the backend;
 * the boxes option, freeing and upsampling maps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cam.h"
#include "error.h"
#include "graph.h"
#include "preprocess.cuh"

pixab_status pixab_parse_boxes(const char *text, pixab_explain_opts *opts) {
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long h = strtol(p, &end, 10), w;
        if (end == p || (*end != 'x' && *end != 'X')) goto bad;
        p = end + 1;
        w = strtol(p, &end, 10);
        if (end == p || h < 1 || w < 1 || h > 64 || w > 64 || n == PIXAB_MAX_BOXES) goto bad;
        opts->box_h[n] = (int)h;
        opts->box_w[n++] = (int)w;
        p = end;
        if (*p == ',') p++;
        else if (*p) goto bad;
    }
    if (!n) goto bad;
    opts->n_boxes = n;
    return PIXAB_OK;
bad:
    return pixab_fail(PIXAB_ERR_ARG, "boxes '%s': expected HxW[,HxW...] with 1 <= H, W <= 64, at most %d boxes",
                      text, PIXAB_MAX_BOXES);
}

/* Every method, indexed by pixab_method. */
static const cam_method *const cam_methods[PIXAB_METHOD_COUNT] = {
    [PIXAB_METHOD_PIXAB] = &cam_method_pixab,         [PIXAB_METHOD_ABLATION] = &cam_method_ablation,
    [PIXAB_METHOD_ACTIVATION] = &cam_method_activation, [PIXAB_METHOD_GRADCAM] = &cam_method_gradcam,
    [PIXAB_METHOD_GRADCAMPP] = &cam_method_gradcampp, [PIXAB_METHOD_XGRADCAM] = &cam_method_xgradcam,
    [PIXAB_METHOD_SCORECAM] = &cam_method_scorecam};

static const cam_method *find_method(pixab_method m) {
    return m >= 0 && m < PIXAB_METHOD_COUNT ? cam_methods[m] : NULL;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e3 * (double)t.tv_sec + 1e-6 * (double)t.tv_nsec;
}

/* The gradients the gradient methods of an image share: dS/dA for the
 * image's class and `score`, and their share of the batched backward's time
 * (charged to the first of them). */
typedef struct {
    const float *g;               /* (H, W, K), or NULL: none shared */
    pixab_score score;
    double ms;
} shared_grad;

/* Method m on the n images of cs (the kept batch): image i's map into
 * maps[i * stride], ReLU'd and min-max normalised on the engine's backend;
 * the channel-weight methods also leave their weights there (allocated
 * here). A method that runs several images at once (run_images) charges each
 * an equal share of the time. */
static pixab_status explain_method(cam_ctx *cs, int n, const cam_method *m, pixab_score score, shared_grad *sg,
                                   pixab_map *maps, int stride) {
    const size_t hw = (size_t)cs->H * cs->W;
    float **out = malloc(sizeof(float *) * (size_t)n);
    pixab_status s = out ? PIXAB_OK : pixab_fail(PIXAB_ERR_NOMEM, "out of memory for maps");
    for (int i = 0; i < n && !s; i++) {
        cam_ctx *c = &cs[i];
        pixab_map *map = &maps[(size_t)i * stride];
        c->score = score != PIXAB_SCORE_DEFAULT ? score : m->default_score;
        c->grad = sg[i].g && c->score == sg[i].score ? sg[i].g : NULL;
        *map = (pixab_map){.method = m->id, .h = c->H, .w = c->W, .cls = c->cls, .score_kind = c->score,
                           .score = cam_score(c->logits, c->classes, c->cls, c->score), .k = c->K};
        map->map = malloc(sizeof(float) * hw);
        if (m->channel_weights) map->weights = malloc(sizeof(float) * (size_t)c->K);
        if (!map->map || (m->channel_weights && !map->weights)) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for a map");
        out[i] = m->channel_weights ? map->weights : map->map;
    }
    double t0 = now_ms();
    if (!s && m->run_images) {
        s = m->run_images(cs, n, out);
        const double now = now_ms();
        for (int i = 0; i < n; i++) maps[(size_t)i * stride].ms = (now - t0) / n;
        t0 = now;
    }
    for (int i = 0; i < n && !s; i++) {
        pixab_map *map = &maps[(size_t)i * stride];
        if (!m->run_images) s = m->run(&cs[i], out[i]);
        if (!s && m->channel_weights) s = cam_weighted_map(&cs[i], map->weights, map->map);
        map->ms += now_ms() - t0;
        if (cs[i].grad) map->ms += sg[i].ms, sg[i].ms = 0.0;
        t0 = now_ms();
    }
    free(out);
    return s ? pixab_fail_context(s, "%s", pixab_method_name(m->id)) : PIXAB_OK;
}

/* What a batch is made of: preprocessed inputs (n, S, S, 3), or 8-bit
 * images preprocessed on the engine's backend with pre. */
typedef struct {
    const float *inputs;
    const pixab_image *images;
    const pixab_preproc *pre;
} explain_source;

/* The first gradient method of the list, or NULL. */
static const cam_method *first_gradient_method(const pixab_method *methods, int n_methods) {
    for (int i = 0; i < n_methods; i++)
        if (find_method(methods[i])->gradient) return find_method(methods[i]);
    return NULL;
}

/* Images [i0, i0 + n) of a batch, n <= the engine's batch: one body forward,
 * one backward for the gradient methods of all n images (when there are
 * any), then each method on the n images. */
static pixab_status explain_group(const cam_ctx *c, const explain_source *src, int i0, int n,
                                  const pixab_method *methods, int n_methods, const pixab_explain_opts *opts,
                                  const int *cls, pixab_map *maps) {
    const size_t hwk = (size_t)c->H * c->W * c->K, pixels = (size_t)c->size * c->size * 3;
    const cam_method *gm = first_gradient_method(methods, n_methods);
    float *act = malloc(sizeof(float) * hwk * (size_t)n), *logits = malloc(sizeof(float) * (size_t)c->classes * n);
    float *grad = gm ? malloc(sizeof(float) * hwk * (size_t)n) : NULL;
    int *classes = malloc(sizeof(int) * (size_t)n);
    cam_ctx *cs = malloc(sizeof(cam_ctx) * (size_t)n);
    shared_grad *sg = calloc((size_t)n, sizeof(shared_grad));
    pixab_status s = PIXAB_OK;
    if (!act || !logits || !classes || (gm && !grad) || !cs || !sg)
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for the layer's activations");
    /* One forward, the layer's activations kept on the backend for the methods. */
    if (!s)
        s = src->images ? engine_forward_keep_images(c->e, src->images + i0, n, src->pre, c->layer, act, logits)
                        : engine_forward_keep(c->e, src->inputs + pixels * (size_t)i0, n, c->layer, act, logits);
    for (int i = 0; i < n && !s; i++) {
        const float *l = logits + (size_t)c->classes * i;
        classes[i] = cls ? cls[i0 + i] : opts->cls;
        if (classes[i] < 0)
            for (int k = classes[i] = 0; k < c->classes; k++) classes[i] = l[k] > l[classes[i]] ? k : classes[i];
    }
    const pixab_score grad_score = gm && opts->score != PIXAB_SCORE_DEFAULT ? opts->score : gm ? gm->default_score : 0;
    double t0 = now_ms();
    if (!s && gm && (s = cam_gradients(c->e, c->layer, act, n, classes, grad_score, 0, grad)))
        pixab_fail_context(s, "%s", pixab_method_name(gm->id));
    const double grad_ms = (now_ms() - t0) / n;
    for (int i = 0; i < n && !s; i++) {
        cs[i] = *c;
        cs[i].image = i;
        cs[i].input = src->images ? NULL : src->inputs + pixels * (size_t)(i0 + i);
        cs[i].act = act + hwk * (size_t)i;
        cs[i].logits = logits + (size_t)c->classes * i;
        cs[i].cls = classes[i];
        sg[i] = (shared_grad){.g = grad ? grad + hwk * (size_t)i : NULL, .score = grad_score, .ms = grad_ms};
    }
    for (int j = 0; j < n_methods && !s; j++)
        s = explain_method(cs, n, find_method(methods[j]), opts->score, sg, maps + (size_t)i0 * n_methods + j,
                           n_methods);
    free(act);
    free(logits);
    free(grad);
    free(classes);
    free(cs);
    free(sg);
    return s;
}

static pixab_status explain_batch(pixab_engine *e, const explain_source *src, int n, const pixab_method *methods,
                                  int n_methods, const pixab_explain_opts *opts, const int *cls, pixab_map *maps) {
    const graph *g = engine_graph(e);
    const int classes = pixab_engine_num_classes(e), batch = pixab_engine_max_batch(e);
    static const int default_h[] = {1, 1, 2, 2}, default_w[] = {1, 2, 1, 2};
    if (n < 1) return pixab_fail(PIXAB_ERR_ARG, "a batch of %d images", n);
    for (int i = 0; i < n_methods; i++)
        if (!find_method(methods[i])) return pixab_fail(PIXAB_ERR_ARG, "method %d out of range", (int)methods[i]);
    for (int i = 0; i < n * n_methods; i++) maps[i] = (pixab_map){.method = methods[i % n_methods]};
    if (opts->layer < 0 || opts->layer >= g->n_layers - 2) /* avgpool and fc have no spatial map */
        return pixab_fail(PIXAB_ERR_ARG, "layer index %d cannot be explained (a convolutional layer is needed)",
                          opts->layer);
    for (int i = 0; i < (cls ? n : 1); i++) {
        const int c = cls ? cls[i] : opts->cls;
        if (c < -1 || c >= classes)
            return pixab_fail(PIXAB_ERR_ARG, "class %d out of range (the model has %d classes: 0 to %d)", c, classes,
                              classes - 1);
    }
    const tshape *ts = &g->tensors[g->layers[opts->layer].out];
    cam_ctx c = {.e = e, .layer = opts->layer, .H = ts->h, .W = ts->w, .K = ts->c, .classes = classes,
                 .size = g->input_size, .n_boxes = opts->n_boxes, .box_h = opts->box_h, .box_w = opts->box_w};
    if (!opts->n_boxes) c.n_boxes = 4, c.box_h = default_h, c.box_w = default_w;
    pixab_status s = PIXAB_OK;
    for (int i0 = 0; i0 < n && !s; i0 += batch)
        s = explain_group(&c, src, i0, n - i0 < batch ? n - i0 : batch, methods, n_methods, opts, cls, maps);
    if (s)
        for (int i = 0; i < n * n_methods; i++) pixab_map_free(&maps[i]);
    return s;
}

pixab_status pixab_explain_batch(pixab_engine *e, const float *inputs, int n, const pixab_method *methods,
                                 int n_methods, const pixab_explain_opts *opts, const int *cls, pixab_map *maps) {
    const explain_source src = {.inputs = inputs};
    return explain_batch(e, &src, n, methods, n_methods, opts, cls, maps);
}

pixab_status pixab_explain_images(pixab_engine *e, const pixab_image *images, int n, const pixab_preproc *p,
                                  const pixab_method *methods, int n_methods, const pixab_explain_opts *opts,
                                  const int *cls, pixab_map *maps) {
    const explain_source src = {.images = images, .pre = p};
    if (!images || !p) return pixab_fail(PIXAB_ERR_ARG, "pixab_explain_images: NULL %s", images ? "preproc" : "images");
    return explain_batch(e, &src, n, methods, n_methods, opts, cls, maps);
}

pixab_status pixab_explain(pixab_engine *e, const float *input, const pixab_method *methods, int n_methods,
                           const pixab_explain_opts *opts, pixab_map *maps) {
    return pixab_explain_batch(e, input, 1, methods, n_methods, opts, NULL, maps);
}

void pixab_map_free(pixab_map *m) {
    free(m->map);
    free(m->weights);
    m->map = m->weights = NULL;
}

pixab_status pixab_map_upsample(const float *map, int h, int w, int out_h, int out_w, float *out) {
    if (h < 1 || w < 1 || out_h < 1 || out_w < 1)
        return pixab_fail(PIXAB_ERR_ARG, "cannot resize a %dx%d map to %dx%d", h, w, out_h, out_w);
    for (int y = 0; y < out_h; y++) {
        bilinear_tap ty = bilinear_axis(y, h, out_h);
        for (int x = 0; x < out_w; x++) out[(size_t)y * out_w + x] = bilinear_sample_f32(map, w, 1, ty, bilinear_axis(x, w, out_w));
    }
    return PIXAB_OK;
}

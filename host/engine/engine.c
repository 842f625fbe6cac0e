/* engine.c — pixab_engine: a model's graph on one backend. Three memory plans,
 * each allocated once: the body plan (whole graph, the engine's batch), the
 * head plan (ops after a target layer, as many images as a memory budget
 * holds: the methods' ablation batches) and the gradient plan (the images of
 * a backward batch, as many as the same budget holds, no memory reuse, with
 * a gradient arena: the backward pass). Public API in
 * pixab.h, the methods' entry points in engine.h. Backends:
 * host/backends/cpu/cpu_backend.c, kernels/cuda_backend.cu. */
#include "engine.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#ifdef PIXAB_WITH_CUDA
#include "cuda_backend.h"
#endif
#include "error.h"
#include "model.h"
#include "preprocess.cuh"

/* Head batches: as many images as fit in the head budget
 * (pixab_engine_set_head_budget). Without one: HEAD_DEFAULT_BYTES on the CPU;
 * on a device (memory_info) half its memory free when the head is planned
 * (the body plan and the weights are allocated by then), capped at
 * HEAD_DEVICE_MAX_BYTES and never below HEAD_DEVICE_MIN_BYTES (nor above
 * what is free). */
#define HEAD_DEFAULT_BYTES ((size_t)256 << 20)
#define HEAD_DEVICE_MIN_BYTES ((size_t)64 << 20)
#define HEAD_DEVICE_MAX_BYTES ((size_t)8 << 30)
#define HEAD_MAX_BATCH 4096

/* Items of several images' heads share the head plan's chunks: image j's
 * items start at offset off[j] of one stream, aligned to HEAD_ITEM_ALIGN items
 * when the plan's batch is a multiple of it (else to the batch: a chunk per
 * image), so that an item meets the same place modulo HEAD_ITEM_ALIGN in its
 * chunk as when its image runs alone. Backends whose GEMMs round a row by its
 * place in the call (the CPU's FC row groups, cpu_backend.c) then give an
 * image the same values at every explain batch. The rows between two
 * images' items are zeroed. */
#define HEAD_ITEM_ALIGN 16

typedef struct {
    int first_op, batch;     /* ops [first_op, n_ops) on up to `batch` images */
    float *arena, *grad;     /* backend memory; grad only in the gradient plan */
    size_t floats;           /* size of arena (and grad) */
    size_t *offsets;         /* (n_tensors) floats into arena (and grad) */
} plan;

/* The images kept on the backend for the heads (engine_run_head), and what
 * they produce there (all backend memory, grown on demand). */
typedef struct {
    int layer;               /* -1: nothing kept */
    int n;                   /* images kept */
    float *input;            /* (n, S, S, 3) the images */
    float *act;              /* (n, H, W, K) of `layer` */
    float *logits;           /* (n, classes) of the unmodified images */
    float *pixel_logits;     /* (n, H W, classes) the FC op on each pixel of act alone (the pooled shortcut for boxes) */
    int pixel_logits_ready;  /* 1: pixel_logits made for the kept images */
    float *ranges;           /* (K, 2) Score-CAM's mask ranges of image ranges_of */
    int *channels;           /* (m) the channels of a masked-input batch */
    float *scores;           /* (m) class scores of the last generated batch */
    float *weights;          /* (K) channel weights of a weighted map */
    float *map;              /* (H, W) */
    size_t input_cap, act_cap, logits_cap, pixel_logits_cap, ranges_cap, channels_cap, scores_cap, weights_cap, map_cap;
    int ranges_of;           /* -1: no ranges made */
    float *side;             /* (sum_k n floats of side k) the side inputs of `layer`'s head (split), image-major per side */
    size_t side_cap;
} keep;

/* The head of a layer on a graph with skip connections (graph_head_split):
 * the ops that depend on the layer, and the side inputs the body makes for
 * them; plain when that is every op after the layer and no side input. */
typedef struct {
    int layer;               /* -2: none computed */
    int plain;
    unsigned char *run;      /* (n_ops) */
    int *side, *ready;       /* (n_tensors) side tensors, the last op writing each (-1: the input) */
    int n_side;
} head_split;

struct pixab_engine {
    graph g;                 /* the model's ops and weights; its own copy of the shapes */
    const backend_ops *be;
    void *ctx;
    int max_batch;
    char device[16];
    plan body, head, back;   /* head/back: made on first use for a layer */
    keep keep;
    pixab_precision precision;
    size_t head_budget;      /* bytes for the head plan; 0: automatic (see HEAD_DEFAULT_BYTES) */
    size_t back_budget;      /* head_budget when the gradient plan was sized */
    head_split split;
};

/* "cpu" -> -1; "cuda" -> 0; "cuda:K" -> K; "auto" -> -2; else error. */
static pixab_status parse_device(const char *device, int *index) {
    if (!strcmp(device, "cpu")) return *index = -1, PIXAB_OK;
    if (!strcmp(device, "auto")) return *index = -2, PIXAB_OK;
    if (!strcmp(device, "cuda")) return *index = 0, PIXAB_OK;
    if (!strncmp(device, "cuda:", 5)) {
        char *end;
        long k = strtol(device + 5, &end, 10);
        if (end != device + 5 && !*end && k >= 0 && k < 1024) return *index = (int)k, PIXAB_OK;
    }
    return pixab_fail(PIXAB_ERR_ARG, "unknown device '%s' (expected cpu, cuda, cuda:K or auto)", device);
}

/* The backend for a device request: "auto" is CUDA when this build has it and
 * a device is present, else the CPU. */
static pixab_status pick_backend(const char *device, const backend_ops **be, int *index) {
    pixab_status s = parse_device(device, index);
    if (s) return s;
    if (*index == -2) *index = pixab_cuda_device_count() > 0 ? 0 : -1;
    if (*index == -1) {
        *be = &cpu_backend;
        return PIXAB_OK;
    }
    if (!pixab_built_with_cuda())
        return pixab_fail(PIXAB_ERR_UNSUPPORTED, "device '%s': this pixab was built without CUDA", device);
    int count = pixab_cuda_device_count();
    if (count == 0) return pixab_fail(PIXAB_ERR_DEVICE, "device '%s': no CUDA device", device);
    if (*index >= count)
        return pixab_fail(PIXAB_ERR_DEVICE, "device '%s': only %d CUDA device(s) present", device, count);
#ifdef PIXAB_WITH_CUDA
    *be = &cuda_backend;
    return PIXAB_OK;
#else
    return pixab_fail(PIXAB_ERR_UNSUPPORTED, "device '%s': this pixab was built without CUDA", device);
#endif
}

static void plan_free(pixab_engine *e, plan *p) {
    if (p->arena) e->be->free(e->ctx, p->arena);
    if (p->grad) e->be->free(e->ctx, p->grad);
    free(p->offsets);
    memset(p, 0, sizeof *p);
}

/* run: the ops of a split head (NULL: every op from first_op). */
static pixab_status plan_make(pixab_engine *e, plan *p, int first_op, const unsigned char *run, int batch,
                              int with_grad) {
    plan_free(e, p);
    p->first_op = first_op;
    p->batch = batch;
    p->offsets = malloc(sizeof(size_t) * (size_t)e->g.n_tensors);
    size_t floats = p->offsets ? graph_plan_memory_ops(&e->g, batch, first_op, run, !with_grad, p->offsets) : 0;
    pixab_status s = PIXAB_OK;
    p->floats = floats;
    if (!floats) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory planning activations");
    if (!s) s = e->be->alloc(e->ctx, floats * sizeof(float), (void **)&p->arena);
    if (!s && with_grad) s = e->be->alloc(e->ctx, floats * sizeof(float), (void **)&p->grad);
    if (!s) s = e->be->prepare(e->ctx, &e->g, first_op, batch);
    if (s) plan_free(e, p);
    return s;
}

pixab_status pixab_engine_create(const pixab_model *m, const char *device, int max_batch, pixab_engine **out) {
    *out = NULL;
    if (max_batch < 1 || max_batch > 1 << 20) return pixab_fail(PIXAB_ERR_ARG, "batch size %d out of range", max_batch);
    const backend_ops *be;
    int index = -1;
    pixab_status s = pick_backend(device, &be, &index);
    if (s) return s;
    pixab_engine *e = calloc(1, sizeof *e);
    if (!e) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    e->g = m->g;
    e->g.tensors = malloc(sizeof(tshape) * (size_t)m->g.n_tensors);
    e->be = be;
    e->max_batch = max_batch;
    e->keep.layer = e->keep.ranges_of = -1;
    e->split.layer = -2;
    snprintf(e->device, sizeof e->device, index < 0 ? "cpu" : "cuda:%d", index);
    if (!e->g.tensors) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
        goto fail;
    }
    memcpy(e->g.tensors, m->g.tensors, sizeof(tshape) * (size_t)m->g.n_tensors);
    if ((s = be->create(&e->g, max_batch, index, &e->ctx)) || (s = plan_make(e, &e->body, 0, NULL, max_batch, 0)))
        goto fail;
    *out = e;
    return PIXAB_OK;
fail:
    pixab_engine_destroy(e);
    return s;
}

void pixab_engine_destroy(pixab_engine *e) {
    if (!e) return;
    if (e->ctx) {
        void *kept_bufs[] = {e->keep.input,    e->keep.act,    e->keep.logits,  e->keep.pixel_logits, e->keep.ranges,
                             e->keep.channels, e->keep.scores, e->keep.weights, e->keep.map,          e->keep.side};
        for (size_t i = 0; i < sizeof kept_bufs / sizeof kept_bufs[0]; i++)
            if (kept_bufs[i]) e->be->free(e->ctx, kept_bufs[i]);
        plan_free(e, &e->body);
        plan_free(e, &e->head);
        plan_free(e, &e->back);
        e->be->destroy(e->ctx);
    }
    free(e->split.run);
    free(e->split.side);
    free(e->split.ready);
    free(e->g.tensors);
    free(e);
}

const char *pixab_engine_device(const pixab_engine *e) { return e->device; }

pixab_status pixab_engine_set_precision(pixab_engine *e, pixab_precision p) {
    if (p < 0 || p >= PIXAB_PRECISION_COUNT) return pixab_fail(PIXAB_ERR_ARG, "precision %d out of range", (int)p);
    pixab_status s = e->be->set_precision(e->ctx, &e->g, (int)p);
    if (!s) e->precision = p;
    return s;
}

pixab_precision pixab_engine_precision(const pixab_engine *e) { return e->precision; }

const graph *engine_graph(const pixab_engine *e) { return &e->g; }

int pixab_engine_max_batch(const pixab_engine *e) { return e->max_batch; }

int pixab_engine_input_size(const pixab_engine *e) { return e->g.input_size; }

static float *at(const plan *p, int t) { return p->arena + p->offsets[t]; }

/* pixab_cancel's flag: set from a signal handler, read between ops. */
static volatile sig_atomic_t cancel_requested;

void pixab_cancel(void) { cancel_requested = 1; }

void pixab_cancel_reset(void) { cancel_requested = 0; }

static pixab_status check_cancel(void) {
    return cancel_requested ? pixab_fail(PIXAB_ERR_CANCELLED, "cancelled") : PIXAB_OK;
}

/* Network op i on n images, from src (and src2, for two-input ops) to dst (whole tensors). */
static pixab_status network_op(pixab_engine *e, int i, int n, const float *src, const float *src2, float *dst) {
    const backend_op op = {.kind = BOP_NETWORK, .index = i, .count = n, .src = src, .src2 = src2, .dst = dst};
    pixab_status s = check_cancel();
    if (s) return s;
    s = e->be->run(e->ctx, &e->g, &op);
    return s ? pixab_fail_context(s, "%s", e->g.ops[i].name) : PIXAB_OK;
}

/* Ops [begin, end) on n images of plan p; with run, only the ops it marks (a split head's). */
static pixab_status run_ops_of(pixab_engine *e, const plan *p, int begin, int end, int n, const unsigned char *run) {
    pixab_status s = PIXAB_OK;
    for (int i = begin; i < end && !s; i++) {
        const graph_op *o = &e->g.ops[i];
        if (run && !run[i]) continue;
        s = network_op(e, i, n, at(p, o->src), graph_op_inputs(o) > 1 ? at(p, o->src2) : NULL, at(p, o->dst));
    }
    return s;
}

static pixab_status run_ops(pixab_engine *e, const plan *p, int begin, int end, int n) {
    return run_ops_of(e, p, begin, end, n, NULL);
}

static pixab_status check_call(const pixab_engine *e, int n, int limit, int layer) {
    if (n < 1 || n > limit) return pixab_fail(PIXAB_ERR_ARG, "batch of %d images, the engine holds 1 to %d", n, limit);
    if (layer < -1 || layer >= e->g.n_layers) return pixab_fail(PIXAB_ERR_ARG, "layer index %d out of range", layer);
    return PIXAB_OK;
}

/* Bytes of tensor t for n images. */
static size_t tensor_bytes(const pixab_engine *e, int t, int n) {
    return graph_tensor_floats(&e->g, t) * (size_t)n * sizeof(float);
}

/* Copy between the host and a whole tensor of n images. */
static pixab_status put(pixab_engine *e, const plan *p, int t, const float *src, int n) {
    return e->be->upload(e->ctx, at(p, t), src, tensor_bytes(e, t, n));
}
static pixab_status get(pixab_engine *e, const plan *p, int t, float *dst, int n) {
    return e->be->download(e->ctx, dst, at(p, t), tensor_bytes(e, t, n));
}

/* Tensor holding the output of `layer` (-1: the input image) and the first op after it. */
static int layer_out(const pixab_engine *e, int layer) { return layer < 0 ? 0 : e->g.layers[layer].out; }
static int layer_end(const pixab_engine *e, int layer) { return layer < 0 ? 0 : e->g.layers[layer].end_op; }
static int logits_tensor(const pixab_engine *e) { return e->g.layers[e->g.n_layers - 1].out; }

int pixab_engine_num_classes(const pixab_engine *e) { return e->g.tensors[logits_tensor(e)].c; }

/* ---- heads with side inputs ----------------------------------------------
 * A layer inside a residual block (or a concatenation's branch) is not a
 * plain cut: ops after it may not depend on it (a projection skip), and its
 * head reads tensors the body makes (the skip). The body's side inputs are
 * kept with the activation (keep_run), copied into the head plan for every
 * item of a generated batch (the image's own values, broadcast) or per
 * image for the backward pass, and the head runs only the ops that depend
 * on the layer. */

/* e->split for `layer` (-1: the input, a plain cut). */
static pixab_status split_for(pixab_engine *e, int layer) {
    head_split *h = &e->split;
    if (h->layer == layer) return PIXAB_OK;
    h->layer = -2;
    if (!h->run && (!(h->run = malloc((size_t)e->g.n_ops + 1)) ||
                    !(h->side = malloc(sizeof(int) * ((size_t)e->g.n_tensors + 1))) ||
                    !(h->ready = malloc(sizeof(int) * ((size_t)e->g.n_tensors + 1))))) {
        free(h->run), free(h->side), h->run = NULL, h->side = NULL;
        return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    }
    h->plain = 1, h->n_side = 0;
    if (layer >= 0) {
        if (graph_head_split(&e->g, layer, h->run, h->side, h->ready, &h->n_side))
            return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
        for (int i = layer_end(e, layer); i < e->g.n_ops; i++) h->plain &= h->run[i];
        h->plain &= h->n_side == 0;
    }
    h->layer = layer;
    return PIXAB_OK;
}

/* *run: the ops of layer's head for run_ops_of and the plans (NULL: every op after it). */
static pixab_status head_run(pixab_engine *e, int layer, const unsigned char **run) {
    const pixab_status s = split_for(e, layer);
    *run = s || e->split.plain ? NULL : e->split.run;
    return s;
}

/* Floats of side input k of the split for n images, and where side k of image i is kept. */
static size_t side_floats(const pixab_engine *e, int k) { return graph_tensor_floats(&e->g, e->split.side[k]); }
static float *kept_side(const pixab_engine *e, int k, int image) {
    size_t off = 0;
    for (int j = 0; j < k; j++) off += side_floats(e, j) * (size_t)e->keep.n;
    return e->keep.side + off + side_floats(e, k) * (size_t)image;
}

/* After op i of keep_run's forward (-1: before the first): the side inputs it completes, to keep.side. */
static pixab_status keep_sides(pixab_engine *e, int i, int n) {
    pixab_status s = PIXAB_OK;
    for (int k = 0; k < e->split.n_side && !s; k++)
        if (e->split.ready[k] == i)
            s = e->be->copy(e->ctx, kept_side(e, k, 0), at(&e->body, e->split.side[k]), tensor_bytes(e, e->split.side[k], n));
    return s;
}

/* The side inputs into rows [row, row + m) of plan p: kept image `image`'s
 * own, copied to every item (broadcast: doubling copies), or with per_image
 * images [image, image + m) (a backward batch). */
static pixab_status fill_sides(pixab_engine *e, const plan *p, int image, int row, int m, int per_image) {
    pixab_status s = PIXAB_OK;
    for (int k = 0; k < e->split.n_side && !s; k++) {
        const size_t bytes = side_floats(e, k) * sizeof(float);
        char *dst = (char *)at(p, e->split.side[k]) + bytes * (size_t)row;
        s = e->be->copy(e->ctx, dst, kept_side(e, k, image), bytes * (size_t)(per_image ? m : 1));
        for (int c = 1; c < m && !per_image && !s; c *= 2)
            s = e->be->copy(e->ctx, dst + bytes * (size_t)c, dst, bytes * (size_t)(m - c < c ? m - c : c));
    }
    return s;
}

pixab_status pixab_engine_body(pixab_engine *e, const float *input, int n, int layer, float *act) {
    pixab_status s = check_call(e, n, e->max_batch, layer);
    if (s || (s = put(e, &e->body, 0, input, n)) || (s = run_ops(e, &e->body, 0, layer_end(e, layer), n))) return s;
    return get(e, &e->body, layer_out(e, layer), act, n);
}

pixab_status pixab_engine_head(pixab_engine *e, const float *act, int n, int layer, float *logits) {
    pixab_status s = check_call(e, n, e->max_batch, layer);
    const unsigned char *run = NULL;
    if (!s) s = head_run(e, layer, &run);
    if (!s && run)
        s = pixab_fail(PIXAB_ERR_UNSUPPORTED, "layer %s: its head also reads tensors that bypass it (a skip "
                                              "connection): it runs only on kept images", e->g.layers[layer].name);
    if (s || (s = put(e, &e->body, layer_out(e, layer), act, n)) ||
        (s = run_ops(e, &e->body, layer_end(e, layer), e->g.n_ops, n)))
        return s;
    return get(e, &e->body, logits_tensor(e), logits, n);
}

pixab_status pixab_engine_forward(pixab_engine *e, const float *input, int n, float *logits) {
    return pixab_engine_body(e, input, n, e->g.n_layers - 1, logits);
}

pixab_status pixab_engine_host_alloc(pixab_engine *e, size_t bytes, void **out) {
    return e->be->host_alloc(e->ctx, bytes, out);
}

void pixab_engine_host_free(pixab_engine *e, void *p) {
    if (p) e->be->host_free(e->ctx, p);
}

pixab_status pixab_engine_set_head_budget(pixab_engine *e, size_t bytes) {
    if (bytes && bytes < sizeof(float))
        return pixab_fail(PIXAB_ERR_ARG, "head memory budget of %zu bytes: less than one value", bytes);
    if (bytes != e->head_budget) plan_free(e, &e->head); /* re-planned on next use */
    e->head_budget = bytes;
    return PIXAB_OK;
}

/* The head budget in bytes: the one set; else, on a backend with memory of
 * its own, half of what is free (clamped); else HEAD_DEFAULT_BYTES. */
static size_t head_budget_bytes(const pixab_engine *e) {
    if (e->head_budget) return e->head_budget;
    size_t free_bytes = 0, total = 0;
    if (e->be->memory_info(e->ctx, &free_bytes, &total)) {
        pixab_clear_error();
        return HEAD_DEFAULT_BYTES;
    }
    size_t b = free_bytes / 2;
    if (b > HEAD_DEVICE_MAX_BYTES) b = HEAD_DEVICE_MAX_BYTES;
    if (b < HEAD_DEVICE_MIN_BYTES) b = free_bytes < HEAD_DEVICE_MIN_BYTES ? free_bytes : HEAD_DEVICE_MIN_BYTES;
    return b;
}

/* The head plan for the ops after `layer`: as many images as the budget
 * holds. When the backend cannot allocate that much, fewer (halving down to
 * one image) before giving up: a smaller batch only costs speed. */
static pixab_status head_plan(pixab_engine *e, int layer) {
    const int first = layer_end(e, layer);
    if (e->head.arena && e->head.first_op == first) return PIXAB_OK;
    const unsigned char *run;
    const pixab_status split = head_run(e, layer, &run);
    if (split) return split;
    size_t per_image = 0; /* the plan for one image, scaled */
    size_t *off = malloc(sizeof(size_t) * (size_t)e->g.n_tensors);
    if (off) per_image = graph_plan_memory_ops(&e->g, 1, first, run, 1, off);
    free(off);
    if (!per_image) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory planning the head");
    plan_free(e, &e->head); /* before measuring what is free */
    size_t batch = head_budget_bytes(e) / sizeof(float) / per_image;
    batch = batch < 1 ? 1 : batch > HEAD_MAX_BATCH ? HEAD_MAX_BATCH : batch;
    if (batch >= HEAD_ITEM_ALIGN) batch -= batch % HEAD_ITEM_ALIGN; /* chunks shared by images (item_offsets) */
    for (;;) {
        pixab_status s = plan_make(e, &e->head, first, run, (int)batch, 0);
        if (s != PIXAB_ERR_NOMEM || batch == 1) return s;
        batch /= 2;
    }
}

/* Backend memory of at least `bytes` bytes in *buf (grown, never shrunk). */
static pixab_status keep_buffer(pixab_engine *e, void *buf, size_t *cap, size_t bytes) {
    void **b = buf;
    if (*cap >= bytes) return PIXAB_OK;
    if (*b) e->be->free(e->ctx, *b);
    *b = NULL, *cap = 0;
    pixab_status s = e->be->alloc(e->ctx, bytes, b);
    if (!s) *cap = bytes;
    return s;
}

/* The kept buffers for n images at `layer`; nothing counts as kept until keep_run. */
static pixab_status keep_prepare(pixab_engine *e, int n, int layer) {
    pixab_status s = check_call(e, n, e->max_batch, layer);
    if (s || layer < 0) return s ? s : pixab_fail(PIXAB_ERR_ARG, "the input is not a layer to keep");
    const int t = layer_out(e, layer), lt = logits_tensor(e);
    keep *k = &e->keep;
    k->layer = -1;
    k->ranges_of = -1;
    k->pixel_logits_ready = 0;
    if ((s = keep_buffer(e, &k->input, &k->input_cap, tensor_bytes(e, 0, n))) ||
        (s = keep_buffer(e, &k->act, &k->act_cap, tensor_bytes(e, t, n))) ||
        (s = keep_buffer(e, &k->logits, &k->logits_cap, tensor_bytes(e, lt, n))) ||
        (s = keep_buffer(e, &k->map, &k->map_cap, (size_t)e->g.tensors[t].h * e->g.tensors[t].w * sizeof(float))) ||
        (s = split_for(e, layer)))
        return s;
    size_t side = 0;
    for (int j = 0; j < e->split.n_side; j++) side += side_floats(e, j) * (size_t)n;
    return side ? keep_buffer(e, &k->side, &k->side_cap, side * sizeof(float)) : PIXAB_OK;
}

/* keep.input (n images) into the body's input, the body to the layer, a copy
 * of its output, then the rest of the network; act and logits downloaded. */
static pixab_status keep_run(pixab_engine *e, int n, int layer, float *act, float *logits) {
    const int t = layer_out(e, layer), lt = logits_tensor(e);
    const size_t bytes = tensor_bytes(e, t, n), logit_bytes = tensor_bytes(e, lt, n);
    keep *k = &e->keep;
    pixab_status s;
    k->n = n; /* kept_side's layout */
    if ((s = e->be->copy(e->ctx, at(&e->body, 0), k->input, tensor_bytes(e, 0, n))) || (s = keep_sides(e, -1, n)))
        return s;
    for (int i = 0; i < e->g.n_ops && !s; i++) /* op by op while side inputs are to be kept */
        if (!(s = run_ops(e, &e->body, i, i + 1, n)) && !(s = keep_sides(e, i, n)) && i + 1 == layer_end(e, layer))
            s = e->be->copy(e->ctx, k->act, at(&e->body, t), bytes);
    if (s || (s = e->be->download(e->ctx, act, k->act, bytes)) ||
        (s = e->be->copy(e->ctx, k->logits, at(&e->body, lt), logit_bytes)) ||
        (s = e->be->download(e->ctx, logits, k->logits, logit_bytes)))
        return s;
    k->layer = layer;
    k->n = n;
    return PIXAB_OK;
}

pixab_status engine_forward_keep(pixab_engine *e, const float *input, int n, int layer, float *act, float *logits) {
    pixab_status s = keep_prepare(e, n, layer);
    if (!s) s = e->be->upload(e->ctx, e->keep.input, input, tensor_bytes(e, 0, n));
    return s ? s : keep_run(e, n, layer, act, logits);
}

/* Image img preprocessed with p on the backend into input (S, S, 3): on a
 * backend of host memory from its pixels where they are; else its 8-bit
 * pixels staged in slot `slot` (backend.h's stage: copied beside the ops,
 * without waiting on the host), then the preprocessing op on them, which
 * waits for that copy on the device. */
static pixab_status preprocess_image(pixab_engine *e, const pixab_image *img, const pixab_preproc *p, int slot,
                                     float *input) {
    char why[160];
    if (!img || !img->rgb) return pixab_fail(PIXAB_ERR_ARG, "an image without pixels");
    if (preprocess_check(why, sizeof why, img->width, img->height, p)) return pixab_fail(PIXAB_ERR_ARG, "%s", why);
    backend_op op = {.kind = BOP_PREPROCESS, .dst = input, .rgb = img->rgb, .H = img->height, .W = img->width, .pre = p};
    if (e->be->host_memory) return e->be->run(e->ctx, &e->g, &op);
    const void *staged;
    pixab_status s = e->be->stage(e->ctx, slot, img->rgb, (size_t)img->width * img->height * 3, &staged);
    if (s) return s;
    op.rgb = staged;
    s = e->be->run(e->ctx, &e->g, &op);
    /* Released whether the op ran or not: all that reads the slot is queued by now. */
    const pixab_status r = e->be->stage_release(e->ctx, slot);
    return s ? s : r;
}

pixab_status engine_forward_keep_images(pixab_engine *e, const pixab_image *images, int n, const pixab_preproc *p,
                                        int layer, float *act, float *logits) {
    pixab_status s = keep_prepare(e, n, layer);
    if (!s && p->size != e->g.input_size)
        s = pixab_fail(PIXAB_ERR_ARG, "preprocessing to %dx%d for an engine of %dx%d inputs", p->size, p->size,
                       e->g.input_size, e->g.input_size);
    if (!s && !e->be->supports_op(e->ctx, BOP_PREPROCESS))
        s = pixab_fail(PIXAB_ERR_UNSUPPORTED, "the %s backend has no preprocessing op", e->be->name);
    if (!s && !e->be->host_memory && (!e->be->stage || !e->be->stage_release))
        s = pixab_fail(PIXAB_ERR_UNSUPPORTED, "the %s backend cannot stage images", e->be->name);
    /* Slots in turn: image i is staged while those before it are copied and preprocessed. */
    for (int i = 0; i < n && !s; i++)
        if ((s = preprocess_image(e, &images[i], p, i % BACKEND_STAGE_SLOTS,
                                  e->keep.input + graph_tensor_floats(&e->g, 0) * (size_t)i)))
            pixab_fail_context(s, "image %d of the batch", i);
    return s ? s : keep_run(e, n, layer, act, logits);
}

int engine_head_is_gap(const pixab_engine *e, int layer) {
    const graph *g = &e->g;
    if (layer < 0 || layer + 1 >= g->n_layers) return 0;
    int first = g->layers[layer].end_op;
    /* ops: ... layer | GAP (layer + 1 = "avgpool") | FC */
    return first + 2 == g->n_ops && g->ops[first].kind == OP_GAP && g->ops[first].src == g->layers[layer].out &&
           g->ops[first + 1].kind == OP_FC && g->layers[layer + 1].end_op == first + 1;
}

/* The kept activation's shape; an error when none is kept. */
static pixab_status kept(const pixab_engine *e, int *H, int *W, int *K) {
    *H = *W = *K = 0;
    if (e->keep.layer < 0) return pixab_fail(PIXAB_ERR_ARG, "no activation kept (engine_forward_keep first)");
    const tshape *t = &e->g.tensors[layer_out(e, e->keep.layer)];
    *H = t->h, *W = t->w, *K = t->c;
    return PIXAB_OK;
}

/* Image h->image's kept input, activation and logits (backend memory). */
static const float *kept_input(const pixab_engine *e, const head_desc *h) {
    return e->keep.input + graph_tensor_floats(&e->g, 0) * (size_t)h->image;
}
static const float *kept_act(const pixab_engine *e, const head_desc *h) {
    return e->keep.act + graph_tensor_floats(&e->g, layer_out(e, e->keep.layer)) * (size_t)h->image;
}
static const float *kept_logits(const pixab_engine *e, const head_desc *h) {
    return e->keep.logits + (size_t)e->g.tensors[logits_tensor(e)].c * (size_t)h->image;
}
static const float *kept_pixel_logits(const pixab_engine *e, const head_desc *h) {
    const tshape *t = &e->g.tensors[layer_out(e, e->keep.layer)];
    return e->keep.pixel_logits + (size_t)e->g.tensors[logits_tensor(e)].c * t->h * t->w * (size_t)h->image;
}

int engine_head_items(const pixab_engine *e, const head_desc *h) {
    int H, W, K;
    if (kept(e, &H, &W, &K)) {
        pixab_clear_error();
        return 0;
    }
    switch (h->items) {
    case HEAD_ITEMS_BOXES: return 2 + 2 * h->n_boxes * H * W;
    case HEAD_ITEMS_CHANNELS: return 1 + K;
    case HEAD_ITEMS_MASKED: return 1 + h->n_channels;
    default: return 0;
    }
}

static const char *const bop_names[BOP_COUNT] = {
    "network", "box batch", "box logits", "channel batch", "channel logits", "masked inputs",
    "preprocessing", "mask ranges", "class scores", "Pixab-CAM reduction", "weighted sum", "normalisation",
    "guided ReLU backward"};

/* The ops head h runs, so that a backend lacking one fails before it starts. */
static pixab_status check_support(const pixab_engine *e, const head_desc *h) {
    bop_kind need[5];
    int n = 0;
    switch (h->items) {
    case HEAD_ITEMS_BOXES: need[n++] = h->pooled ? BOP_GEN_BOX_LOGITS : BOP_GEN_BOXES; break;
    case HEAD_ITEMS_CHANNELS: need[n++] = h->pooled ? BOP_GEN_CHANNEL_LOGITS : BOP_GEN_CHANNELS; break;
    case HEAD_ITEMS_MASKED: need[n++] = BOP_MASK_RANGES, need[n++] = BOP_GEN_MASKED_INPUTS; break;
    default: break;
    }
    if (h->items != HEAD_ITEMS_NONE) need[n++] = BOP_NETWORK, need[n++] = BOP_CLASS_SCORES;
    switch (h->output) {
    case HEAD_OUT_PIXAB_MAP: need[n++] = BOP_PIXAB_REDUCE, need[n++] = BOP_NORMALIZE; break;
    case HEAD_OUT_WEIGHTED_MAP: need[n++] = BOP_WEIGHTED_SUM, need[n++] = BOP_NORMALIZE; break;
    case HEAD_OUT_MASK_RANGES: need[n++] = BOP_MASK_RANGES; break;
    default: break;
    }
    for (int i = 0; i < n; i++)
        if (!e->be->supports_op(e->ctx, need[i]))
            return pixab_fail(PIXAB_ERR_UNSUPPORTED, "the %s backend has no %s op", e->be->name, bop_names[need[i]]);
    return PIXAB_OK;
}

/* Score-CAM's mask ranges of the image's kept activation into keep.ranges (once per kept image). */
static pixab_status mask_ranges(pixab_engine *e, const head_desc *h, int H, int W, int K) {
    keep *k = &e->keep;
    if (k->ranges_of == h->image) return PIXAB_OK;
    k->ranges_of = -1;
    pixab_status s = keep_buffer(e, &k->ranges, &k->ranges_cap, (size_t)K * 2 * sizeof(float));
    const backend_op op = {.kind = BOP_MASK_RANGES, .dst = k->ranges, .a = kept_act(e, h), .H = H, .W = W, .K = K,
                           .size = e->g.input_size};
    if (!s && !(s = e->be->run(e->ctx, &e->g, &op))) k->ranges_of = h->image;
    return s;
}

/* Where h's items enter the network: the layer whose output tensor receives
 * them (-1: the input), or -2 when they are logits already (no network). */
static int entry_layer(const pixab_engine *e, const head_desc *h) {
    switch (h->items) {
    case HEAD_ITEMS_BOXES:
    case HEAD_ITEMS_CHANNELS: return h->pooled ? -2 : e->keep.layer;
    default: return -1; /* HEAD_ITEMS_MASKED */
    }
}

/* Items [first, first + count) of h's batch into rows [row, row + count) of
 * plan p's tensor at `entry` (the logits tensor when entry is -2). */
static pixab_status generate_items(pixab_engine *e, const plan *p, const head_desc *h, int entry, int first, int count,
                                   int row) {
    const keep *k = &e->keep;
    const tshape *t = &e->g.tensors[layer_out(e, k->layer)];
    const int dst_t = entry == -2 ? logits_tensor(e) : layer_out(e, entry);
    backend_op op = {.first = first, .count = count, .a = kept_act(e, h), .H = t->h, .W = t->w, .K = t->c};
    switch (h->items) {
    case HEAD_ITEMS_BOXES:
        op.kind = h->pooled ? BOP_GEN_BOX_LOGITS : BOP_GEN_BOXES;
        op.n_boxes = h->n_boxes, op.box_h = h->box_h, op.box_w = h->box_w;
        op.src = kept_logits(e, h), op.pixel_logits = kept_pixel_logits(e, h), op.index = e->g.n_ops - 1;
        break;
    case HEAD_ITEMS_CHANNELS:
        op.kind = h->pooled ? BOP_GEN_CHANNEL_LOGITS : BOP_GEN_CHANNELS;
        op.src = kept_logits(e, h), op.index = e->g.n_ops - 1;
        break;
    default: /* HEAD_ITEMS_MASKED */
        op.kind = BOP_GEN_MASKED_INPUTS;
        op.src = kept_input(e, h), op.ranges = k->ranges, op.channels = k->channels, op.size = e->g.input_size;
        break;
    }
    op.dst = at(p, dst_t) + graph_tensor_floats(&e->g, dst_t) * (size_t)row;
    pixab_status s = e->be->run(e->ctx, &e->g, &op);
    const unsigned char *run = NULL;
    if (!s && entry >= 0) s = head_run(e, entry, &run);
    return !s && run ? fill_sides(e, p, h->image, row, count, 0) : s;
}

/* Zero rows [r0, r1) of plan p's tensor t (the gap between two images' items). */
static pixab_status zero_rows(pixab_engine *e, const plan *p, int t, int r0, int r1) {
    const size_t floats = graph_tensor_floats(&e->g, t);
    return r1 > r0 ? e->be->zero(e->ctx, at(p, t) + floats * (size_t)r0, floats * (size_t)(r1 - r0) * sizeof(float))
                   : PIXAB_OK;
}

/* keep.pixel_logits of every kept image: the graph's FC op (the last) on
 * each pixel of A alone, all images' pixels as one batch of rows, in chunks
 * of the head plan (made for the FC op). */
static pixab_status pixel_logits(pixab_engine *e, int HW, int K) {
    keep *k = &e->keep;
    const int fc = e->g.n_ops - 1, classes = e->g.tensors[logits_tensor(e)].c;
    const size_t rows = (size_t)k->n * HW;
    pixab_status s = keep_buffer(e, &k->pixel_logits, &k->pixel_logits_cap, rows * classes * sizeof(float));
    for (size_t r = 0, m; r < rows && !s; r += m) {
        m = rows - r < (size_t)e->head.batch ? rows - r : (size_t)e->head.batch;
        s = network_op(e, fc, (int)m, k->act + r * K, NULL, k->pixel_logits + r * classes);
    }
    k->pixel_logits_ready = !s;
    return s;
}

/* What must be on the backend before h's items can be made: the pixel logits
 * for pooled boxes, the ranges and the channel list for masked inputs. */
static pixab_status generate_inputs(pixab_engine *e, const head_desc *h, int H, int W, int K) {
    keep *k = &e->keep;
    if (h->items == HEAD_ITEMS_BOXES && h->pooled) return k->pixel_logits_ready ? PIXAB_OK : pixel_logits(e, H * W, K);
    if (h->items != HEAD_ITEMS_MASKED) return PIXAB_OK;
    for (int i = 0; i < h->n_channels; i++)
        if (h->channels[i] < 0 || h->channels[i] >= K)
            return pixab_fail(PIXAB_ERR_ARG, "channel %d of a layer with %d", h->channels[i], K);
    const size_t bytes = sizeof(int) * (size_t)h->n_channels;
    pixab_status s = mask_ranges(e, h, H, W, K);
    if (!s && bytes) s = keep_buffer(e, &k->channels, &k->channels_cap, bytes);
    if (!s && bytes) s = e->be->upload(e->ctx, k->channels, h->channels, bytes);
    return s;
}

/* The stream of items of heads h (n images, plan batch `batch`): off[j]
 * where image j's begin (HEAD_ITEM_ALIGN above); its length. */
static size_t item_offsets(const pixab_engine *e, const head_desc *h, int n, int batch, size_t *off) {
    const size_t align = batch % HEAD_ITEM_ALIGN == 0 ? HEAD_ITEM_ALIGN : (size_t)batch;
    size_t end = 0;
    for (int j = 0; j < n; j++) {
        off[j] = (end + align - 1) / align * align;
        end = off[j] + (size_t)engine_head_items(e, &h[j]);
    }
    return end;
}

/* Image items [off, off + items) of the stream within chunk [g0, g0 + m):
 * [lo, hi) and 1, or 0 when none are. */
static int chunk_part(size_t off, int items, size_t g0, size_t m, size_t *lo, size_t *hi) {
    const size_t end = off + (size_t)items;
    *lo = off > g0 ? off : g0;
    *hi = end < g0 + m ? end : g0 + m;
    return *lo < *hi;
}

/* The class scores of every item of heads h (n images) into keep.scores, at
 * the offsets off (item_offsets): the items made and run in chunks as large as
 * the head plan, a chunk holding the items of as many images as it fits.
 * Masked inputs (one image only) run through the whole network in the body
 * plan, the engine's batch at a time after the baseline alone (so each mask
 * meets the same batch as in a plain forward of the engine's batch). */
static pixab_status generated_scores(pixab_engine *e, const head_desc *h, int n, size_t *off, int H, int W, int K) {
    const int layer = e->keep.layer, lt = logits_tensor(e), classes = e->g.tensors[lt].c;
    if (h->pooled && !engine_head_is_gap(e, layer))
        return pixab_fail(PIXAB_ERR_ARG, "the head after layer %s is not GAP + FC: no pooled shortcut",
                          e->g.layers[layer].name);
    for (int j = 0; j < n; j++)
        if (h[j].cls < 0 || h[j].cls >= classes) return pixab_fail(PIXAB_ERR_ARG, "class %d of %d", h[j].cls, classes);
    const int entry = entry_layer(e, h), masked = h->items == HEAD_ITEMS_MASKED;
    const int entry_t = entry == -2 ? lt : layer_out(e, entry);
    pixab_status s = PIXAB_OK;
    /* Pooled items: the head from "avgpool" (layer + 1), the FC op alone, holds their logits. */
    if (!masked) s = head_plan(e, entry == -2 ? layer + 1 : entry);
    const plan *p = masked ? &e->body : &e->head;
    const size_t total = s ? 0 : item_offsets(e, h, n, p->batch, off);
    if (s || (s = keep_buffer(e, &e->keep.scores, &e->keep.scores_cap, total * sizeof(float)))) return s;
    for (int j = 0; j < n && !s; j++) s = generate_inputs(e, &h[j], H, W, K);
    for (size_t g0 = 0, m; g0 < total && !s; g0 += m) {
        m = masked && g0 == 0 ? 1 : total - g0 < (size_t)p->batch ? total - g0 : (size_t)p->batch;
        int filled = 0; /* rows of the chunk made */
        for (int j = 0; j < n && !s; j++) {
            size_t lo, hi;
            if (!chunk_part(off[j], engine_head_items(e, &h[j]), g0, m, &lo, &hi)) continue;
            if (!(s = zero_rows(e, p, entry_t, filled, (int)(lo - g0))) && !(s = check_cancel()))
                s = generate_items(e, p, &h[j], entry, (int)(lo - off[j]), (int)(hi - lo), (int)(lo - g0));
            filled = (int)(hi - g0);
        }
        if (!s) s = zero_rows(e, p, entry_t, filled, (int)m);
        const unsigned char *run = NULL;
        if (!s && entry != -2 && !(s = head_run(e, entry, &run)))
            s = run_ops_of(e, p, p->first_op, e->g.n_ops, (int)m, run);
        for (int j = 0; j < n && !s; j++) {
            size_t lo, hi;
            if (!chunk_part(off[j], engine_head_items(e, &h[j]), g0, m, &lo, &hi)) continue;
            const backend_op score = {.kind = BOP_CLASS_SCORES, .dst = e->keep.scores + lo,
                                      .src = at(p, lt) + (size_t)classes * (lo - g0), .count = (int)(hi - lo),
                                      .classes = classes, .cls = h[j].cls, .softmax = h[j].score != PIXAB_SCORE_LOGIT};
            s = e->be->run(e->ctx, &e->g, &score);
        }
    }
    return s;
}

/* keep.map = reduction `kind` of src, normalised, to the host. */
static pixab_status map_out(pixab_engine *e, bop_kind kind, const head_desc *h, const float *src, float *out) {
    const tshape *t = &e->g.tensors[layer_out(e, e->keep.layer)];
    const int HW = t->h * t->w;
    const backend_op reduce = {.kind = kind, .dst = e->keep.map, .src = src, .a = kept_act(e, h), .H = t->h, .W = t->w,
                               .K = t->c, .n_boxes = h->n_boxes},
                     norm = {.kind = BOP_NORMALIZE, .dst = e->keep.map, .count = HW};
    pixab_status s = e->be->run(e->ctx, &e->g, &reduce);
    if (!s) s = e->be->run(e->ctx, &e->g, &norm);
    return s ? s : e->be->download(e->ctx, out, e->keep.map, (size_t)HW * sizeof(float));
}

/* Head h's output from its scores (at keep.scores + off) into out. */
static pixab_status head_output_step(pixab_engine *e, const head_desc *h, size_t off, int H, int W, int K,
                                     float *out) {
    keep *k = &e->keep;
    const float *scores = k->scores + off;
    pixab_status s;
    switch (h->output) {
    case HEAD_OUT_SCORES: return e->be->download(e->ctx, out, scores, (size_t)engine_head_items(e, h) * sizeof(float));
    case HEAD_OUT_PIXAB_MAP: return map_out(e, BOP_PIXAB_REDUCE, h, scores, out);
    case HEAD_OUT_WEIGHTED_MAP:
        if (h->weights && ((s = keep_buffer(e, &k->weights, &k->weights_cap, (size_t)K * sizeof(float))) ||
                           (s = e->be->upload(e->ctx, k->weights, h->weights, (size_t)K * sizeof(float)))))
            return s;
        return map_out(e, BOP_WEIGHTED_SUM, h, h->weights ? k->weights : NULL, out);
    case HEAD_OUT_MASK_RANGES:
        if ((s = mask_ranges(e, h, H, W, K))) return s;
        return e->be->download(e->ctx, out, k->ranges, (size_t)K * 2 * sizeof(float));
    }
    return pixab_fail(PIXAB_ERR_ARG, "head output %d out of range", (int)h->output);
}

/* Whether heads h (n images) can run together: each of a kept image, the
 * same kind (items, shortcut, boxes, channels, score, output) for all. */
static pixab_status check_heads(const pixab_engine *e, const head_desc *h, int n) {
    for (int j = 0; j < n; j++) {
        const head_desc *a = &h[j];
        if (a->image < 0 || a->image >= e->keep.n)
            return pixab_fail(PIXAB_ERR_ARG, "image %d of %d kept", a->image, e->keep.n);
        if (a->output == HEAD_OUT_PIXAB_MAP && a->items != HEAD_ITEMS_BOXES)
            return pixab_fail(PIXAB_ERR_ARG, "a Pixab-CAM map needs a box batch");
        if (a->items != h->items || a->pooled != h->pooled || a->output != h->output || a->score != h->score ||
            a->n_boxes != h->n_boxes || a->box_h != h->box_h || a->box_w != h->box_w)
            return pixab_fail(PIXAB_ERR_ARG, "heads of different kinds cannot run together");
    }
    if (n > 1 && (h->items == HEAD_ITEMS_MASKED || h->items == HEAD_ITEMS_NONE))
        return pixab_fail(PIXAB_ERR_ARG, "heads without items or of masked inputs run one image at a time");
    return PIXAB_OK;
}

pixab_status engine_run_heads(pixab_engine *e, const head_desc *h, int n, float *const *out) {
    int H, W, K;
    pixab_status s = kept(e, &H, &W, &K);
    if (!s && n < 1) s = pixab_fail(PIXAB_ERR_ARG, "%d heads", n);
    if (s || (s = check_heads(e, h, n)) || (s = check_support(e, h))) return s;
    size_t *off = calloc((size_t)n, sizeof(size_t));
    if (!off) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %d heads", n);
    for (int j = 0; j < n && !s; j++)
        if (h->items != HEAD_ITEMS_NONE && engine_head_items(e, &h[j]) < 1)
            s = pixab_fail(PIXAB_ERR_ARG, "a head of %d items", engine_head_items(e, &h[j]));
    if (!s && h->items != HEAD_ITEMS_NONE) s = generated_scores(e, h, n, off, H, W, K);
    for (int j = 0; j < n && !s; j++) s = head_output_step(e, &h[j], off[j], H, W, K, out[j]);
    free(off);
    return s;
}

pixab_status engine_run_head(pixab_engine *e, const head_desc *h, float *out) { return engine_run_heads(e, h, 1, &out); }

/* Images of n whose backward memory (per_image floats each) fits the head budget: at least one. */
static int back_batch(const pixab_engine *e, size_t per_image, int n) {
    const size_t fit = head_budget_bytes(e) / sizeof(float) / per_image;
    return fit < 1 ? 1 : fit < (size_t)n ? (int)fit : n;
}

/* The gradient plan for ops [first, n_ops) with room for at least n images,
 * or for as many as the head budget holds when fewer (at least one): every
 * activation of those ops kept (no reuse: the backward pass reads them) and
 * a gradient arena as large. Grown on demand, made again when the budget
 * changes; when the backend cannot allocate it, fewer images (halving down
 * to one), as the head plan. */
static pixab_status back_plan(pixab_engine *e, int first, const unsigned char *run, int n) {
    const int same = e->back.arena && e->back.first_op == first && e->back_budget == e->head_budget;
    if (same && e->back.batch >= n) return PIXAB_OK;
    size_t per_image = 0; /* activations and gradients of one image, in floats */
    size_t *off = malloc(sizeof(size_t) * (size_t)e->g.n_tensors);
    if (off) per_image = 2 * graph_plan_memory_ops(&e->g, 1, first, run, 0, off);
    free(off);
    if (!per_image) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory planning the backward pass");
    if (same && e->back.batch >= back_batch(e, per_image, n)) return PIXAB_OK; /* as many as the budget holds */
    plan_free(e, &e->back); /* before measuring what is free */
    int batch = back_batch(e, per_image, n);
    e->back_budget = e->head_budget;
    for (;;) {
        pixab_status s = plan_make(e, &e->back, first, run, batch, 1);
        if (s != PIXAB_ERR_NOMEM || batch == 1) return s;
        batch /= 2;
    }
}

/* Images [i0, i0 + m) of a gradient batch, m <= the plan's batch: x, logits
 * and dx point at image i0's; dlogits (m, classes) is scratch. guided: every
 * ReLU's backward is guided backpropagation's (BOP_GUIDED_RELU first). */
static pixab_status gradient_chunk(pixab_engine *e, int layer, int guided, int i0, int m, const float *x,
                                   pixab_seed_batch_fn seed, void *user, float *logits, float *dlogits, float *dx) {
    const plan *p = &e->back;
    const int first = p->first_op, lt = logits_tensor(e), in = layer_out(e, layer), classes = e->g.tensors[lt].c;
    const unsigned char *run; /* a split head: the kept images' side inputs */
    pixab_status s;
    if ((s = head_run(e, layer, &run)) || (s = put(e, p, in, x, m)) || (run && (s = fill_sides(e, p, i0, 0, m, 1))) ||
        (s = run_ops_of(e, p, first, e->g.n_ops, m, run)) || (s = get(e, p, lt, logits, m)))
        return s;
    for (int j = 0; j < m; j++)
        seed(user, i0 + j, logits + (size_t)classes * j, classes, dlogits + (size_t)classes * j);
    s = e->be->zero(e->ctx, p->grad, p->floats * sizeof(float));
    if (!s) s = e->be->upload(e->ctx, p->grad + p->offsets[lt], dlogits, sizeof(float) * (size_t)classes * m);
    for (int i = e->g.n_ops - 1; i >= first && !s && !(s = check_cancel()); i--) {
        const graph_op *o = &e->g.ops[i];
        if (run && !run[i]) continue;
        const backend_op gr = {.kind = BOP_GUIDED_RELU, .dst = p->grad + p->offsets[o->dst], .src = at(p, o->dst),
                               .index = i, .count = m};
        if (guided && graph_op_is_relu(o) && (s = e->be->run(e->ctx, &e->g, &gr))) break;
        const int two = graph_op_inputs(o) > 1;
        s = e->be->run_op_backward(e->ctx, &e->g, i, m, at(p, o->src), two ? at(p, o->src2) : NULL, at(p, o->dst),
                                   p->grad + p->offsets[o->src], two ? p->grad + p->offsets[o->src2] : NULL,
                                   p->grad + p->offsets[o->dst]);
        if (s) pixab_fail_context(s, "%s (backward)", o->name);
    }
    return s ? s : e->be->download(e->ctx, dx, p->grad + p->offsets[in], graph_tensor_floats(&e->g, in) * sizeof(float) * m);
}

pixab_status engine_gradient_batch(pixab_engine *e, int layer, int guided, const float *x, int n,
                                   pixab_seed_batch_fn seed, void *user, float *logits, float *dx) {
    pixab_status s = check_call(e, n, e->max_batch, layer);
    if (!s && guided && !e->be->supports_op(e->ctx, BOP_GUIDED_RELU))
        s = pixab_fail(PIXAB_ERR_UNSUPPORTED, "the %s backend has no guided ReLU backward", e->be->name);
    const unsigned char *run = NULL;
    if (!s) s = head_run(e, layer, &run);
    if (!s && run && (e->keep.layer != layer || n > e->keep.n))
        s = pixab_fail(PIXAB_ERR_ARG, "layer %s: its head also reads tensors that bypass it (a skip connection): "
                                      "gradients there are of the images kept by engine_forward_keep",
                       e->g.layers[layer].name);
    if (s || (s = back_plan(e, layer_end(e, layer), run, n))) return s;
    const int classes = pixab_engine_num_classes(e), chunk = e->back.batch < n ? e->back.batch : n;
    const size_t x_floats = graph_tensor_floats(&e->g, layer_out(e, layer));
    float *dlogits = malloc(sizeof(float) * (size_t)classes * chunk);
    if (!dlogits) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    for (int i0 = 0, m; i0 < n && !s; i0 += m) {
        m = n - i0 < chunk ? n - i0 : chunk;
        s = gradient_chunk(e, layer, guided, i0, m, x + x_floats * i0, seed, user, logits + (size_t)classes * i0,
                           dlogits, dx + x_floats * i0);
    }
    free(dlogits);
    return s;
}

pixab_status pixab_engine_gradient_batch(pixab_engine *e, int layer, const float *x, int n, pixab_seed_batch_fn seed,
                                         void *user, float *logits, float *dx) {
    return engine_gradient_batch(e, layer, 0, x, n, seed, user, logits, dx);
}

/* pixab_engine_gradient's seed, called as a batch seed. */
typedef struct {
    pixab_seed_fn fn;
    void *user;
} single_seed;

static void seed_single(void *user, int image, const float *logits, int classes, float *dlogits) {
    const single_seed *ss = user;
    (void)image;
    ss->fn(ss->user, logits, classes, dlogits);
}

pixab_status pixab_engine_gradient(pixab_engine *e, int layer, const float *x, pixab_seed_fn seed, void *user,
                                   float *logits, float *dx) {
    single_seed ss = {seed, user};
    return pixab_engine_gradient_batch(e, layer, x, 1, seed_single, &ss, logits, dx);
}

void pixab_softmax(float *x, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        float *v = x + (size_t)r * cols, mx = v[0];
        double sum = 0.0;
        for (int c = 1; c < cols; c++) mx = v[c] > mx ? v[c] : mx;
        for (int c = 0; c < cols; c++) sum += v[c] = expf(v[c] - mx);
        for (int c = 0; c < cols; c++) v[c] = (float)(v[c] / sum);
    }
}

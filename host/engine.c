/* engine.c — pixab_engine: a model's graph on one backend. Three memory plans,
 * each allocated once: the body plan (whole graph, the engine's batch), the
 * head plan (ops after a target layer, as many images as a memory budget
 * holds: the methods' ablation batches) and the gradient plan (one image, no
 * memory reuse, with a gradient arena: the backward pass). Public API in
 * pixab.h, the methods' entry points in engine.h. Backends: host/cpu_backend.c,
 * kernels/cuda_backend.cu. */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#ifdef PIXAB_WITH_CUDA
#include "cuda_backend.h"
#endif
#include "error.h"
#include "model.h"

/* Head batches: as many images as fit in this many floats of activations. */
#define HEAD_BUDGET_FLOATS ((size_t)64 << 20) /* 256 MiB */
#define HEAD_MAX_BATCH 4096

typedef struct {
    int first_op, batch;     /* ops [first_op, n_ops) on up to `batch` images */
    float *arena, *grad;     /* backend memory; grad only in the gradient plan */
    float *staging;          /* host memory for generated head inputs when the backend's is not */
    size_t floats;           /* size of arena (and grad) */
    size_t *offsets;         /* (n_tensors) floats into arena (and grad) */
} plan;

struct pixab_engine {
    graph g;                 /* the model's ops and weights; its own copy of the shapes */
    const backend_ops *be;
    void *ctx;
    int max_batch;
    char device[16];
    plan body, head, back;   /* head/back: made on first use for a layer */
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
    free(p->staging);
    free(p->offsets);
    memset(p, 0, sizeof *p);
}

static pixab_status plan_make(pixab_engine *e, plan *p, int first_op, int batch, int with_grad) {
    plan_free(e, p);
    p->first_op = first_op;
    p->batch = batch;
    p->offsets = malloc(sizeof(size_t) * (size_t)e->g.n_tensors);
    size_t floats = p->offsets ? graph_plan_memory(&e->g, batch, first_op, !with_grad, p->offsets) : 0;
    pixab_status s = PIXAB_OK;
    p->floats = floats;
    if (!floats) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory planning activations");
    if (!s) s = e->be->alloc(e->ctx, floats * sizeof(float), (void **)&p->arena);
    if (!s && with_grad) s = e->be->alloc(e->ctx, floats * sizeof(float), (void **)&p->grad);
    if (s) plan_free(e, p);
    return s;
}

pixab_status pixab_engine_create(const pixab_model *m, const char *device, int max_batch, pixab_engine **out) {
    *out = NULL;
    if (max_batch < 1 || max_batch > 1 << 20) return pixab_fail(PIXAB_ERR_ARG, "batch size %d out of range", max_batch);
    const backend_ops *be;
    int index;
    pixab_status s = pick_backend(device, &be, &index);
    if (s) return s;
    pixab_engine *e = calloc(1, sizeof *e);
    if (!e) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    e->g = m->g;
    e->g.tensors = malloc(sizeof(tshape) * (size_t)m->g.n_tensors);
    e->be = be;
    e->max_batch = max_batch;
    snprintf(e->device, sizeof e->device, index < 0 ? "cpu" : "cuda:%d", index);
    if (!e->g.tensors) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
        goto fail;
    }
    memcpy(e->g.tensors, m->g.tensors, sizeof(tshape) * (size_t)m->g.n_tensors);
    if ((s = be->create(&e->g, max_batch, index, &e->ctx)) || (s = plan_make(e, &e->body, 0, max_batch, 0)))
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
        plan_free(e, &e->body);
        plan_free(e, &e->head);
        plan_free(e, &e->back);
        e->be->destroy(e->ctx);
    }
    free(e->g.tensors);
    free(e);
}

const char *pixab_engine_device(const pixab_engine *e) { return e->device; }

const graph *engine_graph(const pixab_engine *e) { return &e->g; }

int engine_max_batch(const pixab_engine *e) { return e->max_batch; }

static float *at(const plan *p, int t) { return p->arena + p->offsets[t]; }

static pixab_status run_ops(pixab_engine *e, const plan *p, int begin, int end, int n) {
    for (int i = begin; i < end; i++) {
        const graph_op *o = &e->g.ops[i];
        pixab_status s = e->be->run_op(e->ctx, &e->g, i, n, at(p, o->src), at(p, o->dst));
        if (s) return pixab_fail_context(s, "%s", o->name);
    }
    return PIXAB_OK;
}

static pixab_status check_call(const pixab_engine *e, int n, int limit, int layer) {
    if (n < 1 || n > limit) return pixab_fail(PIXAB_ERR_ARG, "batch of %d images, the engine holds 1 to %d", n, limit);
    if (layer < -1 || layer >= e->g.n_layers) return pixab_fail(PIXAB_ERR_ARG, "layer index %d out of range", layer);
    return PIXAB_OK;
}

/* Copy between the host and a whole tensor of n images. */
static pixab_status put(pixab_engine *e, const plan *p, int t, const float *src, int n) {
    return e->be->upload(e->ctx, at(p, t), src, graph_tensor_floats(&e->g, t) * (size_t)n * sizeof(float));
}
static pixab_status get(pixab_engine *e, const plan *p, int t, float *dst, int n) {
    return e->be->download(e->ctx, dst, at(p, t), graph_tensor_floats(&e->g, t) * (size_t)n * sizeof(float));
}

/* Tensor holding the output of `layer` (-1: the input image) and the first op after it. */
static int layer_out(const pixab_engine *e, int layer) { return layer < 0 ? 0 : e->g.layers[layer].out; }
static int layer_end(const pixab_engine *e, int layer) { return layer < 0 ? 0 : e->g.layers[layer].end_op; }
static int logits_tensor(const pixab_engine *e) { return e->g.layers[e->g.n_layers - 1].out; }

pixab_status pixab_engine_body(pixab_engine *e, const float *input, int n, int layer, float *act) {
    pixab_status s = check_call(e, n, e->max_batch, layer);
    if (s || (s = put(e, &e->body, 0, input, n)) || (s = run_ops(e, &e->body, 0, layer_end(e, layer), n))) return s;
    return get(e, &e->body, layer_out(e, layer), act, n);
}

pixab_status pixab_engine_head(pixab_engine *e, const float *act, int n, int layer, float *logits) {
    pixab_status s = check_call(e, n, e->max_batch, layer);
    if (s || (s = put(e, &e->body, layer_out(e, layer), act, n)) ||
        (s = run_ops(e, &e->body, layer_end(e, layer), e->g.n_ops, n)))
        return s;
    return get(e, &e->body, logits_tensor(e), logits, n);
}

pixab_status pixab_engine_forward(pixab_engine *e, const float *input, int n, float *logits) {
    return pixab_engine_body(e, input, n, e->g.n_layers - 1, logits);
}

pixab_status engine_head_generated(pixab_engine *e, int layer, int n, engine_fill_fn fill, void *ctx,
                                   float *logits) {
    pixab_status s = check_call(e, n, 1 << 30, layer);
    if (s) return s;
    const int first = layer_end(e, layer), classes = e->g.tensors[logits_tensor(e)].c;
    if (!e->head.arena || e->head.first_op != first) {
        size_t per_image = 0; /* the plan for one image, scaled */
        size_t *off = malloc(sizeof(size_t) * (size_t)e->g.n_tensors);
        if (off) per_image = graph_plan_memory(&e->g, 1, first, 1, off);
        free(off);
        if (!per_image) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory planning the head");
        size_t batch = HEAD_BUDGET_FLOATS / per_image;
        batch = batch < 1 ? 1 : batch > HEAD_MAX_BATCH ? HEAD_MAX_BATCH : batch;
        if ((s = plan_make(e, &e->head, first, (int)batch, 0))) return s;
        size_t in_floats = graph_tensor_floats(&e->g, layer_out(e, layer)) * batch;
        if (!e->be->host_memory && !(e->head.staging = malloc(sizeof(float) * in_floats))) {
            plan_free(e, &e->head);
            return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for a %zu MiB head input", in_floats * 4 >> 20);
        }
    }
    const plan *p = &e->head;
    for (int i0 = 0; i0 < n; i0 += p->batch) {
        int m = n - i0 < p->batch ? n - i0 : p->batch;
        /* Generated straight into the head's input, or staged and uploaded. */
        if (p->staging) {
            fill(ctx, i0, m, p->staging);
            s = put(e, p, layer_out(e, layer), p->staging, m);
        } else {
            fill(ctx, i0, m, at(p, layer_out(e, layer)));
        }
        if (s || (s = run_ops(e, p, first, e->g.n_ops, m)) ||
            (s = get(e, p, logits_tensor(e), logits + (size_t)i0 * classes, m)))
            return s;
    }
    return PIXAB_OK;
}

pixab_status engine_gradient(pixab_engine *e, int layer, const float *x, engine_seed_fn seed, void *ctx,
                             float *logits, float *dx) {
    pixab_status s = check_call(e, 1, 1, layer);
    if (s) return s;
    const int first = layer_end(e, layer), lt = logits_tensor(e), classes = e->g.tensors[lt].c;
    if ((!e->back.arena || e->back.first_op != first) && (s = plan_make(e, &e->back, first, 1, 1))) return s;
    const plan *p = &e->back;
    if ((s = put(e, p, layer_out(e, layer), x, 1)) || (s = run_ops(e, p, first, e->g.n_ops, 1)) ||
        (s = get(e, p, lt, logits, 1)))
        return s;
    float *dlogits = malloc(sizeof(float) * (size_t)classes);
    if (!dlogits) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    seed(ctx, logits, classes, dlogits);
    s = e->be->zero(e->ctx, p->grad, p->floats * sizeof(float));
    if (!s) s = e->be->upload(e->ctx, p->grad + p->offsets[lt], dlogits, sizeof(float) * (size_t)classes);
    free(dlogits);
    for (int i = e->g.n_ops - 1; i >= first && !s; i--) {
        const graph_op *o = &e->g.ops[i];
        s = e->be->run_op_backward(e->ctx, &e->g, i, 1, at(p, o->src), at(p, o->dst), p->grad + p->offsets[o->src],
                                   p->grad + p->offsets[o->dst]);
        if (s) pixab_fail_context(s, "%s (backward)", o->name);
    }
    return s ? s : e->be->download(e->ctx, dx, p->grad + p->offsets[layer_out(e, layer)],
                                   graph_tensor_floats(&e->g, layer_out(e, layer)) * sizeof(float));
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

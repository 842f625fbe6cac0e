/* engine.c — pixab_engine: a model's graph on one backend with its activation
 * arena planned once for the largest batch; runs the whole graph, the body up
 * to a layer, or the head from a layer (public API, pixab.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"
#include "model.h"

struct pixab_engine {
    graph g;                 /* the model's ops and weights; its own copy of the shapes */
    const backend_ops *be;
    void *ctx;
    float *arena;            /* backend memory: every tensor at offsets[t] */
    size_t *offsets;         /* (n_tensors) in floats */
    int max_batch;
    char device[16];
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

/* The backend for a device request. The CUDA forward (cuDNN/cuBLAS) is not
 * part of this build yet: asking for it says so, "auto" falls back to the CPU. */
static pixab_status pick_backend(const char *device, const backend_ops **be, int *index) {
    pixab_status s = parse_device(device, index);
    if (s) return s;
    if (*index == -2) *index = -1;
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
    return pixab_fail(PIXAB_ERR_UNSUPPORTED,
                      "device '%s': the CUDA network backend is not in this version yet; use --device cpu", device);
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
    e->offsets = malloc(sizeof(size_t) * (size_t)m->g.n_tensors);
    e->be = be;
    e->max_batch = max_batch;
    snprintf(e->device, sizeof e->device, index < 0 ? "cpu" : "cuda:%d", index);
    if (!e->g.tensors || !e->offsets) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
        goto fail;
    }
    memcpy(e->g.tensors, m->g.tensors, sizeof(tshape) * (size_t)m->g.n_tensors);
    size_t floats = graph_plan_memory(&e->g, max_batch, e->offsets);
    if (!floats) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory planning activations");
        goto fail;
    }
    if ((s = be->create(&e->g, max_batch, index, &e->ctx)) ||
        (s = be->alloc(e->ctx, floats * sizeof(float), (void **)&e->arena)))
        goto fail;
    *out = e;
    return PIXAB_OK;
fail:
    pixab_engine_destroy(e);
    return s;
}

void pixab_engine_destroy(pixab_engine *e) {
    if (!e) return;
    if (e->arena) e->be->free(e->ctx, e->arena);
    if (e->ctx) e->be->destroy(e->ctx);
    free(e->g.tensors);
    free(e->offsets);
    free(e);
}

const char *pixab_engine_device(const pixab_engine *e) { return e->device; }

static float *tensor_at(pixab_engine *e, int t) { return e->arena + e->offsets[t]; }

static pixab_status run_ops(pixab_engine *e, int begin, int end, int n) {
    for (int i = begin; i < end; i++) {
        const graph_op *o = &e->g.ops[i];
        pixab_status s = e->be->run_op(e->ctx, &e->g, i, n, tensor_at(e, o->src), tensor_at(e, o->dst));
        if (s) return pixab_fail_context(s, "%s", o->name);
    }
    return PIXAB_OK;
}

static pixab_status check_call(const pixab_engine *e, int n, int layer) {
    if (n < 1 || n > e->max_batch)
        return pixab_fail(PIXAB_ERR_ARG, "batch of %d images, the engine holds 1 to %d", n, e->max_batch);
    if (layer < 0 || layer >= e->g.n_layers) return pixab_fail(PIXAB_ERR_ARG, "layer index %d out of range", layer);
    return PIXAB_OK;
}

/* Copy between host and a whole tensor of n images. */
static pixab_status put(pixab_engine *e, int t, const float *src, int n) {
    return e->be->upload(e->ctx, tensor_at(e, t), src, graph_tensor_floats(&e->g, t) * (size_t)n * sizeof(float));
}
static pixab_status get(pixab_engine *e, int t, float *dst, int n) {
    return e->be->download(e->ctx, dst, tensor_at(e, t), graph_tensor_floats(&e->g, t) * (size_t)n * sizeof(float));
}

pixab_status pixab_engine_body(pixab_engine *e, const float *input, int n, int layer, float *act) {
    pixab_status s = check_call(e, n, layer);
    if (s || (s = put(e, 0, input, n)) || (s = run_ops(e, 0, e->g.layers[layer].end_op, n))) return s;
    return get(e, e->g.layers[layer].out, act, n);
}

pixab_status pixab_engine_head(pixab_engine *e, const float *act, int n, int layer, float *logits) {
    pixab_status s = check_call(e, n, layer);
    const graph_layer *last = &e->g.layers[e->g.n_layers - 1];
    if (s || (s = put(e, e->g.layers[layer].out, act, n)) ||
        (s = run_ops(e, e->g.layers[layer].end_op, last->end_op, n)))
        return s;
    return get(e, last->out, logits, n);
}

pixab_status pixab_engine_forward(pixab_engine *e, const float *input, int n, float *logits) {
    return pixab_engine_body(e, input, n, e->g.n_layers - 1, logits);
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

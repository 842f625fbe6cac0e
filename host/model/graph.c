/* graph.c — building the op list, shape inference and the activation memory
 * plan (liveness-based offsets in one arena) for a graph (see graph.h). */
#include "graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eltwise.cuh"
#include "error.h"

static int grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    void *q = realloc(*p, (size_t)ncap * elem);
    if (!q) return -1;
    *p = q;
    *cap = ncap;
    return 0;
}

int graph_add_tensor(graph *g, int channels) {
    if (grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1, sizeof(tshape))) return -1;
    g->tensors[g->n_tensors] = (tshape){channels, 0, 0};
    return g->n_tensors++;
}

size_t graph_op_weights(const graph_op *o) {
    if (o->kind != OP_CONV && o->kind != OP_FC) return 0;
    const int group = o->group > 1 ? o->group : 1;
    return (size_t)o->c_out * (size_t)o->k_h * (size_t)o->k_w * (size_t)(o->c_in / group);
}

int graph_op_inputs(const graph_op *o) { return o->kind == OP_ADD || o->kind == OP_MUL ? 2 : 1; }

int graph_op_is_relu(const graph_op *o) {
    return o->relu || (o->kind == OP_ACT && o->act == NN_ACT_CLIP && o->act_a == 0.0f && isinf(o->act_b) && o->act_b > 0);
}

int graph_conv_is_general(const graph_op *o) {
    return o->kind == OP_CONV && (o->group > 1 || o->d_h > 1 || o->d_w > 1 || o->e_h || o->e_w);
}

size_t graph_reserve_params(graph *g, size_t n) {
    size_t off = (g->n_params + GRAPH_PARAM_ALIGN - 1) / GRAPH_PARAM_ALIGN * GRAPH_PARAM_ALIGN;
    g->n_params = off + n;
    return off;
}

int graph_add_op(graph *g, const graph_op *op) {
    if (grow((void **)&g->ops, &g->cap_ops, g->n_ops + 1, sizeof(graph_op))) return -1;
    graph_op *o = &g->ops[g->n_ops];
    *o = *op;
    if (o->group < 1) o->group = 1;
    if (o->d_h < 1) o->d_h = 1;
    if (o->d_w < 1) o->d_w = 1;
    o->dst_c0 = g->tensors[op->dst].c;
    g->tensors[op->dst].c += op->c_out;
    return g->n_ops++;
}

int graph_add_layer(graph *g, const char *name, int out) {
    if (grow((void **)&g->layers, &g->cap_layers, g->n_layers + 1, sizeof(graph_layer))) return -1;
    graph_layer *l = &g->layers[g->n_layers];
    memset(l, 0, sizeof *l);
    strncpy(l->name, name, sizeof l->name - 1);
    l->end_op = g->n_ops;
    l->out = out;
    return g->n_layers++;
}

void graph_free(graph *g) {
    free(g->ops);
    free(g->tensors);
    free(g->layers);
    free(g->params);
    memset(g, 0, sizeof *g);
}

/* A malloc'd copy of n elements of `size` bytes (NULL when there are none). */
static void *dup_array(const void *src, size_t n, size_t size, int *fail) {
    if (!n || !src) return NULL;
    void *p = malloc(n * size);
    if (p) memcpy(p, src, n * size);
    else *fail = 1;
    return p;
}

pixab_status graph_copy(graph *dst, const graph *src) {
    int fail = 0;
    *dst = *src;
    dst->ops = dup_array(src->ops, (size_t)src->n_ops, sizeof(graph_op), &fail);
    dst->tensors = dup_array(src->tensors, (size_t)src->n_tensors, sizeof(tshape), &fail);
    dst->layers = dup_array(src->layers, (size_t)src->n_layers, sizeof(graph_layer), &fail);
    dst->params = dup_array(src->params, src->n_params + 1, sizeof(float), &fail); /* loaders allocate n + 1 */
    dst->cap_ops = src->n_ops;
    dst->cap_tensors = src->n_tensors;
    dst->cap_layers = src->n_layers;
    if (fail) {
        graph_free(dst);
        return pixab_fail(PIXAB_ERR_NOMEM, "out of memory copying a graph of %zu weights", src->n_params);
    }
    return PIXAB_OK;
}

int graph_layer_begin(const graph *g, int l) { return l > 0 ? g->layers[l - 1].end_op : 0; }

size_t graph_tensor_floats(const graph *g, int t) {
    const tshape *s = &g->tensors[t];
    return (size_t)s->c * (size_t)s->h * (size_t)s->w;
}

/* Output size of a window of extent k: floor((in + p0 + p1 - k) / s) + 1 (or
 * rounded up in ceil mode, PyTorch's way: the last window must start inside
 * the image or its top / left padding), or 0 if it does not fit. */
static int window_out(int in, int k, int s, int p0, int p1, int ceil_mode) {
    int span = in + p0 + p1 - k;
    if (span < 0) return 0;
    int out = (ceil_mode ? span + s - 1 : span) / s + 1;
    if (ceil_mode && (out - 1) * s >= in + p0) out--;
    return out;
}

/* Spatial size of op o's output from its inputs' (h, w: -1 after an error, with why set). */
static void op_out_size(const graph *g, const graph_op *o, int *h, int *w, const char **why) {
    const tshape *x = &g->tensors[o->src];
    *h = x->h, *w = x->w;
    switch (o->kind) {
    case OP_GAP:
    case OP_FC: *h = *w = 1; return;
    case OP_ADD:
    case OP_MUL: {
        const tshape *b = &g->tensors[o->src2];
        const int per_channel = o->kind == OP_MUL && b->h == 1 && b->w == 1;
        if (!per_channel && (b->h != x->h || b->w != x->w)) *h = *w = -1, *why = "inputs of different sizes";
        return;
    }
    case OP_ACT: return;
    case OP_PAD: *h = x->h + 2 * o->p_h + o->e_h, *w = x->w + 2 * o->p_w + o->e_w; return;
    default: break; /* windows */
    }
    const int kh = o->kind == OP_CONV ? o->d_h * (o->k_h - 1) + 1 : o->k_h;
    const int kw = o->kind == OP_CONV ? o->d_w * (o->k_w - 1) + 1 : o->k_w;
    *h = window_out(x->h, kh, o->s_h, o->p_h, o->p_h + o->e_h, o->ceil_mode);
    *w = window_out(x->w, kw, o->s_w, o->p_w, o->p_w + o->e_w, o->ceil_mode);
    if (*h < 1 || *w < 1) *h = *w = -1;
    if (o->flat && (x->h != o->k_h || x->w != o->k_w))
        *h = *w = -1, *why = "flattened features of another size than its weights were made for (the model takes "
                            "one input size)";
}

pixab_status graph_infer_shapes(graph *g, int input_size) {
    if (input_size < 1 || input_size > PIXAB_IMAGE_MAX_SIDE)
        return pixab_fail(PIXAB_ERR_ARG, "input size %d out of range", input_size);
    g->tensors[0].h = g->tensors[0].w = input_size;
    for (int t = 1; t < g->n_tensors; t++) g->tensors[t].h = g->tensors[t].w = -1;
    for (int i = 0; i < g->n_ops; i++) {
        const graph_op *o = &g->ops[i];
        tshape *y = &g->tensors[o->dst];
        const char *why = NULL;
        int h, w;
        op_out_size(g, o, &h, &w, &why);
        if (why) return pixab_fail(PIXAB_ERR_SHAPE, "input size %d: '%s' gets %s", input_size, o->name, why);
        if (h < 1 || w < 1)
            return pixab_fail(PIXAB_ERR_ARG, "input size %d is too small: '%s' would get an empty output",
                              input_size, o->name);
        if (y->h >= 0 && (y->h != h || y->w != w))
            return pixab_fail(PIXAB_ERR_SHAPE, "'%s' writes %dx%d into a %dx%d concatenation", o->name, h, w,
                              y->h, y->w);
        y->h = h;
        y->w = w;
    }
    g->input_size = input_size;
    return PIXAB_OK;
}

size_t graph_plan_memory(const graph *g, int batch, int first_op, int reuse, size_t *offsets) {
    return graph_plan_memory_ops(g, batch, first_op, NULL, reuse, offsets);
}

int graph_head_split(const graph *g, int l, unsigned char *run, int *side, int *side_ready, int *n_side) {
    const int t = g->layers[l].out, first = g->layers[l].end_op;
    *n_side = 0;
    for (int i = 0; i < g->n_ops; i++) run[i] = 0;
    for (int u = 0; u < g->n_tensors; u++) side[u] = 0, side_ready[u] = -1; /* side[]: first a flag per tensor */
    side[t] = 1;                                                               /* depends on the layer */
    for (int i = first; i < g->n_ops; i++) {
        const graph_op *o = &g->ops[i];
        run[i] = side[o->src] == 1 || (graph_op_inputs(o) > 1 && side[o->src2] == 1);
        if (run[i]) side[o->dst] = 1;
    }
    /* 2: written by an op that is not the head's (the body, or a head op that does not depend on the layer) */
    for (int i = 0; i < g->n_ops; i++)
        if (!run[i] && g->ops[i].dst != t) side[g->ops[i].dst] |= 2, side_ready[g->ops[i].dst] = i;
    unsigned char *read = calloc((size_t)g->n_tensors + 1, 1);
    if (!read) return -1;
    for (int i = first; i < g->n_ops; i++)
        if (run[i]) {
            read[g->ops[i].src] = 1;
            if (graph_op_inputs(&g->ops[i]) > 1) read[g->ops[i].src2] = 1;
        }
    int n = 0; /* the list, written over the flags it has read (n <= u) */
    for (int u = 0; u < g->n_tensors; u++)
        if (u != t && read[u] && (u == 0 || (side[u] & 2) || !(side[u] & 1))) side_ready[n] = side_ready[u], side[n++] = u;
    free(read);
    *n_side = n;
    return 0;
}

/* Greedy first-fit over live intervals: tensor t lives from its first writer
 * (or the start, for the inputs of the ops) to its last reader or writer. */
size_t graph_plan_memory_ops(const graph *g, int batch, int first_op, const unsigned char *run, int reuse,
                             size_t *offsets) {
    int n = g->n_tensors;
    int *first = malloc(sizeof(int) * (size_t)n), *last = malloc(sizeof(int) * (size_t)n);
    unsigned char *outside = calloc((size_t)n + 1, 1); /* written by an op that does not run (or the input) */
    size_t total = 0;
    const size_t align = 64; /* floats: 256-byte aligned tensors */
    if (!first || !last || !outside) goto done;
    outside[0] = 1;
    for (int i = 0; i < g->n_ops; i++)
        if (i < first_op || (run && !run[i])) outside[g->ops[i].dst] = 1;
    for (int t = 0; t < n; t++) first[t] = g->n_ops, last[t] = -1;
    for (int i = first_op; i < g->n_ops; i++) {
        const graph_op *o = &g->ops[i];
        if (run && !run[i]) continue;
        for (int k = 0; k < graph_op_inputs(o); k++) {
            const int src = k ? o->src2 : o->src;
            if (outside[src]) first[src] = first_op - 1; /* an input */
            if (i > last[src]) last[src] = i;
        }
        if (i < first[o->dst]) first[o->dst] = i;
        if (i > last[o->dst]) last[o->dst] = i;
    }
    if (!reuse)
        for (int t = 0; t < n; t++)
            if (last[t] >= 0) first[t] = first_op - 1, last[t] = g->n_ops;
    for (int t = 0; t < n; t++) {
        offsets[t] = 0;
        if (last[t] < 0) continue; /* not touched by the range */
        size_t size = (graph_tensor_floats(g, t) * (size_t)batch + align - 1) / align * align;
        /* Lowest offset that overlaps no placed tensor whose life overlaps t's. */
        size_t off = 0;
        for (int moved = 1; moved;) {
            moved = 0;
            for (int u = 0; u < t; u++) {
                if (last[u] < 0 || first[u] > last[t] || first[t] > last[u]) continue;
                size_t usize = (graph_tensor_floats(g, u) * (size_t)batch + align - 1) / align * align;
                if (off < offsets[u] + usize && offsets[u] < off + size) {
                    off = offsets[u] + usize;
                    moved = 1;
                }
            }
        }
        offsets[t] = off;
        if (off + size > total) total = off + size;
    }
done:
    free(first);
    free(last);
    free(outside);
    return total;
}

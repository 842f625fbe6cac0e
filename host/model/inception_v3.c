/* inception_v3.c — builds the torchvision Inception-V3 graph (eval mode, no
 * AuxLogits) from a safetensors checkpoint with torchvision/timm key names.
 * Kernel sizes are fixed by the topology; channel counts come from the
 * checkpoint's shapes, so reduced-width checkpoints load with the same code.
 * BatchNorm (eps 1e-3) is folded into each convolution's weight and bias. */
#include "inception_v3.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define BN_EPS 1e-3

typedef struct {
    graph *g;
    const safetensors *st;
    pixab_status err;
} builder;

static int tensor(builder *b) {
    if (b->err) return -1;
    int t = graph_add_tensor(b->g, 0);
    if (t < 0) b->err = pixab_fail(PIXAB_ERR_NOMEM, "out of memory building the graph");
    return t;
}

static void add_op(builder *b, graph_op *op, const char *name) {
    snprintf(op->name, sizeof op->name, "%s", name);
    if (graph_add_op(b->g, op) < 0) b->err = pixab_fail(PIXAB_ERR_NOMEM, "out of memory building the graph");
}

static const st_tensor *get(builder *b, const char *prefix, const char *suffix, int ndim, const int64_t *shape) {
    char key[128];
    const st_tensor *t = NULL;
    snprintf(key, sizeof key, "%s%s", prefix, suffix);
    if (!b->err) b->err = safetensors_get(b->st, key, ndim, shape, &t);
    return b->err ? NULL : t;
}

/* BasicConv2d `prefix`: conv (bias=False) -> BN -> ReLU, written into dst. */
static void conv(builder *b, const char *prefix, int src, int dst, int kh, int kw, int stride, int ph, int pw) {
    if (b->err) return;
    int cin = b->g->tensors[src].c;
    const st_tensor *w = get(b, prefix, ".conv.weight", 4, (int64_t[]){-1, cin, kh, kw});
    if (!w) return;
    int64_t cout = w->shape[0];
    if (cout < 1 || cout > 65536) {
        b->err = pixab_fail(PIXAB_ERR_SHAPE, "tensor '%s.conv.weight' has %lld output channels", prefix,
                            (long long)cout);
        return;
    }
    static const char *bn[] = {".bn.weight", ".bn.bias", ".bn.running_mean", ".bn.running_var"};
    for (int i = 0; i < 4; i++) get(b, prefix, bn[i], 1, (int64_t[]){cout});
    if (b->err) return;
    graph_op op = {.kind = OP_CONV, .src = src, .dst = dst, .c_in = cin, .c_out = (int)cout, .k_h = kh,
                   .k_w = kw, .s_h = stride, .s_w = stride, .p_h = ph, .p_w = pw, .relu = 1};
    op.w_off = graph_reserve_params(b->g, (size_t)cout * (size_t)(kh * kw) * (size_t)cin);
    op.b_off = graph_reserve_params(b->g, (size_t)cout);
    add_op(b, &op, prefix);
}

static void pool(builder *b, op_kind kind, const char *name, int src, int dst, int k, int stride, int pad) {
    if (b->err) return;
    int c = b->g->tensors[src].c;
    graph_op op = {.kind = kind, .src = src, .dst = dst, .c_in = c, .c_out = c, .k_h = k, .k_w = k,
                   .s_h = stride, .s_w = stride, .p_h = pad, .p_w = pad};
    add_op(b, &op, name);
}

static void layer(builder *b, const char *name, int out) {
    if (!b->err && graph_add_layer(b->g, name, out) < 0)
        b->err = pixab_fail(PIXAB_ERR_NOMEM, "out of memory building the graph");
}

/* Prefix helper: "Mixed_5b" + ".branch1x1". */
#define P(s) (snprintf(key, sizeof key, "%s.%s", m, s), key)

static int block_a(builder *b, const char *m, int in) {
    char key[96];
    int out = tensor(b), t1 = tensor(b), t2 = tensor(b), t3 = tensor(b), tp = tensor(b);
    conv(b, P("branch1x1"), in, out, 1, 1, 1, 0, 0);
    conv(b, P("branch5x5_1"), in, t1, 1, 1, 1, 0, 0);
    conv(b, P("branch5x5_2"), t1, out, 5, 5, 1, 2, 2);
    conv(b, P("branch3x3dbl_1"), in, t2, 1, 1, 1, 0, 0);
    conv(b, P("branch3x3dbl_2"), t2, t3, 3, 3, 1, 1, 1);
    conv(b, P("branch3x3dbl_3"), t3, out, 3, 3, 1, 1, 1);
    pool(b, OP_AVGPOOL, P("avg_pool"), in, tp, 3, 1, 1);
    conv(b, P("branch_pool"), tp, out, 1, 1, 1, 0, 0);
    return out;
}

static int block_b(builder *b, const char *m, int in) {
    char key[96];
    int out = tensor(b), t1 = tensor(b), t2 = tensor(b);
    conv(b, P("branch3x3"), in, out, 3, 3, 2, 0, 0);
    conv(b, P("branch3x3dbl_1"), in, t1, 1, 1, 1, 0, 0);
    conv(b, P("branch3x3dbl_2"), t1, t2, 3, 3, 1, 1, 1);
    conv(b, P("branch3x3dbl_3"), t2, out, 3, 3, 2, 0, 0);
    pool(b, OP_MAXPOOL, P("max_pool"), in, out, 3, 2, 0);
    return out;
}

static int block_c(builder *b, const char *m, int in) {
    char key[96];
    int out = tensor(b), t[6], tp;
    for (int i = 0; i < 6; i++) t[i] = tensor(b);
    tp = tensor(b);
    conv(b, P("branch1x1"), in, out, 1, 1, 1, 0, 0);
    conv(b, P("branch7x7_1"), in, t[0], 1, 1, 1, 0, 0);
    conv(b, P("branch7x7_2"), t[0], t[1], 1, 7, 1, 0, 3);
    conv(b, P("branch7x7_3"), t[1], out, 7, 1, 1, 3, 0);
    conv(b, P("branch7x7dbl_1"), in, t[2], 1, 1, 1, 0, 0);
    conv(b, P("branch7x7dbl_2"), t[2], t[3], 7, 1, 1, 3, 0);
    conv(b, P("branch7x7dbl_3"), t[3], t[4], 1, 7, 1, 0, 3);
    conv(b, P("branch7x7dbl_4"), t[4], t[5], 7, 1, 1, 3, 0);
    conv(b, P("branch7x7dbl_5"), t[5], out, 1, 7, 1, 0, 3);
    pool(b, OP_AVGPOOL, P("avg_pool"), in, tp, 3, 1, 1);
    conv(b, P("branch_pool"), tp, out, 1, 1, 1, 0, 0);
    return out;
}

static int block_d(builder *b, const char *m, int in) {
    char key[96];
    int out = tensor(b), t1 = tensor(b), t2 = tensor(b), t3 = tensor(b), t4 = tensor(b);
    conv(b, P("branch3x3_1"), in, t1, 1, 1, 1, 0, 0);
    conv(b, P("branch3x3_2"), t1, out, 3, 3, 2, 0, 0);
    conv(b, P("branch7x7x3_1"), in, t2, 1, 1, 1, 0, 0);
    conv(b, P("branch7x7x3_2"), t2, t3, 1, 7, 1, 0, 3);
    conv(b, P("branch7x7x3_3"), t3, t4, 7, 1, 1, 3, 0);
    conv(b, P("branch7x7x3_4"), t4, out, 3, 3, 2, 0, 0);
    pool(b, OP_MAXPOOL, P("max_pool"), in, out, 3, 2, 0);
    return out;
}

static int block_e(builder *b, const char *m, int in) {
    char key[96];
    int out = tensor(b), t1 = tensor(b), t2 = tensor(b), t3 = tensor(b), tp = tensor(b);
    conv(b, P("branch1x1"), in, out, 1, 1, 1, 0, 0);
    conv(b, P("branch3x3_1"), in, t1, 1, 1, 1, 0, 0);
    conv(b, P("branch3x3_2a"), t1, out, 1, 3, 1, 0, 1);
    conv(b, P("branch3x3_2b"), t1, out, 3, 1, 1, 1, 0);
    conv(b, P("branch3x3dbl_1"), in, t2, 1, 1, 1, 0, 0);
    conv(b, P("branch3x3dbl_2"), t2, t3, 3, 3, 1, 1, 1);
    conv(b, P("branch3x3dbl_3a"), t3, out, 1, 3, 1, 0, 1);
    conv(b, P("branch3x3dbl_3b"), t3, out, 3, 1, 1, 1, 0);
    pool(b, OP_AVGPOOL, P("avg_pool"), in, tp, 3, 1, 1);
    conv(b, P("branch_pool"), tp, out, 1, 1, 1, 0, 0);
    return out;
}
#undef P

/* Pass 1: the ops, with every shape checked against the checkpoint. */
static void build_topology(builder *b) {
    static const struct { const char *name; int (*make)(builder *, const char *, int); } blocks[] = {
        {"Mixed_5b", block_a}, {"Mixed_5c", block_a}, {"Mixed_5d", block_a}, {"Mixed_6a", block_b},
        {"Mixed_6b", block_c}, {"Mixed_6c", block_c}, {"Mixed_6d", block_c}, {"Mixed_6e", block_c},
        {"Mixed_7a", block_d}, {"Mixed_7b", block_e}, {"Mixed_7c", block_e},
    };
    int x = graph_add_tensor(b->g, 3); /* tensor 0: the image */
    if (x != 0) {
        b->err = pixab_fail(PIXAB_ERR_NOMEM, "out of memory building the graph");
        return;
    }
    static const struct { const char *name; int k, stride, pad; } stem[] = {
        {"Conv2d_1a_3x3", 3, 2, 0}, {"Conv2d_2a_3x3", 3, 1, 0}, {"Conv2d_2b_3x3", 3, 1, 1},
        {"maxpool1", 3, 2, 0},      {"Conv2d_3b_1x1", 1, 1, 0}, {"Conv2d_4a_3x3", 3, 1, 0},
        {"maxpool2", 3, 2, 0},
    };
    for (size_t i = 0; i < sizeof stem / sizeof stem[0]; i++) {
        int y = tensor(b);
        if (!strncmp(stem[i].name, "maxpool", 7))
            pool(b, OP_MAXPOOL, stem[i].name, x, y, stem[i].k, stem[i].stride, stem[i].pad);
        else
            conv(b, stem[i].name, x, y, stem[i].k, stem[i].k, stem[i].stride, stem[i].pad, stem[i].pad);
        layer(b, stem[i].name, y);
        x = y;
    }
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        x = blocks[i].make(b, blocks[i].name, x);
        layer(b, blocks[i].name, x);
    }
    b->g->default_layer = b->g->n_layers - 1; /* Mixed_7c */
    int pooled = tensor(b);
    pool(b, OP_GAP, "avgpool", x, pooled, 1, 1, 0);
    layer(b, "avgpool", pooled);
    if (b->err) return;
    int c = b->g->tensors[pooled].c;
    const st_tensor *w = get(b, "fc", ".weight", 2, (int64_t[]){-1, c});
    if (!w) return;
    int64_t classes = w->shape[0];
    if (classes < 1 || classes > 1000000) {
        b->err = pixab_fail(PIXAB_ERR_SHAPE, "tensor 'fc.weight' has %lld classes", (long long)classes);
        return;
    }
    get(b, "fc", ".bias", 1, (int64_t[]){classes});
    int logits = tensor(b);
    if (b->err) return;
    graph_op fc = {.kind = OP_FC, .src = pooled, .dst = logits, .c_in = c, .c_out = (int)classes,
                   .k_h = 1, .k_w = 1, .s_h = 1, .s_w = 1};
    fc.w_off = graph_reserve_params(b->g, (size_t)classes * (size_t)c);
    fc.b_off = graph_reserve_params(b->g, (size_t)classes);
    add_op(b, &fc, "fc");
    layer(b, "fc", logits);
}

/* Tensor prefix + suffix as float32 into out; a NaN or an infinity anywhere
 * in it is an error naming the tensor (it would poison every map). */
static pixab_status read_f32(const safetensors *st, const char *prefix, const char *suffix, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s%s", prefix, suffix);
    const st_tensor *t = safetensors_find(st, key);
    pixab_status s = safetensors_to_f32(t, out); /* present and shaped: checked in pass 1 */
    const int64_t n = s ? 0 : safetensors_numel(t);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(out[i]))
            return pixab_fail(PIXAB_ERR_FORMAT, "tensor '%s' holds a non-finite value (%s at index %lld)", key,
                              isnan(out[i]) ? "NaN" : out[i] > 0 ? "+inf" : "-inf", (long long)i);
    return s;
}

/* Pass 2: read, fold BN and reorder (cout, cin, kh, kw) -> (cout, kh, kw, cin). */
static pixab_status load_params(graph *g, const safetensors *st) {
    size_t max_w = 0;
    for (int i = 0; i < g->n_ops; i++) {
        size_t n = graph_op_weights(&g->ops[i]);
        if (n > max_w) max_w = n;
    }
    float *tmp = malloc(sizeof(float) * (max_w + 1)), *bn = NULL;
    g->params = calloc(g->n_params + 1, sizeof(float)); /* the alignment gaps stay zero */
    pixab_status s = PIXAB_OK;
    if (!tmp || !g->params) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %zu weights", g->n_params);
        goto done;
    }
    for (int i = 0; i < g->n_ops && !s; i++) {
        const graph_op *o = &g->ops[i];
        float *w = g->params + o->w_off, *bias = g->params + o->b_off;
        if (o->kind == OP_FC) {
            if (!(s = read_f32(st, "fc", ".weight", w))) s = read_f32(st, "fc", ".bias", bias);
            continue;
        }
        if (o->kind != OP_CONV) continue;
        free(bn);
        if (!(bn = malloc(sizeof(float) * 4 * (size_t)o->c_out))) {
            s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory reading '%s'", o->name);
            break;
        }
        float *gamma = bn, *beta = bn + o->c_out, *mean = bn + 2 * o->c_out, *var = bn + 3 * o->c_out;
        if ((s = read_f32(st, o->name, ".conv.weight", tmp)) || (s = read_f32(st, o->name, ".bn.weight", gamma)) ||
            (s = read_f32(st, o->name, ".bn.bias", beta)) || (s = read_f32(st, o->name, ".bn.running_mean", mean)) ||
            (s = read_f32(st, o->name, ".bn.running_var", var)))
            break;
        int kk = o->k_h * o->k_w;
        for (int co = 0; co < o->c_out && !s; co++) {
            if (!(var[co] >= 0.0f)) {
                s = pixab_fail(PIXAB_ERR_FORMAT, "tensor '%s.bn.running_var' has a negative or NaN entry",
                               o->name);
                break;
            }
            double scale = (double)gamma[co] / sqrt((double)var[co] + BN_EPS);
            bias[co] = (float)((double)beta[co] - (double)mean[co] * scale);
            for (int ci = 0; ci < o->c_in; ci++)
                for (int k = 0; k < kk; k++)
                    w[((size_t)co * kk + k) * o->c_in + ci] =
                        (float)((double)tmp[((size_t)co * o->c_in + ci) * kk + k] * scale);
        }
    }
done:
    free(tmp);
    free(bn);
    return s;
}

pixab_status inception_v3_build(const safetensors *st, graph *g) {
    memset(g, 0, sizeof *g);
    builder b = {.g = g, .st = st};
    build_topology(&b);
    pixab_status s = b.err ? b.err : load_params(g, st);
    if (s) graph_free(g);
    return s;
}
